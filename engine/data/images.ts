/**
 * Image-folder datasets in torchvision.datasets.ImageFolder's layout: <root>/<class>/<image>.{png,jpg,jpeg},
 * read into the engine's uint8 Split (one CHW sample after another) so they plug into the runtime as MNIST does.
 *
 * What matches torchvision (so class indices and sample order agree with a PyTorch script on the same folder):
 * - Classes are the sub-folder names of the root, sorted by code point (Python's sorted()); class index = position.
 * - A class's images are found recursively (os.walk, following links) in sorted folder-path order, sorted by file
 *   name within a folder; extensions are matched case-insensitively.
 * - Colour: every image is first taken to RGB (palette expanded, alpha dropped, grey replicated, as PIL's
 *   convert('RGB') in torchvision's default loader). 'grey' then applies PIL's convert('L'), ITU-R BT.601 luma
 *   in Pillow's 16-bit fixed point: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, which is
 *   R*299/1000 + G*587/1000 + B*114/1000 rounded to the nearest integer (ties can differ by 1 from exact rounding
 *   in rare cases; Pillow's own result is what this reproduces).
 * - Resizing to `size` = [height, width] is Pillow's Image.resize(..., BILINEAR) (torchvision's Resize((h, w))
 *   on a PIL image), reimplemented exactly: a separable triangle filter whose support widens with the scale factor
 *   when downscaling (so it averages, i.e. antialiases, rather than sampling 4 pixels), horizontal pass then
 *   vertical pass, each rounding to uint8 with 22-bit fixed-point weights. Upscaling is classic bilinear with
 *   pixel centres at (i + 0.5) and edge clamping. Without `size`, every image must already have the same size.
 *
 * Where it differs (each difference is stated in `notes` when it happens):
 * - Only PNG (pngjs) and JPEG (jpeg-js) are decoded. Files with torchvision's other image extensions (.bmp, .gif,
 *   .ppm, .pgm, .tif, .tiff, .webp) are skipped; torchvision would load them, so indices would differ.
 * - Hidden folders and files (names starting with '.', such as .ipynb_checkpoints or macOS "._x.jpg" files) are
 *   skipped; torchvision would make .ipynb_checkpoints a class.
 * - JPEG decoding is jpeg-js's, not libjpeg's: pixel values can differ from PIL's by a few levels (measured: at most 3,
 *   0.5 on average, on a synthetic 64x48 image at quality 75 and 95). PNG is exact
 *   (16-bit PNGs are scaled to 8 bits with rounding).
 * - The file's format is recognised by its first bytes, not its extension (a PNG named .jpg loads).
 *
 * A file that cannot be decoded fails the load with an NL_BAD_DATASET naming it, unless `skipBad` is set; then it
 * is left out and listed in `notes`. A class folder without usable images is always an error.
 *
 * An image whose header declares more than MAX_IMAGE_PIXELS pixels is never decoded (a few KB of zlib can declare
 * 12000x12000 pixels and take 1.1 GiB to decode): it is left out and listed in `notes`, as Pillow's MAX_IMAGE_PIXELS
 * guards torchvision's loader. A folder with one class gets the note a one-class CSV gets.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { NetloomError } from '../errors.js';
import { readUserFile } from '../io/read-file.js';
import { codePointCompare } from './csv-table.js';
import type { Split } from './image-split.js';
import { checkValidationFraction, selectSamples, splitTrainVal } from './split.js';

export type ImageMode = 'grey' | 'rgb';

export interface ImageFolderOptions {
  /** 'grey': 1 channel (PIL convert('L')); 'rgb': 3 channels. */
  mode: ImageMode;
  /** [height, width] to resize every image to (PIL BILINEAR); omitted: all images must share one size. */
  size?: [number, number];
  /** Leave out files that cannot be decoded (listed in notes) instead of failing. */
  skipBad?: boolean;
  /** Share of images moved to a stratified validation split, in [0, 1) (default 0: none). */
  validationFraction?: number;
  /** Seed of the validation split (default 0). */
  seed?: number;
  /** Called after each file: files decoded (or skipped) so far, and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** An image folder read into the engine's uint8 layout; train (and validation) are ordinary Splits. */
export interface ImageFolderDataset {
  kind: 'image-folder';
  /** The root folder's name. */
  title: string;
  /** [1, H, W] or [3, H, W]; each sample is C*H*W bytes, channel-major (CHW). */
  sampleShape: [number, number, number];
  /** Sub-folder names, sorted; labels index into this list. */
  classes: string[];
  train: Split;
  validation?: Split;
  /** Per-sample file paths relative to the root, in Split order. */
  files: { train: string[]; validation?: string[] };
  /** Absolute path of the root folder. */
  source: string;
  notes: string[];
}

export const SUPPORTED_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];
const OTHER_TORCHVISION_EXTENSIONS: readonly string[] = ['.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp', '.gif'];
const MAX_CLASSES = 256;
const MAX_SIDE = 4096;
const MAX_LISTED = 100;
/**
 * The most pixels an image may declare: 2^25 = 33,554,432, an 8K UHD frame (7680x4320) or a 32-megapixel photo.
 * Decoding holds about 14 bytes a pixel at once (the inflated rows, RGBA, RGB, the planar copy), so one image
 * stays under 0.5 GiB. Pillow's limit is 89,478,485 (a quarter GiB of 24-bit pixels) for one copy, and it only
 * warns below twice that; 12000x12000 = 144 million would pass its error threshold.
 */
export const MAX_IMAGE_PIXELS = 2 ** 25;
/** A PNG or JPEG of MAX_IMAGE_PIXELS at 8 bytes a pixel (16-bit RGBA, stored) is under this; anything larger is not one. */
const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

const LAYOUT = 'An image-folder dataset has one sub-folder per class holding that class\'s images: <root>/<class>/<image>.png or .jpg (torchvision\'s ImageFolder layout).';

/** An image as decoded: width * height RGB pixels, interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Reads an ImageFolder root (see the module comment for every rule). */
export async function loadImageFolder(root: string, options: ImageFolderOptions): Promise<ImageFolderDataset> {
  const opts = checkOptions(options);
  const source = path.resolve(root);
  const notes: string[] = [];
  const classDirs = await listClasses(source, notes);
  const perClass: string[][] = [];
  const skippedFormats = new Map<string, number>();
  let hiddenFiles = 0;
  for (const cls of classDirs) {
    const found = await walkClass(path.join(source, cls));
    hiddenFiles += found.hidden;
    for (const [ext, n] of found.otherFormats) skippedFormats.set(ext, (skippedFormats.get(ext) ?? 0) + n);
    perClass.push(found.files);
  }
  if (skippedFormats.size > 0) {
    const list = [...skippedFormats].map(([ext, n]) => `${n} ${ext}`).join(', ');
    notes.push(`Skipped image files in formats Netloom does not read yet (${list}); torchvision would load them. Convert them to PNG or JPEG to include them.`);
  }
  if (hiddenFiles > 0) {
    notes.push(`Skipped ${hiddenFiles} hidden file(s) (names starting with ".", such as macOS "._" files).`);
  }
  const empty = classDirs.filter((_, k) => perClass[k].length === 0);
  if (empty.length > 0) throw emptyClasses(source, empty);

  const total = perClass.reduce((n, f) => n + f.length, 0);
  const channels = opts.mode === 'grey' ? 1 : 3;
  let height = opts.size?.[0] ?? 0;
  let width = opts.size?.[1] ?? 0;
  let sizeFrom = '';
  let images = new Uint8Array(0);
  const labels = new Uint8Array(total);
  const files: string[] = [];
  const bad: string[] = [];
  const huge: string[] = [];
  const kept = new Array<number>(classDirs.length).fill(0);
  let count = 0;
  let done = 0;
  for (let k = 0; k < classDirs.length; k++) {
    for (const file of perClass[k]) {
      const rel = path.relative(source, file);
      let decoded: RgbImage;
      try {
        const bytes = await readImage(file);
        const declared = imageDimensions(bytes);
        if (declared && declared.width * declared.height > MAX_IMAGE_PIXELS) {
          huge.push(`${rel} (${declared.width}x${declared.height})`);
          opts.onProgress?.(++done, total);
          continue;
        }
        decoded = decodeImage(bytes, file);
      } catch (e) {
        if (!(e instanceof NetloomError) || e.code !== 'NL_BAD_DATASET' || !opts.skipBad) throw e;
        bad.push(`${rel} (${withoutPath(e.message, file)})`);
        opts.onProgress?.(++done, total);
        continue;
      }
      if (count === 0 && images.length === 0) {
        if (opts.size === undefined) {
          height = decoded.height;
          width = decoded.width;
          sizeFrom = rel;
        }
        images = new Uint8Array(total * channels * height * width);
      }
      let sample: Uint8Array;
      if (opts.size === undefined) {
        if (decoded.width !== width || decoded.height !== height) {
          throw new NetloomError(
            'NL_BAD_DATASET',
            `${file} is ${decoded.width}x${decoded.height} pixels but ${sizeFrom} is ${width}x${height}; images of one dataset must have one size`,
            `Set an image size (height and width) to resize every image, for example [${height}, ${width}].`,
          );
        }
        sample = toPlanar(decoded, opts.mode);
      } else {
        sample = resizeBilinear(toPlanar(decoded, opts.mode), channels, decoded.width, decoded.height, width, height);
      }
      images.set(sample, count * sample.length);
      labels[count] = k;
      files.push(rel);
      kept[k]++;
      count++;
      opts.onProgress?.(++done, total);
    }
  }
  if (huge.length > 0) {
    notes.push(`Skipped ${huge.length} image(s) of more than ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} pixels, a guard against decompression bombs; downscale them to include them:`);
    for (const h of huge.slice(0, MAX_LISTED)) notes.push(`  ${h}`);
    if (huge.length > MAX_LISTED) notes.push(`  ... and ${huge.length - MAX_LISTED} more`);
  }
  if (bad.length > 0) {
    notes.push(`Skipped ${bad.length} unreadable image(s):`);
    for (const b of bad.slice(0, MAX_LISTED)) notes.push(`  ${b}`);
    if (bad.length > MAX_LISTED) notes.push(`  ... and ${bad.length - MAX_LISTED} more`);
  }
  const emptied = classDirs.filter((_, k) => kept[k] === 0);
  if (emptied.length > 0) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `No readable images left in class folder(s) ${emptied.map((c) => JSON.stringify(c)).join(', ')} of ${source} after skipping ${bad.length} unreadable${huge.length ? ` and ${huge.length} too large` : ''} file(s)`,
      'Every class needs at least one image that decodes. Replace the broken files or remove the class folder.',
    );
  }
  if (classDirs.length === 1) {
    notes.push(`The image folder ${source} has only one class (${JSON.stringify(classDirs[0])}); a classifier cannot learn anything from it.`);
  }
  const sampleSize = channels * height * width;
  const all: Split = { images: images.slice(0, count * sampleSize), labels: labels.slice(0, count), count };
  const common = {
    kind: 'image-folder' as const,
    title: path.basename(source),
    sampleShape: [channels, height, width] as [number, number, number],
    classes: classDirs,
    source,
    notes,
  };
  if (opts.validationFraction === 0) {
    return { ...common, train: all, files: { train: files } };
  }
  const { train, val } = splitTrainVal(count, opts.validationFraction, opts.seed, all.labels);
  return {
    ...common,
    train: selectSamples(all, train),
    validation: selectSamples(all, val),
    files: { train: Array.from(train, (i) => files[i]), validation: Array.from(val, (i) => files[i]) },
  };
}

type CheckedOptions = Omit<ImageFolderOptions, 'validationFraction' | 'seed'> & { validationFraction: number; seed: number };

function checkOptions(o: ImageFolderOptions): CheckedOptions {
  const bad = (message: string, hint: string) => new NetloomError('NL_INVALID_ARGUMENT', message, hint);
  if (o.mode !== 'grey' && o.mode !== 'rgb') {
    throw bad(`The image mode must be "grey" or "rgb", got ${JSON.stringify(o.mode)}`, 'Use grey for 1-channel inputs (like MNIST), rgb for 3 channels.');
  }
  if (o.size !== undefined) {
    const ok =
      Array.isArray(o.size) && o.size.length === 2 && o.size.every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_SIDE);
    if (!ok) {
      throw bad(
        `The image size must be [height, width] with whole numbers from 1 to ${MAX_SIDE}, got ${JSON.stringify(o.size)}`,
        'For example [28, 28] or [32, 32]; leave it unset when all images already have one size.',
      );
    }
  }
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw bad(`The split seed must be an integer, got ${String(seed)}`, 'Use a whole number such as 0.');
  return { ...o, validationFraction: checkValidationFraction(o.validationFraction ?? 0), seed };
}

async function listClasses(source: string, notes: string[]): Promise<string[]> {
  let entries: string[];
  try {
    const st = await fsp.stat(source);
    if (!st.isDirectory()) {
      throw new NetloomError('NL_DATASET_MISSING', `${source} is not a folder`, LAYOUT + ' Choose the root folder.');
    }
    entries = await fsp.readdir(source);
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    throw fsError(e, source, 'the image folder');
  }
  const dirs: string[] = [];
  const hidden: string[] = [];
  let looseImages = 0;
  for (const name of entries) {
    const st = await statOrUndefined(path.join(source, name));
    if (st?.isDirectory()) {
      if (name.startsWith('.')) hidden.push(name);
      else dirs.push(name);
    } else if (st?.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(name).toLowerCase())) {
      looseImages++;
    }
  }
  dirs.sort(codePointCompare);
  if (hidden.length > 0) {
    notes.push(`Ignored hidden folder(s) ${hidden.sort(codePointCompare).map((h) => JSON.stringify(h)).join(', ')}; torchvision's ImageFolder would count them as classes.`);
  }
  if (dirs.length === 0) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `No class folders in ${source}` + (looseImages > 0 ? ` (it holds ${looseImages} image(s) directly)` : ''),
      LAYOUT + (looseImages > 0 ? ' Move the images into one folder per class, or choose the folder above this one if this is a class folder.' : ''),
    );
  }
  if (dirs.length > MAX_CLASSES) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${source} has ${dirs.length} class folders; at most ${MAX_CLASSES} classes are supported`,
      'Check that you chose the dataset root (one folder per class) and not a folder of many small folders.',
    );
  }
  if (looseImages > 0) {
    notes.push(`Ignored ${looseImages} image(s) directly in ${source}: only images inside class folders belong to a class.`);
  }
  return dirs;
}

interface ClassFiles {
  files: string[];
  otherFormats: Map<string, number>;
  hidden: number;
}

/** os.walk(classDir, followlinks=True) in sorted order, keeping supported image files. */
async function walkClass(classDir: string): Promise<ClassFiles> {
  const out: ClassFiles = { files: [], otherFormats: new Map(), hidden: 0 };
  const folders: { dir: string; names: string[] }[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    let real: string;
    let names: string[];
    try {
      real = await fsp.realpath(dir);
      names = await fsp.readdir(dir);
    } catch (e) {
      throw fsError(e, dir, 'a class folder');
    }
    if (seen.has(real)) return; // a link cycle
    seen.add(real);
    const files: string[] = [];
    for (const name of names) {
      const full = path.join(dir, name);
      const st = await statOrUndefined(full);
      if (st === undefined) continue; // a dangling link
      if (st.isDirectory()) {
        if (!name.startsWith('.')) await visit(full);
        continue;
      }
      if (!st.isFile()) continue;
      const ext = path.extname(name).toLowerCase();
      if (SUPPORTED_EXTENSIONS.includes(ext)) {
        if (name.startsWith('.')) out.hidden++;
        else files.push(name);
      } else if (OTHER_TORCHVISION_EXTENSIONS.includes(ext) && !name.startsWith('.')) {
        out.otherFormats.set(ext, (out.otherFormats.get(ext) ?? 0) + 1);
      }
    }
    folders.push({ dir, names: files.sort(codePointCompare) });
  };
  await visit(classDir);
  folders.sort((a, b) => codePointCompare(a.dir, b.dir));
  for (const f of folders) for (const name of f.names) out.files.push(path.join(f.dir, name));
  return out;
}

/** A message about `file` without the path it starts with ("<file>: why" and "<file> is ..." both). */
function withoutPath(message: string, file: string): string {
  if (!message.startsWith(file)) return message;
  const rest = message.slice(file.length);
  return rest.startsWith(': ') ? rest.slice(2) : rest.trimStart();
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch {
    return undefined;
  }
}

function emptyClasses(source: string, empty: string[]): NetloomError {
  return new NetloomError(
    'NL_BAD_DATASET',
    `Class folder${empty.length > 1 ? 's' : ''} ${empty.map((c) => JSON.stringify(c)).join(', ')} in ${source} ${empty.length > 1 ? 'hold' : 'holds'} no PNG or JPEG images`,
    `Every class needs at least one image (${SUPPORTED_EXTENSIONS.join(', ')}). Add images to ${empty.length > 1 ? 'these folders' : 'the folder'} or remove ${empty.length > 1 ? 'them' : 'it'}.`,
  );
}

function fsError(e: unknown, p: string, what: string): NetloomError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new NetloomError('NL_DATASET_MISSING', `${what[0].toUpperCase()}${what.slice(1)} ${p} does not exist`, LAYOUT, { cause: e });
  }
  return new NetloomError('NL_IO', `Could not read ${p}: ${(e as Error)?.message ?? String(e)}`, 'Check that the folder is readable.', { cause: e });
}

async function readImage(file: string): Promise<Uint8Array> {
  try {
    return await readUserFile(file, { maxBytes: MAX_IMAGE_FILE_BYTES, what: 'PNG or JPEG image', tooLarge: 'NL_BAD_DATASET',
      hint: 'Downscale the image, or remove it from the folder (or turn on "skip unreadable images").' });
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    throw new NetloomError('NL_IO', `Could not read ${file}: ${(e as Error)?.message ?? String(e)}`, 'Check that the file is readable.', { cause: e });
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The size a PNG (its IHDR) or JPEG (its first SOF marker) declares, read from the header without decoding;
 * undefined when the header is not there (the decoder then says what is wrong).
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  const u16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  const u32 = (i: number) => ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  if (bytes.length >= 24 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    const ihdr = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
    return ihdr === 'IHDR' ? { width: u32(16), height: u32(20) } : undefined;
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end, or the scan data began without a frame header
    // SOF0..SOF15 hold [precision, height, width]; C4 (DHT), C8 (JPG) and CC (DAC) are not frames
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return i + 8 < bytes.length ? { width: u16(i + 7), height: u16(i + 5) } : undefined;
    }
    i += 2 + u16(i + 2);
  }
  return undefined;
}

/** Decodes a PNG or JPEG (recognised by its first bytes) to interleaved RGB; alpha is dropped. */
export function decodeImage(bytes: Uint8Array, file: string): RgbImage {
  const isPng = bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const fix = 'Open it in an image viewer to check it, then replace or delete it' + ' (or turn on "skip unreadable images").';
  if (!isPng && !isJpeg) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${file}: not a PNG or JPEG image (${bytes.length === 0 ? 'the file is empty' : `it starts with bytes ${head}`})`,
      'Only PNG and JPEG files are read. ' + fix,
    );
  }
  const declared = imageDimensions(bytes);
  if (declared && declared.width * declared.height > MAX_IMAGE_PIXELS) {
    throw new NetloomError('NL_BAD_DATASET',
      `${file}: the image declares ${declared.width}x${declared.height} pixels, more than the ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} Netloom decodes`,
      'Downscale the image; a file this small declaring that many pixels may be a decompression bomb.');
  }
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (isPng) {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new NetloomError('NL_BAD_DATASET', `${file}: cannot decode this ${isPng ? 'PNG' : 'JPEG'} file (${why})`, `The file is damaged or incomplete. ${fix}`, { cause: e });
  }
  if (width < 1 || height < 1 || rgba.length < width * height * 4) {
    throw new NetloomError('NL_BAD_DATASET', `${file}: the ${isPng ? 'PNG' : 'JPEG'} decoded to no pixels (${width}x${height})`, `The file is damaged or incomplete. ${fix}`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = rgba[p];
    rgb[q + 1] = rgba[p + 1];
    rgb[q + 2] = rgba[p + 2];
  }
  return { width, height, rgb };
}

/** Pillow's convert('L') of one RGB pixel. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** Interleaved RGB to planar CHW: 1 channel of luma ('grey') or 3 channels ('rgb'). */
export function toPlanar(img: RgbImage, mode: ImageMode): Uint8Array {
  const n = img.width * img.height;
  const src = img.rgb;
  if (mode === 'grey') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = luma(src[3 * i], src[3 * i + 1], src[3 * i + 2]);
    return out;
  }
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = src[3 * i];
    out[n + i] = src[3 * i + 1];
    out[2 * n + i] = src[3 * i + 2];
  }
  return out;
}

const PRECISION_BITS = 22; // Pillow: 32 - 8 - 2
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  /** bounds[2i] = first input index, bounds[2i + 1] = number of taps, for output i. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output. */
  k: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle, support 1) filter. */
function bilinearCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale; // BILINEAR's support is 1.0
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      w[x] = t < 1 ? 1 - t : 0;
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      k[xx * ksize + x] = Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { ksize, bounds, k };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes planar uint8 channels (CHW) from inW x inH to outW x outH as Pillow's Image.resize with BILINEAR does
 * (see the module comment); returns a new CHW array.
 */
export function resizeBilinear(src: Uint8Array, channels: number, inW: number, inH: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let w = inW;
  if (outW !== inW) {
    const { ksize, bounds, k } = bilinearCoeffs(inW, outW);
    const next = new Uint8Array(channels * inH * outW);
    for (let r = 0; r < channels * inH; r++) {
      const row = r * inW;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[2 * xx];
        const n = bounds[2 * xx + 1];
        let ss = HALF;
        for (let x = 0; x < n; x++) ss += cur[row + xmin + x] * k[xx * ksize + x];
        next[r * outW + xx] = clip8(ss);
      }
    }
    cur = next;
    w = outW;
  }
  if (outH !== inH) {
    const { ksize, bounds, k } = bilinearCoeffs(inH, outH);
    const next = new Uint8Array(channels * outH * w);
    for (let c = 0; c < channels; c++) {
      const plane = c * inH * w;
      for (let yy = 0; yy < outH; yy++) {
        const ymin = bounds[2 * yy];
        const n = bounds[2 * yy + 1];
        for (let xx = 0; xx < w; xx++) {
          let ss = HALF;
          for (let y = 0; y < n; y++) ss += cur[plane + (ymin + y) * w + xx] * k[yy * ksize + y];
          next[c * outH * w + yy * w + xx] = clip8(ss);
        }
      }
    }
    cur = next;
  }
  return cur === src ? src.slice() : cur;
}
