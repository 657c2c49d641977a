/**
 * IDX, the file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").
 *
 *   bytes 0-1  0x00 0x00
 *   byte  2    element type: 0x08 unsigned byte (the only one the datasets use, and the only one read here)
 *   byte  3    number of dimensions
 *   then       one u32 big-endian size per dimension, then the elements in row-major order
 *
 * Files may be gzipped, as torchvision downloads them; gzip is detected by content, not by name.
 */
import { gunzipSync } from 'node:zlib';
import { NetloomError } from '../errors.js';
import { readUserFile } from '../io/read-file.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short (16-bit)',
  0x0c: 'int (32-bit)',
  0x0d: 'float (32-bit)',
  0x0e: 'double (64-bit)',
};

const MAX_DIMS = 4;
// Larger than any IDX dataset in use (MNIST train images are 47 MB); stops a gzip bomb from exhausting memory.
const MAX_GUNZIPPED_BYTES = 1 << 30;

function bad(source: string, message: string, hint: string): NetloomError {
  return new NetloomError('NL_BAD_DATASET', `${source}: ${message}`, hint);
}

const REDOWNLOAD = 'Download the file again (torchvision.datasets.MNIST(root, download=True) fetches the originals) or remove it to use the built-in copy.';

/** Parses an uncompressed IDX file. `data` is a view into `bytes`, not a copy. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4) {
    throw bad(source, `file is ${bytes.length} bytes, too short for the 4-byte IDX header`, REDOWNLOAD);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw bad(
      source,
      `not an IDX file: the first two bytes are 0x${hex(bytes[0])} 0x${hex(bytes[1])}, expected 0x00 0x00`,
      'Point the dataset root at the folder torchvision created (it holds MNIST/raw or FashionMNIST/raw).',
    );
  }
  const typeCode = bytes[2];
  if (typeCode !== 0x08) {
    const name = TYPE_NAMES[typeCode] ?? 'unknown';
    throw bad(
      source,
      `IDX element type 0x${hex(typeCode)} (${name}) at offset 2 is not supported; only 0x08 (unsigned byte) is`,
      'Image and label files of MNIST-style datasets are unsigned bytes; convert the file to uint8.',
    );
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw bad(source, `IDX header says ${ndims} dimensions (offset 3); expected 1 to ${MAX_DIMS}`, REDOWNLOAD);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw bad(source, `file is ${bytes.length} bytes, too short for the ${headerBytes}-byte header of a ${ndims}-dimensional IDX file`, REDOWNLOAD);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    expected *= size;
  }
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw bad(
      source,
      `truncated: dimensions [${dims.join(', ')}] need ${expected} bytes of data after the ${headerBytes}-byte header, found ${actual}`,
      REDOWNLOAD,
    );
  }
  if (actual > expected) {
    throw bad(
      source,
      `${actual - expected} unexpected bytes after the data: dimensions [${dims.join(', ')}] need ${expected} bytes, the file holds ${actual}`,
      REDOWNLOAD,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads an IDX file, gunzipping it first if it starts with the gzip magic 1f 8b. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readUserFile(path, { maxBytes: MAX_GUNZIPPED_BYTES, what: 'IDX dataset file', tooLarge: 'NL_BAD_DATASET', hint: 'Check the dataset root folder: it holds the wrong files.' });
  } catch (cause) {
    if (cause instanceof NetloomError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new NetloomError('NL_DATASET_MISSING', `${path}: file not found`, 'Check the dataset root folder, or leave it empty to use the built-in copy.', { cause });
    }
    throw new NetloomError('NL_IO', `Could not read ${path}: ${(cause as Error).message}`, 'Check the file exists and is readable.', { cause });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_GUNZIPPED_BYTES });
    } catch (cause) {
      throw new NetloomError(
        'NL_BAD_DATASET',
        `${path}: corrupt gzip data (${(cause as Error).message})`,
        'The download was probably interrupted; delete the file and download it again.',
        { cause },
      );
    }
  }
  return parseIdx(bytes, path);
}

/** Encodes unsigned-byte data as IDX (type 0x08). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = allocIdx(dims);
  if (out.data.length !== data.length) {
    throw new NetloomError(
      'NL_INVALID_ARGUMENT',
      `encodeIdx: dimensions [${dims.join(', ')}] hold ${out.data.length} elements but ${data.length} bytes were given`,
      'Pass exactly product(dims) bytes.',
    );
  }
  out.data.set(data);
  return out.bytes;
}

/** A zeroed IDX file with its header written; fill `data` (a view into `bytes`) in place to avoid a second copy. */
export function allocIdx(dims: number[]): { bytes: Uint8Array; data: Uint8Array } {
  if (dims.length < 1 || dims.length > MAX_DIMS) {
    throw new NetloomError('NL_INVALID_ARGUMENT', `encodeIdx: ${dims.length} dimensions given, IDX here supports 1 to ${MAX_DIMS}`, 'Reshape the data.');
  }
  let count = 1;
  for (const size of dims) {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) {
      throw new NetloomError('NL_INVALID_ARGUMENT', `encodeIdx: dimension ${size} is not a u32`, 'Each dimension must be a whole number below 2^32.');
    }
    count *= size;
  }
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + count);
  bytes[2] = 0x08;
  bytes[3] = dims.length;
  const view = new DataView(bytes.buffer);
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  return { bytes, data: bytes.subarray(header) };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
