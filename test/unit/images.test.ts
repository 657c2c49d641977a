import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, imageDimensions, loadImageFolder, luma, resizeBilinear, type ImageFolderOptions } from '../../engine/data/images.js';
import { NetloomError } from '../../engine/errors.js';
import { netloomRejection } from '../support/rejection.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-images-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Rgb = [number, number, number];

/** RGBA bytes of a w x h image whose pixel (x, y) is f(x, y). */
function pixels(w: number, h: number, f: (x: number, y: number) => Rgb): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      data.set([r, g, b, 255], (y * w + x) * 4);
    }
  }
  return data;
}

function png(w: number, h: number, f: (x: number, y: number) => Rgb): Buffer {
  const img = new pngjs.PNG({ width: w, height: h });
  pixels(w, h, f).copy(img.data);
  return pngjs.PNG.sync.write(img);
}

function jpg(w: number, h: number, f: (x: number, y: number) => Rgb): Buffer {
  return jpeg.encode({ width: w, height: h, data: pixels(w, h, f) }, 100).data;
}

function folder(name: string, files: Record<string, Buffer | null>): string {
  const root = path.join(tmp, name);
  for (const [rel, bytes] of Object.entries(files)) {
    const full = path.join(root, rel);
    if (bytes === null) {
      mkdirSync(full, { recursive: true });
    } else {
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, bytes);
    }
  }
  return root;
}

const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];
const OLIVE: Rgb = [10, 200, 30];
const flat = (c: Rgb) => () => c;
const gradient = (x: number): Rgb => [x * 20, x * 20, x * 20];

/**
 * Two classes x 3 images. "dog" sorts after "Cat" (code point order, as Python's sorted()).
 * Cat: a.png 5x7 red, b.png 10x10 grey gradient along x (0, 20, ..., 180), c.jpg 10x10 green.
 * dog: sub/z.png 5x7 blue (found recursively, after the top folder's files), x.png 10x10 olive, y.jpeg 5x7 white.
 */
const twoClasses = () =>
  folder('two', {
    'Cat/a.png': png(5, 7, flat(RED)),
    'Cat/b.png': png(10, 10, gradient),
    'Cat/c.jpg': jpg(10, 10, flat(GREEN)),
    'dog/x.png': png(10, 10, flat(OLIVE)),
    'dog/y.jpeg': jpg(5, 7, flat([255, 255, 255])),
    'dog/sub/z.png': png(5, 7, flat(BLUE)),
    'dog/notes.txt': Buffer.from('not an image'),
  });

const grey5: ImageFolderOptions = { mode: 'grey', size: [5, 5] };

function failure(root: string, opts: ImageFolderOptions): Promise<NetloomError> {
  return netloomRejection(loadImageFolder(root, opts));
}

describe('luma (PIL convert("L"))', () => {
  it('is BT.601 rounded as Pillow computes it', () => {
    // R*299/1000 + G*587/1000 + B*114/1000: 76.245 -> 76, 149.685 -> 150, 29.07 -> 29, 123.81 -> 124.
    expect([luma(...RED), luma(...GREEN), luma(...BLUE), luma(...OLIVE), luma(1, 2, 3)]).toEqual([76, 150, 29, 124, 2]);
    for (let g = 0; g < 256; g++) expect(luma(g, g, g)).toBe(g);
  });
});

describe('resizeBilinear (PIL resize BILINEAR)', () => {
  it('matches a hand computation when halving: weights 3/7,3/7,1/7 at the edges, 1/8,3/8,3/8,1/8 inside', () => {
    const src = Uint8Array.from({ length: 100 }, (_, i) => (i % 10) * 20);
    const out = resizeBilinear(src, 1, 10, 10, 5, 5);
    // (0*3 + 20*3 + 40)/7 = 14.29 -> 14; (20 + 40*3 + 60*3 + 80)/8 = 50; (140 + 160*3 + 180*3)/7 = 165.7 -> 166.
    for (let y = 0; y < 5; y++) expect(Array.from(out.subarray(y * 5, y * 5 + 5))).toEqual([14, 50, 90, 130, 166]);
  });

  // Reference outputs of Pillow 12.3.0: Image.new('L', (5, 7)) with pixel (x, y) = (5y + x) * 7, .resize((w, h), BILINEAR).
  const src57 = Uint8Array.from({ length: 35 }, (_, i) => i * 7);
  it('matches Pillow when shrinking one side and growing the other', () => {
    const out = resizeBilinear(src57, 1, 5, 7, 8, 3);
    expect(Array.from(out)).toEqual([
      30, 33, 37, 42, 46, 51, 55, 58, 105, 108, 112, 117, 121, 126, 130, 133, 180, 183, 187, 192, 196, 201, 205, 208,
    ]);
  });

  it('matches Pillow when upscaling', () => {
    const out = resizeBilinear(src57, 1, 5, 7, 12, 9);
    expect(Array.from(out.subarray(0, 12))).toEqual([0, 1, 4, 7, 10, 13, 15, 18, 21, 24, 27, 28]);
    expect(Array.from(out.subarray(4 * 12, 5 * 12))).toEqual([105, 106, 109, 112, 115, 118, 120, 123, 126, 129, 132, 133]);
    expect(Array.from(out.subarray(8 * 12))).toEqual([210, 211, 214, 217, 220, 223, 225, 228, 231, 234, 237, 238]);
  });

  it('resizes each channel of a CHW image independently and copies when the size is unchanged', () => {
    const chw = new Uint8Array(3 * 100);
    chw.set(Uint8Array.from({ length: 100 }, (_, i) => (i % 10) * 20), 100); // only G varies
    const out = resizeBilinear(chw, 3, 10, 10, 5, 5);
    expect(Array.from(out.subarray(0, 25)).every((v) => v === 0)).toBe(true);
    expect(Array.from(out.subarray(25, 30))).toEqual([14, 50, 90, 130, 166]);
    const same = resizeBilinear(src57, 1, 5, 7, 5, 7);
    expect(Array.from(same)).toEqual(Array.from(src57));
    expect(same).not.toBe(src57);
  });
});

describe('loadImageFolder', () => {
  it('reads classes in sorted order, images recursively, as grey 1x5x5 samples', async () => {
    const root = twoClasses();
    const progress: [number, number][] = [];
    const ds = await loadImageFolder(root, { ...grey5, onProgress: (d, t) => progress.push([d, t]) });
    expect(ds.kind).toBe('image-folder');
    expect(ds.title).toBe('two');
    expect(ds.source).toBe(root);
    expect(ds.classes).toEqual(['Cat', 'dog']);
    expect(ds.sampleShape).toEqual([1, 5, 5]);
    expect(ds.train.count).toBe(6);
    expect(ds.train.images.length).toBe(6 * 25);
    expect(Array.from(ds.train.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    // os.walk order: files of dog/ (sorted) before those of dog/sub/.
    expect(ds.files.train).toEqual([
      path.join('Cat', 'a.png'),
      path.join('Cat', 'b.png'),
      path.join('Cat', 'c.jpg'),
      path.join('dog', 'x.png'),
      path.join('dog', 'y.jpeg'),
      path.join('dog', 'sub', 'z.png'),
    ]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6].map((d) => [d, 6]));
    const sample = (i: number) => Array.from(ds.train.images.subarray(i * 25, (i + 1) * 25));
    expect(sample(0)).toEqual(new Array(25).fill(76)); // red 5x7 -> 5x5 stays flat
    expect(sample(1).slice(0, 5)).toEqual([14, 50, 90, 130, 166]); // the hand-computed halving
    expect(sample(1).slice(20)).toEqual([14, 50, 90, 130, 166]);
    for (const v of sample(2)) expect(Math.abs(v - 150)).toBeLessThanOrEqual(2); // JPEG green: lossy
    expect(sample(3)).toEqual(new Array(25).fill(124)); // olive
    for (const v of sample(4)) expect(v).toBeGreaterThanOrEqual(253); // JPEG white
    expect(sample(5)).toEqual(new Array(25).fill(29)); // blue
    expect(ds.validation).toBeUndefined();
    expect(ds.notes).toEqual([]);
  });

  it('keeps three planes in RGB mode (CHW)', async () => {
    const ds = await loadImageFolder(twoClasses(), { mode: 'rgb', size: [4, 6] });
    expect(ds.sampleShape).toEqual([3, 4, 6]);
    expect(ds.train.images.length).toBe(6 * 72);
    const red = ds.train.images.subarray(0, 72);
    expect(Array.from(red.subarray(0, 24)).every((v) => v === 255)).toBe(true);
    expect(Array.from(red.subarray(24)).every((v) => v === 0)).toBe(true);
    const olive = ds.train.images.subarray(3 * 72, 4 * 72);
    expect([olive[0], olive[24], olive[48]]).toEqual(OLIVE);
  });

  it('keeps the original size when all images share it, and refuses mixed sizes without a size', async () => {
    const same = folder('same', { 'a/1.png': png(5, 7, flat(RED)), 'b/1.png': png(5, 7, flat(BLUE)) });
    const ds = await loadImageFolder(same, { mode: 'grey' });
    expect(ds.sampleShape).toEqual([1, 7, 5]);
    const e = await failure(twoClasses(), { mode: 'grey' });
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toBe(`${path.join(tmp, 'two', 'Cat', 'b.png')} is 10x10 pixels but ${path.join('Cat', 'a.png')} is 5x7; images of one dataset must have one size`);
    expect(e.hint).toMatch(/Set an image size/);
  });

  it('fails on an empty class folder, naming it', async () => {
    const root = folder('empty-class', { 'a/1.png': png(5, 7, flat(RED)), 'b/readme.txt': Buffer.from('x'), 'c': null });
    const e = await failure(root, grey5);
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toBe(`Class folders "b", "c" in ${root} hold no PNG or JPEG images`);
    expect(e.hint).toMatch(/Every class needs at least one image/);
  });

  it('fails on a corrupt file with its path, or skips it with skipBad', async () => {
    const good = png(5, 7, flat(RED));
    const root = folder('corrupt', {
      'a/1.png': good,
      'a/2.png': good.subarray(0, 40), // truncated
      'a/3.jpg': Buffer.from('hello, not a jpeg'),
      'b/1.png': png(5, 7, flat(BLUE)),
    });
    const e = await failure(root, grey5);
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(new RegExp(`^${escape(path.join(root, 'a', '2.png'))}: cannot decode this PNG file \\(.+\\)$`));
    expect(e.hint).toMatch(/damaged or incomplete.*skip unreadable images/);

    const ds = await loadImageFolder(root, { ...grey5, skipBad: true });
    expect(ds.train.count).toBe(2);
    expect(Array.from(ds.train.labels)).toEqual([0, 1]);
    expect(ds.notes[0]).toBe('Skipped 2 unreadable image(s):');
    expect(ds.notes[1]).toMatch(/^ {2}a[/\\]2\.png \(cannot decode this PNG file/);
    expect(ds.notes[2]).toMatch(/^ {2}a[/\\]3\.jpg \(not a PNG or JPEG image \(it starts with bytes 68 65 6c 6c 6f 2c 20 6e\)\)$/);
  });

  it('fails when skipping leaves a class empty', async () => {
    const root = folder('all-bad', { 'a/1.png': png(5, 7, flat(RED)), 'b/1.jpg': Buffer.from([0xff, 0xd8, 0xff, 0, 1]) });
    const e = await failure(root, { ...grey5, skipBad: true });
    expect(e.message).toBe(`No readable images left in class folder(s) "b" of ${root} after skipping 1 unreadable file(s)`);
  });

  it('explains a root without class folders and a missing root', async () => {
    const flatRoot = folder('loose', { '1.png': png(5, 7, flat(RED)) });
    const e = await failure(flatRoot, grey5);
    expect(e.message).toBe(`No class folders in ${flatRoot} (it holds 1 image(s) directly)`);
    expect(e.hint).toMatch(/<root>\/<class>\/<image>/);
    const missing = await failure(path.join(tmp, 'nowhere'), grey5);
    expect(missing.code).toBe('NL_DATASET_MISSING');
  });

  it('skips hidden folders and files and other formats, saying so', async () => {
    const root = folder('hidden', {
      'a/1.png': png(5, 7, flat(RED)),
      'a/._1.png': Buffer.from('resource fork'),
      'a/2.bmp': Buffer.from('BM'),
      'b/1.png': png(5, 7, flat(BLUE)),
      '.ipynb_checkpoints/x.png': png(5, 7, flat(GREEN)),
    });
    const ds = await loadImageFolder(root, grey5);
    expect(ds.classes).toEqual(['a', 'b']);
    expect(ds.train.count).toBe(2);
    expect(ds.notes.join('\n')).toMatch(/Ignored hidden folder\(s\) ".ipynb_checkpoints"/);
    expect(ds.notes.join('\n')).toMatch(/formats Netloom does not read yet \(1 \.bmp\)/);
    expect(ds.notes.join('\n')).toMatch(/Skipped 1 hidden file/);
  });

  it('splits off a stratified validation set with its file names', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) files[`a/${i}.png`] = png(5, 7, flat([i, i, i]));
    for (let i = 0; i < 4; i++) files[`b/${i}.png`] = png(5, 7, flat([100 + i, 100 + i, 100 + i]));
    const ds = await loadImageFolder(folder('split', files), { mode: 'grey', validationFraction: 0.25, seed: 1 });
    expect(ds.train.count).toBe(9);
    expect(ds.validation!.count).toBe(3);
    expect(Array.from(ds.validation!.labels)).toEqual([0, 0, 1]);
    expect(ds.files.validation!.length).toBe(3);
    ds.files.validation!.forEach((f, i) => {
      const n = Number(path.basename(f, '.png')) + (f.startsWith('b') ? 100 : 0);
      expect(ds.validation!.images[i * 35]).toBe(n); // pixels follow their file names
    });
  });

  it('decodes a PNG named .jpg by its content', () => {
    const img = decodeImage(png(2, 1, (x) => (x === 0 ? RED : BLUE)), 'x.jpg');
    expect(img.width).toBe(2);
    expect(Array.from(img.rgb)).toEqual([...RED, ...BLUE]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- headers, refusals and notes, each in its own words -------------------------------------------

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
/** The first 33 bytes of a PNG declaring width x height (signature, IHDR), without any pixel data. */
const pngHeader = (width: number, height: number, chunk = 'IHDR') =>
  Buffer.from([...PNG_SIG, 0, 0, 0, 13, ...Buffer.from(chunk), ...be32(width), ...be32(height), 8, 2, 0, 0, 0, 0, 0, 0, 0]);
/** A JPEG start: SOI, then the given segments. */
const jpegBytes = (...parts: number[][]) => Buffer.from([0xff, 0xd8, ...parts.flat()]);
/** A frame header segment (SOFn) declaring height x width. */
const sof = (marker: number, height: number, width: number) => [0xff, marker, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0];
const app0 = [0xff, 0xe0, 0, 4, 0x4a, 0x46];

describe('imageDimensions: the size a header declares, without decoding', () => {
  it('PNG: from IHDR, as unsigned 32-bit big-endian numbers; not from any other chunk', () => {
    expect(imageDimensions(pngHeader(12000, 300))).toEqual({ width: 12000, height: 300 });
    expect(imageDimensions(pngHeader(0x81020304, 0x00fffffe))).toEqual({ width: 0x81020304, height: 0x00fffffe });
    expect(imageDimensions(pngHeader(5, 7).subarray(0, 24))).toEqual({ width: 5, height: 7 });
    expect(imageDimensions(pngHeader(5, 7).subarray(0, 23))).toBeUndefined();
    expect(imageDimensions(pngHeader(5, 7, 'IHDX'))).toBeUndefined();
    for (let k = 0; k < 8; k++) {
      const b = pngHeader(5, 7);
      b[k] ^= 0x20; // one byte of the signature wrong: not a PNG
      expect(imageDimensions(b), `signature byte ${k}`).toBeUndefined();
    }
  });

  it('JPEG: from the first frame header, past other segments, fill bytes and markers without a length', () => {
    expect(imageDimensions(jpegBytes(sof(0xc0, 480, 640), [0xff, 0xd9]))).toEqual({ width: 640, height: 480 });
    expect(imageDimensions(jpegBytes(app0, [0xff, 0xff], [0xff, 0xd0], [0xff, 0xd7], [0xff, 0x01], sof(0xc2, 0x1234, 0xabcd)))).toEqual({ width: 0xabcd, height: 0x1234 });
    // DHT (C4), JPG (C8) and DAC (CC) lie among the SOF codes but are not frame headers
    for (const m of [0xc4, 0xc8, 0xcc]) expect(imageDimensions(jpegBytes([0xff, m, 0, 6, 0, 0, 0, 0], sof(0xc1, 9, 8))), m.toString(16)).toEqual({ width: 8, height: 9 });
    for (const m of [0xc0, 0xc3, 0xcb, 0xcf]) expect(imageDimensions(jpegBytes(sof(m, 2, 3))), m.toString(16)).toEqual({ width: 3, height: 2 });
    // other segments in and around the range are skipped by their length
    for (const m of [0xbf, 0xd8, 0xe1, 0xfe]) expect(imageDimensions(jpegBytes([0xff, m, 0, 2], sof(0xc0, 4, 5))), m.toString(16)).toEqual({ width: 5, height: 4 });
  });

  it('JPEG: nothing when the frame header is missing, cut short, or something else comes first', () => {
    expect(imageDimensions(jpegBytes([0xff, 0xd9], sof(0xc0, 4, 5)))).toBeUndefined(); // end of image first
    expect(imageDimensions(jpegBytes([0xff, 0xda, 0, 2], sof(0xc0, 4, 5)))).toBeUndefined(); // scan data first
    expect(imageDimensions(jpegBytes([0x00, 0xc0], sof(0xc0, 4, 5)))).toBeUndefined(); // not a marker
    expect(imageDimensions(jpegBytes(app0))).toBeUndefined(); // no frame at all
    const frame = jpegBytes(sof(0xc0, 4, 5));
    expect(imageDimensions(frame.subarray(0, 11))).toEqual({ width: 5, height: 4 }); // the width's last byte is the 11th
    expect(imageDimensions(frame.subarray(0, 10))).toBeUndefined();
    expect(imageDimensions(Buffer.from([0xff, 0xd8, 0xff]))).toBeUndefined();
    expect(imageDimensions(Buffer.from([0xff, 0xd9, ...sof(0xc0, 4, 5)]))).toBeUndefined(); // no SOI
    expect(imageDimensions(Buffer.from([0xfe, 0xd8, ...sof(0xc0, 4, 5)]))).toBeUndefined();
  });
});

describe('decodeImage: its refusals', () => {
  const fix = 'Open it in an image viewer to check it, then replace or delete it (or turn on "skip unreadable images").';
  const refusal = (bytes: Uint8Array) => {
    try {
      decodeImage(bytes, '/d/x.png');
    } catch (e) {
      const x = e as NetloomError;
      return { code: x.code, message: x.message, hint: x.hint, cause: x.cause };
    }
    throw new Error('expected a refusal');
  };

  it('not a PNG or JPEG: says what the file starts with', () => {
    expect(refusal(new Uint8Array(0))).toMatchObject({ code: 'NL_BAD_DATASET', message: '/d/x.png: not a PNG or JPEG image (the file is empty)', hint: `Only PNG and JPEG files are read. ${fix}` });
    expect(refusal(Buffer.from([0xff, 0xd8, 0x00, 0x01])).message).toBe('/d/x.png: not a PNG or JPEG image (it starts with bytes ff d8 00 01)');
    expect(refusal(Buffer.from([0xff, 0xd8])).message).toBe('/d/x.png: not a PNG or JPEG image (it starts with bytes ff d8)');
    expect(refusal(Buffer.from(PNG_SIG.slice(0, 7))).message).toBe('/d/x.png: not a PNG or JPEG image (it starts with bytes 89 50 4e 47 0d 0a 1a)');
    expect(refusal(Buffer.from([...PNG_SIG.slice(0, 7), 0x0b, 1, 2])).message).toBe('/d/x.png: not a PNG or JPEG image (it starts with bytes 89 50 4e 47 0d 0a 1a 0b)');
  });

  it('more pixels than it decodes: refused from the header, before decoding', () => {
    expect(refusal(pngHeader(12000, 12000))).toMatchObject({
      code: 'NL_BAD_DATASET', message: '/d/x.png: the image declares 12000x12000 pixels, more than the 33,554,432 Netloom decodes',
      hint: 'Downscale the image; a file this small declaring that many pixels may be a decompression bomb.',
    });
    // exactly the limit is decoded (and this header alone cannot be)
    expect(refusal(pngHeader(8192, 4096)).message).toMatch(/^\/d\/x\.png: cannot decode this PNG file \(/);
  });

  it('a damaged file: what the decoder said, and the error it came from', () => {
    const png = refusal(pngHeader(5, 7));
    expect(png).toMatchObject({ code: 'NL_BAD_DATASET', hint: `The file is damaged or incomplete. ${fix}` });
    expect(png.message).toMatch(/^\/d\/x\.png: cannot decode this PNG file \(.+\)$/);
    expect(png.cause).toBeInstanceOf(Error);
    const jpg = refusal(jpegBytes([0xff]));
    expect(jpg.message).toMatch(/^\/d\/x\.png: cannot decode this JPEG file \(.+\)$/);
  });
});

describe('loadImageFolder: options', () => {
  const root = () => folder('opts', { 'a/1.png': png(5, 7, flat(RED)), 'b/1.png': png(5, 7, flat(BLUE)) });
  const invalid = async (opts: ImageFolderOptions) => {
    const e = await failure(root(), opts);
    return { code: e.code, message: e.message, hint: e.hint };
  };

  it('a mode other than grey or rgb', async () => {
    expect(await invalid({ mode: 'color' as 'rgb' })).toEqual({ code: 'NL_INVALID_ARGUMENT', message: 'The image mode must be "grey" or "rgb", got "color"', hint: 'Use grey for 1-channel inputs (like MNIST), rgb for 3 channels.' });
  });

  it('a size that is not two whole numbers from 1 to 4096', async () => {
    for (const size of [[0, 5], [5, 0], [4097, 5], [5, 4097], [5.5, 5], [5], [5, 5, 5], '5x5', [-1, -1]])
      expect(await invalid({ mode: 'grey', size: size as [number, number] }), JSON.stringify(size)).toEqual({
        code: 'NL_INVALID_ARGUMENT', message: `The image size must be [height, width] with whole numbers from 1 to 4096, got ${JSON.stringify(size)}`,
        hint: 'For example [28, 28] or [32, 32]; leave it unset when all images already have one size.',
      });
    expect((await loadImageFolder(root(), { mode: 'grey', size: [1, 4096] })).sampleShape).toEqual([1, 1, 4096]);
    expect((await loadImageFolder(root(), { mode: 'grey', size: [4096, 1] })).sampleShape).toEqual([1, 4096, 1]);
  });

  it('a split seed that is not a whole number', async () => {
    for (const seed of [1.5, NaN, 2 ** 53])
      expect(await invalid({ mode: 'grey', seed }), String(seed)).toEqual({ code: 'NL_INVALID_ARGUMENT', message: `The split seed must be an integer, got ${String(seed)}`, hint: 'Use a whole number such as 0.' });
  });
});

describe('loadImageFolder: the folder and its classes', () => {
  const LAYOUT = "An image-folder dataset has one sub-folder per class holding that class's images: <root>/<class>/<image>.png or .jpg (torchvision's ImageFolder layout).";
  const plain = (e: NetloomError) => ({ code: e.code, message: e.message, hint: e.hint });

  it('a root that is a file, missing, or below a file', async () => {
    const file = path.join(folder('root-file', { 'x.png': png(5, 7, flat(RED)) }), 'x.png');
    expect(plain(await failure(file, grey5))).toEqual({ code: 'NL_DATASET_MISSING', message: `${file} is not a folder`, hint: `${LAYOUT} Choose the root folder.` });
    const missing = path.join(tmp, 'nowhere-at-all');
    const e = await failure(missing, grey5);
    expect(plain(e)).toEqual({ code: 'NL_DATASET_MISSING', message: `The image folder ${missing} does not exist`, hint: LAYOUT });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const below = path.join(file, 'sub');
    expect(plain(await failure(below, grey5))).toEqual({ code: 'NL_IO', message: `Could not read ${below}: ENOTDIR: not a directory, stat '${below}'`, hint: 'Check that the folder is readable.' });
  });

  it('no class folders: said with or without loose images, with the matching hint', async () => {
    const empty = folder('no-classes', { 'readme.txt': Buffer.from('x') });
    expect(plain(await failure(empty, grey5))).toEqual({ code: 'NL_BAD_DATASET', message: `No class folders in ${empty}`, hint: LAYOUT });
    const loose = folder('loose-two', { '1.png': png(5, 7, flat(RED)), '2.JPG': jpg(5, 7, flat(RED)), 'n.txt': Buffer.from('') });
    expect(plain(await failure(loose, grey5))).toEqual({
      code: 'NL_BAD_DATASET', message: `No class folders in ${loose} (it holds 2 image(s) directly)`,
      hint: `${LAYOUT} Move the images into one folder per class, or choose the folder above this one if this is a class folder.`,
    });
  });

  it('loose images beside class folders are left out, with a note', async () => {
    const root = folder('loose-beside', { 'stray.png': png(5, 7, flat(RED)), 'a/1.png': png(5, 7, flat(RED)), 'b/1.png': png(5, 7, flat(BLUE)) });
    const ds = await loadImageFolder(root, grey5);
    expect(ds.train.count).toBe(2);
    expect(ds.notes).toEqual([`Ignored 1 image(s) directly in ${root}: only images inside class folders belong to a class.`]);
  });

  it('at most 256 classes', async () => {
    const files: Record<string, null> = {};
    for (let k = 0; k < 257; k++) files[`c${k}`] = null;
    const many = folder('many', files);
    expect(plain(await failure(many, grey5))).toEqual({
      code: 'NL_BAD_DATASET', message: `${many} has 257 class folders; at most 256 classes are supported`,
      hint: 'Check that you chose the dataset root (one folder per class) and not a folder of many small folders.',
    });
    rmSync(path.join(many, 'c0'), { recursive: true });
    // 256 pass that check (and then fail for being empty)
    expect((await failure(many, grey5)).message).toMatch(/^Class folders "c1", "c10", "c100", .* hold no PNG or JPEG images$/);
  });

  it('classes, hidden folders and files are taken in code-point order', async () => {
    const files: Record<string, Buffer> = {};
    for (const c of ['b', 'D', 'a', 'C', '_']) for (const f of ['z.png', 'B.png', 'a.png']) files[`${c}/${f}`] = png(2, 2, flat(RED));
    files['.y/1.png'] = png(2, 2, flat(RED));
    files['.x/1.png'] = png(2, 2, flat(RED));
    const ds = await loadImageFolder(folder('order', files), { mode: 'grey' });
    expect(ds.classes).toEqual(['C', 'D', '_', 'a', 'b']);
    expect(ds.files.train.slice(0, 3)).toEqual([path.join('C', 'B.png'), path.join('C', 'a.png'), path.join('C', 'z.png')]);
    expect(ds.notes).toEqual(['Ignored hidden folder(s) ".x", ".y"; torchvision\'s ImageFolder would count them as classes.']);
  });

  it('one empty class, or several: in the singular or the plural', async () => {
    const one = folder('one-empty', { 'a/1.png': png(5, 7, flat(RED)), 'b/readme.txt': Buffer.from('') });
    expect(plain(await failure(one, grey5))).toEqual({
      code: 'NL_BAD_DATASET', message: `Class folder "b" in ${one} holds no PNG or JPEG images`, hint: 'Every class needs at least one image (.png, .jpg, .jpeg). Add images to the folder or remove it.',
    });
    const two = folder('two-empty', { 'a/1.png': png(5, 7, flat(RED)), 'b': null, 'c': null });
    expect(plain(await failure(two, grey5)).hint).toBe('Every class needs at least one image (.png, .jpg, .jpeg). Add images to these folders or remove them.');
  });

  it('a folder with one class is read, with a note that nothing can be learnt from it', async () => {
    const root = folder('single', { 'only/1.png': png(5, 7, flat(RED)) });
    expect((await loadImageFolder(root, grey5)).notes).toEqual([`The image folder ${root} has only one class ("only"); a classifier cannot learn anything from it.`]);
  });
});

describe('loadImageFolder: walking a class folder', () => {
  it('follows links once (a cycle ends), skips dangling links and hidden sub-folders, enters "name." folders', async () => {
    const root = folder('walk', {
      'a/1.png': png(2, 2, flat(RED)),
      'a/sub./2.png': png(2, 2, flat(RED)),
      'a/.cache/3.png': png(2, 2, flat(RED)),
      'b/1.png': png(2, 2, flat(BLUE)),
    });
    symlinkSync(path.join(root, 'a'), path.join(root, 'a', 'loop'));
    symlinkSync(path.join(root, 'gone.png'), path.join(root, 'a', 'dead.png'));
    const ds = await loadImageFolder(root, { mode: 'grey' });
    expect(ds.files.train).toEqual([path.join('a', '1.png'), path.join('a', 'sub.', '2.png'), path.join('b', '1.png')]);
  });

  it('counts each other torchvision format by extension, hidden files apart', async () => {
    const files: Record<string, Buffer> = { 'a/1.png': png(2, 2, flat(RED)), 'b/1.png': png(2, 2, flat(BLUE)), 'a/.h.bmp': Buffer.from('x'), 'a/.h.png': Buffer.from('x') };
    for (const ext of ['.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp', '.gif', '.BMP']) files[`a/x${ext.replace('.', '_')}${ext}`] = Buffer.from('x');
    const ds = await loadImageFolder(folder('formats', files), { mode: 'grey' });
    const note = ds.notes.find((n) => n.startsWith('Skipped image files'))!;
    const counts = /\((.*)\); torchvision would load them\. Convert them to PNG or JPEG to include them\.$/.exec(note)![1].split(', ').sort();
    expect(counts).toEqual(['1 .gif', '1 .pgm', '1 .ppm', '1 .tif', '1 .tiff', '1 .webp', '2 .bmp']);
    expect(ds.notes).toContain('Skipped 1 hidden file(s) (names starting with ".", such as macOS "._" files).');
  });
});

describe('loadImageFolder: images left out, and what is kept', () => {
  it('images declaring too many pixels are left out from their header, listed (at most 100), with progress for each file', async () => {
    const files: Record<string, Buffer> = { 'a/ok.png': png(2, 2, flat(RED)), 'b/ok.png': png(2, 2, flat(BLUE)) };
    for (let k = 0; k < 101; k++) files[`b/big${String(k).padStart(3, '0')}.png`] = pngHeader(10000, 4000);
    const progress: [number, number][] = [];
    const ds = await loadImageFolder(folder('huge', files), { mode: 'grey', onProgress: (d, t) => progress.push([d, t]) });
    expect(ds.train.count).toBe(2);
    expect(ds.notes[0]).toBe('Skipped 101 image(s) of more than 33,554,432 pixels, a guard against decompression bombs; downscale them to include them:');
    expect(ds.notes[1]).toBe(`  ${path.join('b', 'big000.png')} (10000x4000)`);
    expect(ds.notes[100]).toBe(`  ${path.join('b', 'big099.png')} (10000x4000)`);
    expect(ds.notes[101]).toBe('  ... and 1 more');
    expect(ds.notes).toHaveLength(102);
    expect(progress).toEqual(Array.from({ length: 103 }, (_, i) => [i + 1, 103]));
  });

  it('an image of exactly the pixel limit is not left out as too large', async () => {
    const ds = await loadImageFolder(folder('at-limit', { 'a/ok.png': png(2, 2, flat(RED)), 'a/limit.png': pngHeader(8192, 4096), 'b/ok.png': png(2, 2, flat(BLUE)) }), { mode: 'grey', skipBad: true });
    expect(ds.notes[0]).toBe('Skipped 1 unreadable image(s):');
    expect(ds.notes[1]).toMatch(/^ {2}a[/\\]limit\.png \(cannot decode this PNG file/);
  });

  it('unreadable images skipped: listed (at most 100), and the kept samples only', async () => {
    const files: Record<string, Buffer> = { 'a/ok.png': png(2, 2, flat([7, 7, 7])), 'b/ok.png': png(2, 2, flat([9, 9, 9])) };
    for (let k = 0; k < 101; k++) files[`a/bad${String(k).padStart(3, '0')}.png`] = Buffer.from('nope');
    const ds = await loadImageFolder(folder('bad-many', files), { mode: 'grey', skipBad: true });
    expect(ds.notes[0]).toBe('Skipped 101 unreadable image(s):');
    expect(ds.notes[101]).toBe('  ... and 1 more');
    expect(ds.notes).toHaveLength(102);
    expect(ds.train.count).toBe(2);
    expect(Array.from(ds.train.images)).toEqual([7, 7, 7, 7, 9, 9, 9, 9]);
    expect(ds.files.train).toEqual([path.join('a', 'ok.png'), path.join('b', 'ok.png')]);
  });

  it('a class left with only too-large images: its error counts them', async () => {
    const root = folder('all-huge', { 'a/ok.png': png(2, 2, flat(RED)), 'b/big.png': pngHeader(10000, 10000) });
    const e = await failure(root, { mode: 'grey' });
    expect({ code: e.code, message: e.message, hint: e.hint }).toEqual({
      code: 'NL_BAD_DATASET', message: `No readable images left in class folder(s) "b" of ${root} after skipping 0 unreadable and 1 too large file(s)`,
      hint: 'Every class needs at least one image that decodes. Replace the broken files or remove the class folder.',
    });
  });

  it('an image file over 256 MiB is not read: refused, or skipped', async () => {
    const root = folder('file-huge', { 'a/ok.png': png(2, 2, flat(RED)), 'b/ok.png': png(2, 2, flat(BLUE)) });
    const big = path.join(root, 'a', 'big.png');
    writeFileSync(big, '');
    truncateSync(big, 256 * 1024 * 1024 + 1); // sparse
    const e = await failure(root, { mode: 'grey' });
    expect({ code: e.code, message: e.message, hint: e.hint }).toEqual({
      code: 'NL_BAD_DATASET', message: `${big} is larger than 256 MiB, too large for a PNG or JPEG image`,
      hint: 'Downscale the image, or remove it from the folder (or turn on "skip unreadable images").',
    });
    const ds = await loadImageFolder(root, { mode: 'grey', skipBad: true });
    expect(ds.notes[1]).toBe(`  ${path.join('a', 'big.png')} (is larger than 256 MiB, too large for a PNG or JPEG image)`);
  });

  it('without a size, an image of another width or another height is refused', async () => {
    for (const [w, h] of [[5, 8], [6, 7]]) {
      const root = folder(`other-size-${w}x${h}`, { 'a/1.png': png(5, 7, flat(RED)), 'b/1.png': png(w, h, flat(BLUE)) });
      expect((await failure(root, { mode: 'grey' })).message, `${w}x${h}`).toBe(`${path.join(root, 'b', '1.png')} is ${w}x${h} pixels but ${path.join('a', '1.png')} is 5x7; images of one dataset must have one size`);
    }
  });

  it('a validation split names the files of both splits', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 4; i++) files[`a/${i}.png`] = png(2, 2, flat([i, i, i]));
    for (let i = 0; i < 4; i++) files[`b/${i}.png`] = png(2, 2, flat([50 + i, 50 + i, 50 + i]));
    const ds = await loadImageFolder(folder('split-names', files), { mode: 'grey', validationFraction: 0.5, seed: 3 });
    const pixel = (f: string) => Number(path.basename(f, '.png')) + (f.startsWith('b') ? 50 : 0);
    expect(ds.files.train.map(pixel)).toEqual(Array.from({ length: ds.train.count }, (_, i) => ds.train.images[i * 4]));
    expect(ds.files.validation!.map(pixel)).toEqual(Array.from({ length: ds.validation!.count }, (_, i) => ds.validation!.images[i * 4]));
  });
});
