import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, loadImageFolder, luma, resizeBilinear, type ImageFolderOptions } from '../../engine/data/images.js';
import { NetloomError } from '../../engine/errors.js';

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

async function failure(root: string, opts: ImageFolderOptions): Promise<NetloomError> {
  try {
    await loadImageFolder(root, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected loadImageFolder to fail');
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
