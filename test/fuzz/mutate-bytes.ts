/**
 * Format-blind mutations of a file's bytes (AFL's havoc stage, in small): bit flips, interesting
 * bytes, inserted and deleted runs, truncation, duplicated runs and splices with another file.
 * Each returns a new array; the input is never changed.
 */
import type { Gen } from './gen.js';

/** Bytes that matter to the parsers under test: JSON/CSV syntax, NUL, high bytes, a UTF-8 lead. */
const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x2c, 0x3b, 0x09, 0x0a, 0x0d, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x20, 0xc3, 0xef, 0x2d, 0x30, 0x39, 0x65];

export interface ByteRange {
  /** first byte an edit may touch */
  start: number;
  /** one past the last */
  end: number;
}

function spot(g: Gen, buf: Uint8Array, focus?: ByteRange): number {
  const lo = Math.min(focus?.start ?? 0, buf.length);
  const hi = Math.min(focus?.end ?? buf.length, buf.length);
  return hi > lo ? g.range(lo, hi - 1) : g.int(buf.length + 1);
}

/** A copy (Buffer#slice would return a view: an edit would change the seed itself). */
export const copyOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export type ByteOp = (g: Gen, buf: Uint8Array, focus?: ByteRange, other?: Uint8Array) => { bytes: Uint8Array; what: string };

export const BYTE_OPS: Record<string, ByteOp> = {
  flipBits(g, buf, focus) {
    const out = copyOf(buf);
    const n = g.small(8);
    if (out.length === 0) return { bytes: out, what: 'flip (empty)' };
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = Math.min(spot(g, out, focus), out.length - 1);
      out[p] ^= 1 << g.int(8);
      at.push(p);
    }
    return { bytes: out, what: `flip bits at ${at.join(',')}` };
  },
  interestingByte(g, buf, focus) {
    const out = copyOf(buf);
    if (out.length === 0) return { bytes: out, what: 'set byte (empty)' };
    const p = Math.min(spot(g, out, focus), out.length - 1);
    out[p] = g.pick(INTERESTING_BYTES);
    return { bytes: out, what: `byte ${p} = 0x${out[p].toString(16)}` };
  },
  insert(g, buf, focus) {
    const p = spot(g, buf, focus);
    const n = g.weighted([[6, g.small(16)], [2, g.range(17, 256)], [1, g.range(1000, 70000)]] as const);
    const fill = g.chance(0.5) ? g.bytes(n) : new Uint8Array(n).fill(g.pick(INTERESTING_BYTES));
    return { bytes: concat(buf.subarray(0, p), fill, buf.subarray(p)), what: `insert ${n} bytes at ${p}` };
  },
  remove(g, buf, focus) {
    const p = spot(g, buf, focus);
    const n = Math.min(buf.length - p, g.weighted([[6, g.small(16)], [2, g.range(17, 512)]] as const));
    return { bytes: concat(buf.subarray(0, p), buf.subarray(p + n)), what: `delete ${n} bytes at ${p}` };
  },
  truncate(g, buf, focus) {
    const p = spot(g, buf, focus);
    return { bytes: copyOf(buf.subarray(0, p)), what: `truncate to ${p} bytes` };
  },
  duplicate(g, buf, focus) {
    const p = spot(g, buf, focus);
    const n = Math.min(buf.length - p, g.range(1, 512));
    const copies = g.weighted([[8, 1], [1, g.range(2, 200)]] as const);
    const run = buf.subarray(p, p + n);
    return { bytes: concat(buf.subarray(0, p + n), ...Array.from({ length: copies }, () => run), buf.subarray(p + n)), what: `repeat ${n} bytes at ${p} x${copies}` };
  },
  randomize(g, buf, focus) {
    const out = copyOf(buf);
    const p = spot(g, out, focus);
    const n = Math.min(out.length - p, g.range(1, 64));
    out.set(g.bytes(n), p);
    return { bytes: out, what: `randomize ${n} bytes at ${p}` };
  },
  splice(g, buf, focus, other) {
    if (!other || other.length === 0) return BYTE_OPS.truncate(g, buf, focus);
    const p = spot(g, buf, focus);
    const q = g.int(other.length);
    return { bytes: concat(buf.subarray(0, p), other.subarray(q)), what: `splice at ${p} with another file from ${q}` };
  },
};

const OP_NAMES = Object.keys(BYTE_OPS);

/** One to a few random byte edits; `focus` biases them to a region (a checkpoint's header). */
export function mutateBytes(g: Gen, buf: Uint8Array, o: { focus?: ByteRange; other?: Uint8Array; maxOps?: number } = {}): { bytes: Uint8Array; what: string[] } {
  let bytes = buf;
  const what: string[] = [];
  const n = g.small(o.maxOps ?? 4);
  for (let i = 0; i < n; i++) {
    const op = BYTE_OPS[g.pick(OP_NAMES)];
    // edits after the first may land anywhere: the focus region has moved
    const r = op(g, bytes, i === 0 ? o.focus : undefined, o.other);
    bytes = r.bytes;
    what.push(r.what);
  }
  return { bytes, what };
}
