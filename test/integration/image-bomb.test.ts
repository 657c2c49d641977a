/**
 * Issue 10, item 8: a decompression bomb in an image folder (a 17.5 KB PNG that declares
 * 12000x12000 pixels took the CLI to 1.1 GiB) is skipped from its header, before decoding, with a
 * note; the CLI trains on the rest within a bounded address space. And a one-class image folder
 * gets the note a one-class CSV gets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { loadImageFolder } from '../../engine/data/images.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-bomb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A valid 1-bit greyscale PNG of w x h black pixels: a few KB of zlib for w*h pixels. */
function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1; // bit depth 1, colour type 0 (grey), deflate, no filter method, no interlace
  const raw = Buffer.alloc((Math.ceil(w / 8) + 1) * h); // filter byte 0 + zero bits, row after row
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A real 8x8 JPEG whose SOF0 header is then made to declare w x h. */
function bombJpeg(w: number, h: number): Buffer {
  const data = Buffer.alloc(8 * 8 * 4, 128);
  const bytes = Buffer.from(jpeg.encode({ width: 8, height: 8, data }, 90).data);
  for (let i = 2; i < bytes.length; ) {
    const marker = bytes[i + 1];
    if (marker === 0xc0) {
      bytes.writeUInt16BE(h, i + 5);
      bytes.writeUInt16BE(w, i + 7);
      return bytes;
    }
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  throw new Error('no SOF0 in the encoded JPEG');
}

function smallPng(v: number, side = 28): Buffer {
  const img = new pngjs.PNG({ width: side, height: side });
  for (let i = 0; i < img.data.length; i += 4) img.data.set([v, v, v, 255], i);
  return pngjs.PNG.sync.write(img);
}

function folder(name: string, files: Record<string, Buffer>): string {
  const root = join(tmp, name);
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return root;
}

let shapes: string;
beforeAllOrFail(() => {
  const files: Record<string, Buffer> = { 'a/bomb.png': bombPng(12000, 12000), 'b/bomb.jpg': bombJpeg(12000, 12000) };
  for (let i = 0; i < 20; i++) {
    files[`a/s${String(i).padStart(2, '0')}.png`] = smallPng(10 + i);
    files[`b/s${String(i).padStart(2, '0')}.png`] = smallPng(240 - i);
  }
  shapes = folder('shapes', files);
  expect(files['a/bomb.png'].length).toBeLessThan(20_000);
});

describe('an image that declares too many pixels', () => {
  it('is skipped from its header with a note naming it and its size (PNG and JPEG)', async () => {
    const ds = await loadImageFolder(shapes, { mode: 'grey' });
    expect(ds.train.count).toBe(40);
    expect(ds.files.train).not.toContain(join('a', 'bomb.png'));
    const notes = ds.notes.join('\n');
    expect(notes).toMatch(/Skipped 2 image\(s\) of more than 33,554,432 pixels/);
    expect(notes).toContain(`${join('a', 'bomb.png')} (12000x12000)`);
    expect(notes).toContain(`${join('b', 'bomb.jpg')} (12000x12000)`);
  });

  it('the CLI trains on the rest within a 1.5 GiB address space (decoding it would take 1.1 GiB)', () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
    const r = spawnSync('prlimit', [`--as=${1536 * 1024 * 1024}`, process.execPath, CLI, 'train', QUICKSTART, '--image-folder', shapes, '--epochs', '1', '--threads', '1'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/error|Fatal/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/note: Skipped 2 image\(s\) of more than 33,554,432 pixels/);
    expect(r.stdout).toContain('Done!');
  });
});

describe('a one-class image folder', () => {
  it('gets the note a one-class CSV gets', async () => {
    const root = folder('one', { 'only/x.png': smallPng(1, 8), 'only/y.png': smallPng(2, 8) });
    const ds = await loadImageFolder(root, { mode: 'grey' });
    expect(ds.notes).toContain(`The image folder ${root} has only one class ("only"); a classifier cannot learn anything from it.`);
  });
});
