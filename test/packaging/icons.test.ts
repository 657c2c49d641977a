/**
 * The committed icon files are what assets/make-icons.ts draws (regenerate with `npm run icons`), and
 * their containers are well formed: electron-builder takes .ico/.icns as they are (it only converts
 * PNG or SVG, with a toolset downloaded from GitHub), so a broken file would reach the installers.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ICNS_ENTRIES, ICO_SIZES, iconFiles, PNG_SIZES, renderIcon } from '../../assets/make-icons.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (rel: string) => readFileSync(path.join(repo, rel));
/** Pixels, not bytes: deflate output may differ between zlib versions. */
const pixels = (png: Buffer) => {
  const p = pngjs.PNG.sync.read(png);
  return { width: p.width, height: p.height, data: Buffer.from(p.data) };
};

describe('app icons', () => {
  it('the committed files hold the pixels the generator draws (run `npm run icons` after changing it)', () => {
    for (const rel of iconFiles().keys()) {
      if (!rel.endsWith('.png')) continue;
      const size = Number(path.basename(rel).split('x')[0]);
      expect(pixels(read(rel)).data.equals(Buffer.from(renderIcon(size).data)), rel).toBe(true);
    }
    expect(PNG_SIZES.at(-1)).toBe(1024);
  });

  it('icon.ico: PNG entries 16..256 px, each matching the generator', () => {
    const ico = read(path.join('assets', 'icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, ICO_SIZES.length]);
    ICO_SIZES.forEach((size, i) => {
      const e = 6 + 16 * i;
      expect(ico[e] || 256).toBe(size);
      const png = ico.subarray(ico.readUInt32LE(e + 12), ico.readUInt32LE(e + 12) + ico.readUInt32LE(e + 8));
      const p = pixels(Buffer.from(png));
      expect([p.width, p.height]).toEqual([size, size]);
      expect(p.data.equals(Buffer.from(renderIcon(size).data))).toBe(true);
    });
  });

  it('icon.icns: the length fields chain to the end, each entry a PNG of its type\'s size', () => {
    const icns = read(path.join('assets', 'icon.icns'));
    expect(icns.toString('ascii', 0, 4)).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const seen: [string, number][] = [];
    for (let at = 8; at < icns.length; ) {
      const type = icns.toString('ascii', at, at + 4);
      const len = icns.readUInt32BE(at + 4);
      const p = pixels(Buffer.from(icns.subarray(at + 8, at + len)));
      seen.push([type, p.width]);
      at += len;
      expect(at).toBeLessThanOrEqual(icns.length);
    }
    expect(seen).toEqual(ICNS_ENTRIES.map(([t, s]) => [t, s]));
  });
});
