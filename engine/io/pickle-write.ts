/**
 * A pickler for PyValue: protocol 2, as torch.save writes its data.pkl (and the only protocol Python's
 * torch.load(weights_only=True) in PyTorch 1.13 reads without complaint). Tensors are not pickled
 * here: the caller's `tensor` hook writes them (torch-file.ts: a persistent-id storage passed to
 * torch._utils._rebuild_tensor_v2), through the small opcode API this module gives it.
 */
import { NetloomError } from '../errors.js';
import type { PyDict, PyKey, PyTensor, PyValue } from './pyvalue.js';

/** The deepest PyValue written; Netloom's own dicts are 5 levels deep at most. */
const MAX_DEPTH = 100;

/** Appends pickle opcodes to a growing buffer. */
export class PickleWriter {
  private buf = new Uint8Array(1024);
  private len = 0;

  constructor(private readonly tensor: (w: PickleWriter, t: PyTensor) => void) {
    this.bytes(0x80, 2); // PROTO 2
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  bytes(...b: number[]): void {
    this.raw(Uint8Array.from(b));
  }

  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private u32(n: number): void {
    this.bytes(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  mark(): void {
    this.bytes(0x28);
  }

  /** GLOBAL module\nname\n */
  global(module: string, name: string): void {
    this.bytes(0x63);
    this.raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  reduce(): void {
    this.bytes(0x52);
  }

  /** The tuple of the values pushed since the last mark(). */
  tuple(): void {
    this.bytes(0x74);
  }

  binpersid(): void {
    this.bytes(0x51);
  }

  /** An empty collections.OrderedDict() (torch's backward-hooks argument, and every state dict). */
  emptyOrderedDict(): void {
    this.global('collections', 'OrderedDict');
    this.bytes(0x29);
    this.reduce();
  }

  int(v: bigint): void {
    if (v >= 0n && v < 0x100n) this.bytes(0x4b, Number(v));
    else if (v >= 0n && v < 0x10000n) this.bytes(0x4d, Number(v) & 0xff, Number(v) >> 8);
    else if (v >= -0x80000000n && v < 0x80000000n) {
      this.bytes(0x4a);
      this.u32(Number(BigInt.asUintN(32, v)));
    } else {
      // LONG1: the shortest two's complement little-endian bytes that keep the sign
      const out: number[] = [];
      let x = v;
      do {
        out.push(Number(BigInt.asUintN(8, x)));
        x >>= 8n;
      } while (!((x === 0n && (out[out.length - 1] & 0x80) === 0) || (x === -1n && (out[out.length - 1] & 0x80) !== 0)));
      if (out.length > 255) throw new NetloomError('NL_INVALID_ARGUMENT', 'an int too large to pickle', 'This is a bug in the caller; please report it.');
      this.bytes(0x8a, out.length, ...out);
    }
  }

  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.bytes(0x58);
    this.u32(b.length);
    this.raw(b);
  }

  float(v: number): void {
    const b = new Uint8Array(9);
    b[0] = 0x47;
    new DataView(b.buffer).setFloat64(1, v, false);
    this.raw(b);
  }

  private key(k: PyKey): void {
    if (typeof k === 'string') this.string(k);
    else this.int(k);
  }

  private dict(d: PyDict, depth: number): void {
    if (d.ordered) this.emptyOrderedDict();
    else this.bytes(0x7d);
    if (d.entries.size > 0) {
      this.mark();
      for (const [k, v] of d.entries) {
        this.key(k);
        this.value(v, depth + 1);
      }
      this.bytes(0x75); // SETITEMS
    }
    if (d.attributes !== undefined && d.attributes.size > 0) {
      this.bytes(0x7d, 0x28); // the state: {name: value, ...}
      for (const [k, v] of d.attributes) {
        this.string(k);
        this.value(v, depth + 1);
      }
      this.bytes(0x75, 0x62); // SETITEMS, BUILD
    }
  }

  value(v: PyValue, depth = 0): void {
    if (depth > MAX_DEPTH) throw new NetloomError('NL_INVALID_ARGUMENT', `a value nests deeper than ${MAX_DEPTH} levels (or contains itself)`, 'This is a bug in the caller; please report it.');
    if (v === null) this.bytes(0x4e);
    else if (v === true) this.bytes(0x88);
    else if (v === false) this.bytes(0x89);
    else if (typeof v === 'bigint') this.int(v);
    else if (typeof v === 'number') this.float(v);
    else if (typeof v === 'string') this.string(v);
    else if (Array.isArray(v)) {
      this.bytes(0x5d);
      if (v.length > 0) {
        this.mark();
        for (const item of v) this.value(item, depth + 1);
        this.bytes(0x65); // APPENDS
      }
    } else if (v.kind === 'tuple') {
      if (v.items.length === 0) this.bytes(0x29);
      else {
        this.mark();
        for (const item of v.items) this.value(item, depth + 1);
        this.tuple();
      }
    } else if (v.kind === 'dict') this.dict(v, depth);
    else this.tensor(this, v);
  }

  /** The pickle so far, ended with STOP. */
  finish(): Uint8Array {
    this.bytes(0x2e);
    return this.buf.slice(0, this.len);
  }
}
