/**
 * The zip container of torch.save's format (PyTorch >= 1.6): read through the central directory
 * with every offset and length checked against the file, and written the way torch's own writer
 * does (stored, each entry's data aligned to 64 bytes by padding in an extra field named "FB").
 *
 * torch writes entries uncompressed; a deflated entry (a zip re-packed by another tool) is inflated
 * with a hard cap on its output, so a zip bomb is refused when it passes MAX_CHECKPOINT_BYTES, not
 * after filling memory. CRC-32s are checked: a flipped bit in a tensor is refused, not loaded.
 */
import * as zlib from 'node:zlib';
import { NetloomError } from '../errors.js';
import { MAX_CHECKPOINT_BYTES } from './safetensors.js';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
/** torch.save aligns each entry's data to this many bytes (caffe2/serialize/inline_container.cc). */
export const ZIP_ALIGNMENT = 64;

const RESAVE = 'The file is damaged or incomplete (an interrupted copy or download?). Save it again with torch.save(model.state_dict(), path).';

function bad(source: string, message: string, hint = RESAVE): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);
}

/** CRC-32 as zip stores it (node:zlib's, in every Node Netloom runs on: engines >= 20.19). */
export function crc32(b: Uint8Array): number {
  return zlib.crc32(b) >>> 0;
}

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  localOffset: number;
}

/** Where the central directory is and how many entries it has, from the (zip64) end record. */
function findDirectory(b: Uint8Array, v: DataView, source: string): { count: number; offset: number; size: number } {
  let at = -1;
  // the end record is 22 bytes plus a comment of at most 65535
  for (let i = b.length - 22; i >= 0 && i >= b.length - 22 - 0xffff; i--) {
    if (v.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw bad(source, 'the zip archive is truncated: it has no end-of-central-directory record');
  let count = v.getUint16(at + 10, true);
  let size = v.getUint32(at + 12, true);
  let offset = v.getUint32(at + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || v.getUint32(loc, true) !== ZIP64_LOCATOR) throw bad(source, 'the zip archive is damaged: its zip64 end record is missing');
    const z = Number(v.getBigUint64(loc + 8, true));
    if (z + 56 > b.length || v.getUint32(z, true) !== ZIP64_EOCD) throw bad(source, 'the zip archive is damaged: its zip64 end record is out of place');
    count = Number(v.getBigUint64(z + 32, true));
    size = Number(v.getBigUint64(z + 40, true));
    offset = Number(v.getBigUint64(z + 48, true));
  }
  if (offset + size > b.length) throw bad(source, `the zip archive is truncated: its directory (bytes ${offset}..${offset + size}) runs past the end of the ${b.length}-byte file`);
  return { count, offset, size };
}

/** zip64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in this order. */
function applyZip64(e: CentralEntry, extra: DataView, source: string): void {
  for (let p = 0; p + 4 <= extra.byteLength;) {
    const id = extra.getUint16(p, true);
    const len = extra.getUint16(p + 2, true);
    if (p + 4 + len > extra.byteLength) throw bad(source, `the zip entry ${e.name} has a damaged extra field`);
    if (id === 1) {
      let q = p + 4;
      const next = () => {
        if (q + 8 > p + 4 + len) throw bad(source, `the zip entry ${e.name} has a short zip64 field`);
        const x = Number(extra.getBigUint64(q, true));
        q += 8;
        return x;
      };
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressed === 0xffffffff) e.compressed = next();
      if (e.localOffset === 0xffffffff) e.localOffset = next();
    }
    p += 4 + len;
  }
}

function readDirectory(b: Uint8Array, source: string): CentralEntry[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dir = findDirectory(b, v, source);
  const entries: CentralEntry[] = [];
  let p = dir.offset;
  for (let i = 0; i < dir.count; i++) {
    if (p + 46 > dir.offset + dir.size || v.getUint32(p, true) !== CENTRAL) throw bad(source, `the zip directory is damaged at entry ${i}`);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > dir.offset + dir.size) throw bad(source, `the zip directory is damaged at entry ${i}`);
    const e: CentralEntry = {
      name: new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen)),
      method: v.getUint16(p + 10, true),
      crc: v.getUint32(p + 16, true),
      compressed: v.getUint32(p + 20, true),
      size: v.getUint32(p + 24, true),
      localOffset: v.getUint32(p + 42, true),
    };
    applyZip64(e, new DataView(b.buffer, b.byteOffset + p + 46 + nameLen, extraLen), source);
    entries.push(e);
    p = end;
  }
  return entries;
}

function entryData(b: Uint8Array, e: CentralEntry, source: string): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = e.localOffset;
  if (at + 30 > b.length || v.getUint32(at, true) !== LOCAL) throw bad(source, `the zip entry ${e.name} is missing from the archive (its header is out of place)`);
  const start = at + 30 + v.getUint16(at + 26, true) + v.getUint16(at + 28, true);
  if (start + e.compressed > b.length) throw bad(source, `the zip archive is truncated: entry ${e.name} runs past the end of the file`);
  const raw = b.subarray(start, start + e.compressed);
  let data: Uint8Array;
  if (e.method === 0) {
    if (e.compressed !== e.size) throw bad(source, `the zip entry ${e.name} is stored with two different sizes`);
    data = raw;
  } else if (e.method === 8) {
    if (e.size > MAX_CHECKPOINT_BYTES) throw bad(source, `the zip entry ${e.name} would inflate to ${e.size} bytes, more than a checkpoint may hold`, 'This is not a checkpoint Netloom can read (a zip bomb?).');
    try {
      data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch {
      throw bad(source, `the zip entry ${e.name} does not inflate to the ${e.size} bytes its header states`, 'This is not a checkpoint Netloom can read (damaged, or a zip bomb).');
    }
    if (data.length !== e.size) throw bad(source, `the zip entry ${e.name} inflates to ${data.length} bytes, not the ${e.size} its header states`);
  } else {
    throw bad(source, `the zip entry ${e.name} uses compression method ${e.method}; torch.save stores entries uncompressed`);
  }
  if (crc32(data) !== e.crc) throw bad(source, `the zip entry ${e.name} is damaged: its CRC-32 does not match its data`);
  return data;
}

/**
 * The entries of a zip archive, name -> bytes (views into `b` for stored entries). Every entry is
 * checked (bounds, CRC) before anything is returned, so a damaged archive is refused whole.
 */
export function readZip(b: Uint8Array, source: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (const e of readDirectory(b, source)) {
    if (out.has(e.name)) throw bad(source, `the zip archive has two entries named ${e.name}`);
    const data = entryData(b, e, source);
    total += data.length;
    if (total > MAX_CHECKPOINT_BYTES) throw bad(source, 'the zip archive unpacks to more than a checkpoint may hold', 'This is not a checkpoint Netloom can read (a zip bomb?).');
    out.set(e.name, data);
  }
  return out;
}

/** A stored (uncompressed) zip of `entries`, each entry's data aligned to ZIP_ALIGNMENT bytes, as torch.save writes it. */
export function writeZip(entries: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    // extra field "FB" (torch's id 0x4246) padding the data to the alignment; at least its 4-byte header
    const headerEnd = offset + 30 + nameBytes.length + 4;
    const pad = (ZIP_ALIGNMENT - (headerEnd % ZIP_ALIGNMENT)) % ZIP_ALIGNMENT;
    const local = new Uint8Array(30 + nameBytes.length + 4 + pad);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, 4 + pad, true);
    local.set(nameBytes, 30);
    lv.setUint16(30 + nameBytes.length, 0x4246, true);
    lv.setUint16(32 + nameBytes.length, pad, true);
    local.fill(0x5a, 34 + nameBytes.length); // torch pads with 'Z'
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...parts, ...central, end]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
