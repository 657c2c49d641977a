/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"):
 * cifar-10-binary.tar.gz holds cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin (plus batches.meta.txt
 * and readme.html). Each .bin is a run of 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes,
 * the 1024 red values, then 1024 green, then 1024 blue, each channel row-major 32x32; i.e. CHW, which is
 * the [3, 32, 32] layout a Conv2d expects. Train = batches 1..5 in order (50,000), test = test_batch (10,000),
 * the same order torchvision's CIFAR10 uses.
 *
 * Read from the tarball directly (gunzip off the main thread, then a small ustar reader) or from an
 * extracted cifar-10-batches-bin/ folder, whichever is present.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { NetloomError } from '../errors.js';
import { readUserFile } from '../io/read-file.js';
import type { Split } from './image-split.js';

export const CIFAR_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR_FOLDER = 'cifar-10-batches-bin';
export const CIFAR_TRAIN_BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR_TEST_BATCH = 'test_batch.bin';
export const CIFAR_SAMPLE_BYTES = 3 * 32 * 32;
const RECORD = 1 + CIFAR_SAMPLE_BYTES;
// The real archive unpacks to ~185 MB; a bound well above it stops a gzip bomb.
const MAX_UNPACKED = 1 << 30;

const REFETCH = 'Delete the file and download it again (netloom train --dataset cifar10 --download).';
const gunzipAsync = promisify(gunzip);

export interface TarEntry {
  name: string;
  /** '0' regular file, '5' directory, ... (ustar typeflag; '\0' read as '0') */
  type: string;
  data: Uint8Array;
}

/**
 * Entries of an uncompressed tar (POSIX ustar, old v7, GNU long names 'L', pax 'x' path records).
 * `data` are views into `bytes`. Throws NL_BAD_DATASET on a bad header checksum or a truncated entry.
 */
export function readTar(bytes: Uint8Array, source: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= bytes.length) {
    const header = bytes.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break; // end of archive (two zero blocks; one is enough to stop)
    const stored = parseOctal(header.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    if (stored !== sum) {
      throw new NetloomError('NL_BAD_DATASET', `${source}: not a tar archive or damaged (header checksum at byte ${pos} is ${stored}, computed ${sum})`, REFETCH);
    }
    const size = parseSize(header.subarray(124, 136));
    const typeByte = header[156];
    const type = typeByte === 0 ? '0' : String.fromCharCode(typeByte);
    const dataStart = pos + 512;
    if (size < 0 || dataStart + size > bytes.length) {
      throw new NetloomError('NL_BAD_DATASET', `${source}: truncated tar archive (an entry of ${size} bytes at byte ${dataStart} runs past the end, ${bytes.length})`, REFETCH);
    }
    const data = bytes.subarray(dataStart, dataStart + size);
    pos = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type === 'x') {
      const p = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
      if (p) longName = p[1];
      continue;
    }
    if (type === 'g') continue;
    const isUstar = cString(header.subarray(257, 263)).startsWith('ustar');
    const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
    const short = cString(header.subarray(0, 100));
    const name = longName ?? (prefix ? `${prefix}/${short}` : short);
    longName = undefined;
    entries.push({ name, type, data });
  }
  return entries;
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

function parseOctal(b: Uint8Array): number {
  const s = cString(b).trim();
  return s === '' ? 0 : /^[0-7]+$/.test(s) ? parseInt(s, 8) : -1;
}

/** Size field: octal, or GNU base-256 (high bit set) for sizes of 8 GiB and more. */
function parseSize(b: Uint8Array): number {
  if (b[0] & 0x80) {
    let n = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return Number.isSafeInteger(n) ? n : -1;
  }
  return parseOctal(b);
}

/** Parses one .bin batch; `labels`/`images` are fresh arrays. */
export function parseCifarBatch(bytes: Uint8Array, source: string): Split {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${source}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (1 label byte + 3072 pixel bytes)`,
      REFETCH,
    );
  }
  const count = bytes.length / RECORD;
  const images = new Uint8Array(count * CIFAR_SAMPLE_BYTES);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const label = bytes[k * RECORD];
    if (label > 9) {
      throw new NetloomError('NL_BAD_DATASET', `${source}: record ${k} (byte offset ${k * RECORD}) has label ${label}, outside the 10 classes 0..9`, REFETCH);
    }
    labels[k] = label;
    images.set(bytes.subarray(k * RECORD + 1, (k + 1) * RECORD), k * CIFAR_SAMPLE_BYTES);
  }
  return { images, labels, count };
}

function concat(parts: Split[]): Split {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * CIFAR_SAMPLE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR_SAMPLE_BYTES);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

/** Train and test splits from the batch files, given as name → bytes (names are matched by their last path part). */
export function cifarSplits(files: Map<string, Uint8Array>, source: string): { train: Split; test: Split } {
  const byBase = new Map<string, { name: string; data: Uint8Array }>();
  for (const [name, data] of files) byBase.set(path.posix.basename(name), { name, data });
  const missing = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH].filter((b) => !byBase.has(b));
  if (missing.length > 0) {
    throw new NetloomError('NL_BAD_DATASET', `${source} does not hold ${missing.join(', ')}`, `It should be the CIFAR-10 binary version (${CIFAR_ARCHIVE}). ${REFETCH}`);
  }
  const batch = (b: string) => {
    const f = byBase.get(b)!;
    return parseCifarBatch(f.data, `${source}: ${f.name}`);
  };
  return { train: concat(CIFAR_TRAIN_BATCHES.map(batch)), test: batch(CIFAR_TEST_BATCH) };
}

/** Reads CIFAR-10 from a .tar.gz (or plain .tar) archive. */
export async function readCifarArchive(file: string): Promise<{ train: Split; test: Split }> {
  // the archive unpacks to at most MAX_UNPACKED, so it is no larger either (it is 163 MB)
  let bytes: Uint8Array = await readOrThrow(file, MAX_UNPACKED, 'CIFAR-10 archive');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes, { maxOutputLength: MAX_UNPACKED });
    } catch (cause) {
      throw new NetloomError('NL_BAD_DATASET', `${file}: corrupt gzip data (${(cause as Error).message})`, REFETCH, { cause });
    }
  }
  const files = new Map<string, Uint8Array>();
  for (const e of readTar(bytes, file)) if (e.type === '0' && e.name.endsWith('.bin')) files.set(e.name, e.data);
  return cifarSplits(files, file);
}

/** Reads CIFAR-10 from an extracted cifar-10-batches-bin/ folder. */
export async function readCifarFolder(folder: string): Promise<{ train: Split; test: Split }> {
  const files = new Map<string, Uint8Array>();
  for (const b of [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH]) {
    const p = path.join(folder, b);
    if (existsSync(p)) files.set(b, await readOrThrow(p, MAX_BATCH_BYTES, 'CIFAR-10 batch file'));
  }
  return cifarSplits(files, folder);
}

/** A batch file holds 10,000 records (30,730,000 bytes); twice that is surely not one. */
const MAX_BATCH_BYTES = 20_000 * RECORD;

async function readOrThrow(file: string, maxBytes: number, what: string): Promise<Uint8Array> {
  try {
    return await readUserFile(file, { maxBytes, what, tooLarge: 'NL_BAD_DATASET', hint: 'Run with --download to fetch CIFAR-10 again.' });
  } catch (cause) {
    if (cause instanceof NetloomError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetloomError('NL_DATASET_MISSING', `${file}: file not found`, 'Run with --download to fetch CIFAR-10.', { cause });
    throw new NetloomError('NL_IO', `Could not read ${file}: ${(cause as Error).message}`, 'Check the file exists and is readable.', { cause });
  }
}
