/**
 * safetensors (https://github.com/huggingface/safetensors), the checkpoint format Netloom saves and loads.
 *
 *   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded to a multiple of 8 | data
 *   header: { "__metadata__"?: {string: string}, name: { dtype, shape, data_offsets: [begin, end] } }
 *   offsets are relative to the start of the data section; data is little-endian, row-major.
 *
 * Written here rather than taken from a package so that every malformed-file case becomes a
 * NetloomError naming the file, the tensor and the byte range, instead of a generic exception.
 * We write F32 (and I64 for integer state such as BatchNorm's num_batches_tracked, which torch
 * stores as int64); we read F32, F64, F16, BF16 and I64 (converted to f32) so PyTorch exports load as-is.
 */
import { NetloomError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { describeJsonError } from './json-error.js';
import { TOO_DEEP, scanJson } from './json-limits.js';
import { readNamedFile } from './read-file.js';

export interface TensorF32 {
  shape: number[];
  data: Float32Array;
  /** stored dtype: F32 unless said otherwise (I64 holds integer values, e.g. counters) */
  dtype?: 'F32' | 'I64';
}

export interface DecodedSafetensors {
  /** name -> tensor; a null-prototype object, so no name is inherited or special */
  tensors: Record<string, TensorF32>;
  /** a null-prototype object too */
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
// The reference implementation refuses headers over 100 MB; a larger length is a corrupt or hostile file.
const MAX_HEADER_BYTES = 100_000_000;
/**
 * The largest checkpoint read: 2 GiB of float32 is 500 million parameters, far beyond a network
 * trained on a CPU here; the cap keeps a wrong choice (a disk image, a video) from being read whole.
 */
export const MAX_CHECKPOINT_BYTES = 2 * 1024 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8 };
// Stryker disable next-line all: both branches that test it give the same bytes; the little-endian one is only faster
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const REEXPORT = 'Save the checkpoint again; from PyTorch use safetensors.torch.save_file(model.state_dict(), path).';

function badFile(source: string, message: string, hint = REEXPORT): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);
}

function badArgument(message: string): NetloomError {
  return new NetloomError('NL_INVALID_ARGUMENT', message, 'This is a bug in the caller building the checkpoint; please report it.');
}

/**
 * The start of a header value for a message, as JSON cut at `max` characters. It walks only as far as
 * it writes: a hostile header may nest thousands of levels deep, which JSON.stringify cannot take.
 */
function quote(value: unknown, max = 60): string {
  let out = '';
  const walk = (v: unknown): void => {
    if (out.length > max) return;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= max; i++) {
        if (i > 0) out += ',';
        walk(v[i]);
      }
      out += ']';
    } else if (v !== null && typeof v === 'object') {
      out += '{';
      let first = true;
      for (const k of Object.keys(v)) {
        if (out.length > max) break;
        out += `${first ? '' : ','}${JSON.stringify(k)}:`;
        first = false;
        walk((v as Record<string, unknown>)[k]);
      }
      out += '}';
    } else out += JSON.stringify(v) ?? String(v);
  };
  walk(value);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

function elementCount(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function encodeSafetensors(tensors: Record<string, TensorF32>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw badArgument(`safetensors metadata values must be strings; "${k}" is ${typeof v}`);
      }
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    if (name === '' || name === METADATA_KEY || name === '__proto__') {
      throw badArgument(`"${name}" cannot be a tensor name in safetensors`);
    }
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw badArgument(`tensor "${name}" has an invalid shape [${shape.join(', ')}]`);
    }
    if (elementCount(shape) !== data.length) {
      throw badArgument(`tensor "${name}" has shape [${shape.join(', ')}] (${elementCount(shape)} elements) but ${data.length} values`);
    }
    const dtype = tensors[name].dtype ?? 'F32';
    if (dtype === 'I64' && !data.every((v) => Number.isInteger(v))) throw badArgument(`tensor "${name}" is I64 but holds non-integer values`);
    const bytes = data.length * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const name of names) {
    const data = tensors[name].data;
    if (tensors[name].dtype === 'I64') {
      for (let i = 0; i < data.length; i++) view.setBigInt64(at + 8 * i, BigInt(data[i]), true);
      at += data.length * 8;
      continue;
    }
    // Stryker disable all: the two branches give the same bytes (see LITTLE_ENDIAN); the test machines run one
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let i = 0; i < data.length; i++) {
        view.setFloat32(at + 4 * i, data[i], true);
      }
    }
    // Stryker restore all
    at += data.byteLength;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export function decodeSafetensors(bytes: Uint8Array, source: string): DecodedSafetensors {
  if (bytes.length < 8) {
    throw badFile(source, `file is ${bytes.length} bytes, shorter than the 8-byte safetensors header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw badFile(
      source,
      `header length ${headerLength} (bytes 0-7) runs past the end of the file (${bytes.length} bytes); the file is truncated or not safetensors`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw badFile(source, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit of the format`);
  }
  const headerEnd = 8 + Number(headerLength);
  const header = parseHeaderJson(bytes.subarray(8, headerEnd), source);
  const metadata = readMetadata(header[METADATA_KEY], source);
  const entries = Object.keys(header)
    .filter((name) => name !== METADATA_KEY)
    .map((name) => readEntry(name, header[name], source, headerEnd));
  const dataLength = bytes.length - headerEnd;
  checkLayout(entries, dataLength, source, headerEnd);

  const tensors: Record<string, TensorF32> = Object.create(null);
  for (const e of entries) {
    tensors[e.name] = { shape: e.shape, data: toFloat32(bytes, view, headerEnd + e.begin, e.dtype, elementCount(e.shape)), dtype: e.dtype === 'I64' ? 'I64' : 'F32' };
  }
  return { tensors, metadata };
}

function parseHeaderJson(raw: Uint8Array, source: string): Record<string, unknown> {
  let text: string;
  let parsed: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw badFile(source, `header (bytes 8-${8 + raw.length - 1}) is not valid UTF-8`);
  }
  // file byte of a character offset in the header
  const at = (offset: number) => 8 + Buffer.byteLength(text.slice(0, offset));
  const deep = scanJson(text);
  if (deep?.kind === 'depth') throw badFile(source, `the header ${TOO_DEEP} at byte ${at(deep.offset)} (${deep.path}); a safetensors header nests 3`);
  try {
    parsed = JSON.parse(text);
  } catch {
    // never V8's message: it quotes the bytes (json-error.ts)
    throw badFile(source, `header (bytes 8-${8 + raw.length - 1}) is not valid JSON: ${describeJsonError(text)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badFile(source, 'header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');
  }
  // JSON.parse keeps the last of two equal keys; the format has one entry per name.
  const dup = scanJson(text, { duplicates: true });
  if (dup?.kind === 'duplicate') {
    const where = `(at bytes ${at(dup.first)} and ${at(dup.second)})`;
    throw badFile(source, dup.path === ''
      ? `the header names tensor ${JSON.stringify(dup.key)} twice ${where}; each tensor must appear once`
      : `the header gives ${JSON.stringify(dup.key)} twice in ${dup.path} ${where}`);
  }
  return parsed as Record<string, unknown>;
}

function readMetadata(value: unknown, source: string): Record<string, string> {
  if (value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badFile(source, '"__metadata__" must be an object of string values');
  }
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw badFile(source, `"__metadata__" value "${k}" must be a string, got ${quote(v)}`);
    }
    out[k] = v;
  }
  return out;
}

function readEntry(name: string, value: unknown, source: string, headerEnd: number): Entry {
  const where = `tensor "${name}"`;
  // As a key of a plain object "__proto__" sets the prototype: the tensor would vanish from the table.
  if (name === '__proto__')
    throw badFile(source, 'tensor name "__proto__" is not allowed: it is not a parameter name a model can have', 'Rename the tensor, or save the state dict again.');
  if (typeof value !== 'object' || value === null) {
    throw badFile(source, `${where}: header entry must be an object {dtype, shape, data_offsets}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') {
    throw badFile(source, `${where}: missing dtype`);
  }
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) {
    throw badFile(
      source,
      `${where} has dtype ${dtype}; Netloom reads F32, F64, F16, BF16 and I64`,
      'Convert the tensor to float32 before saving, e.g. {k: v.float() for k, v in state_dict.items()}.',
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw badFile(source, `${where}: shape ${quote(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw badFile(source, `${where}: data_offsets ${quote(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  const shapeList = shape as number[];
  const expected = elementCount(shapeList) * size;
  if (end < begin || end - begin !== expected) {
    throw badFile(
      source,
      `${where}: data_offsets [${begin}, ${end}] (file bytes ${headerEnd + begin}-${headerEnd + end}) span ${end - begin} bytes, ` +
        `but shape [${shapeList.join(', ')}] of ${dtype} needs ${expected}`,
    );
  }
  return { name, dtype, shape: shapeList, begin, end };
}

function checkLayout(entries: Entry[], dataLength: number, source: string, headerEnd: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw badFile(
        source,
        `tensors "${prev.name}" [${prev.begin}, ${prev.end}] and "${cur.name}" [${cur.begin}, ${cur.end}] overlap in the data section`,
      );
    }
  }
  const last = sorted[sorted.length - 1];
  if (last !== undefined && last.end > dataLength) {
    throw badFile(
      source,
      `truncated: tensor "${last.name}" ends at data byte ${last.end} (file byte ${headerEnd + last.end}), ` +
        `but the data section has only ${dataLength} bytes`,
      'The file was cut short (interrupted copy or download); save or copy it again.',
    );
  }
}

function toFloat32(bytes: Uint8Array, view: DataView, start: number, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    // Stryker disable all: as in encodeSafetensors, the two branches give the same values
    if (LITTLE_ENDIAN) {
      // Copy through bytes: the source offset need not be 4-byte aligned, and the result must not alias the file.
      new Uint8Array(out.buffer).set(bytes.subarray(start, start + count * 4));
    } else {
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, true);
    }
    // Stryker restore all
  } else if (dtype === 'F64') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, true);
  } else if (dtype === 'I64') {
    for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(start + 8 * i, true));
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(start + 2 * i, true));
  } else {
    // bfloat16 is the top half of a float32.
    const scratch = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      scratch.setUint32(0, view.getUint16(start + 2 * i, true) << 16);
      out[i] = scratch.getFloat32(0);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) {
    return sign * mantissa * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return mantissa === 0 ? sign * Infinity : Number.NaN;
  }
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export async function saveSafetensors(path: string, tensors: Record<string, TensorF32>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function loadSafetensors(path: string): Promise<DecodedSafetensors> {
  const bytes = await readNamedFile(path, { maxBytes: MAX_CHECKPOINT_BYTES, what: 'checkpoint', tooLarge: 'NL_BAD_CHECKPOINT', hint: 'Choose the .safetensors file of a model trained in Netloom or exported from PyTorch.',
    notFound: 'checkpoint file not found', ioHint: 'Check the path: a checkpoint is in the file it was saved to.' });
  return decodeSafetensors(bytes, path);
}
