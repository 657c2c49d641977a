/**
 * A restricted unpickler: Python's pickle (protocols 2-5) decoded into PyValue, for the opcodes a
 * torch.save file needs and nothing else. It never runs code: a GLOBAL is looked up by its exact
 * name in the table the caller passes (torch-file.ts: OrderedDict, torch's tensor rebuilders, the
 * storage classes) and any other name is refused before the next opcode is read; REDUCE calls only
 * what that table returns, a plain TypeScript function of the decoded arguments.
 *
 * Hostile input is a NetloomError naming the file and the byte offset, never a crash or a hang:
 * every read is bounds-checked, the memo and the stack are checked on every use, and the stack,
 * the memo and MARK nesting are capped. Each opcode consumes at least one byte and does bounded work,
 * so decoding is linear in the pickle's size. Memo references can make a value refer to itself (a
 * list holding itself); callers that walk a result use walkPickled, which refuses cycles and depth.
 */
import { NetloomError } from '../errors.js';
import { pyTuple, type PyDict, type PyKey, type PyValue } from './pyvalue.js';

/**
 * A value the unpickler holds that is not plain data: a global's callable (from the caller's table),
 * or whatever a caller-defined REDUCE or persistent id yields (a storage). Opaque values live inside
 * containers during decoding (a storage class inside a persistent id tuple); callers check that none
 * is left in the result.
 */
export interface PyOpaque {
  kind: 'opaque';
  /** what it is, for messages: "torch.FloatStorage", "a storage" */
  what: string;
  /** set for a callable global: applies it to REDUCE's arguments */
  call?: (args: PickleValue[]) => PickleValue;
  payload?: unknown;
}

export type PickleValue = PyValue | PyOpaque;

export interface UnpickleOptions {
  /** the file, for messages */
  source: string;
  /** the callable (or class token) a GLOBAL names, or undefined to refuse the name */
  global(module: string, name: string): PyOpaque | undefined;
  /** what a persistent id stands for (torch: a storage); absent: BINPERSID is refused */
  persistentLoad?(pid: PickleValue): PickleValue;
  /** the hint of a refused global (torch-file.ts: "save model.state_dict()" for a whole model) */
  refusedHint?(module: string, name: string): string;
}

/** Caps far above what a state dict needs (torch's own pickles stay under a few thousand entries deep). */
export const PICKLE_LIMITS = { stack: 1_000_000, memo: 1_000_000, marks: 1_000, nesting: 100, treeValues: 10_000_000 } as const;

const isOpaque = (v: PickleValue | undefined): v is PyOpaque => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'opaque';

/** Opcode names for messages (pickletools' names). */
const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE', 0x28: 'MARK',
  0x8c: 'SHORT_BINUNICODE', 0x58: 'BINUNICODE', 0x8d: 'BINUNICODE8', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2',
  0x8a: 'LONG1', 0x47: 'BINFLOAT', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4e: 'NONE', 0x74: 'TUPLE', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x73: 'SETITEM', 0x75: 'SETITEMS', 0x61: 'APPEND', 0x65: 'APPENDS', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x94: 'MEMOIZE', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL',
  0x52: 'REDUCE', 0x62: 'BUILD', 0x51: 'BINPERSID', 0x2e: 'STOP',
};

/** Opcodes Netloom refuses, by name, so the message says what the pickle tried (pickletools' names). */
const REFUSED_NAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
  0x8b: 'LONG4', 0x32: 'DUP', 0x30: 'POP', 0x31: 'POP_MARK', 0x70: 'PUT', 0x67: 'GET', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x6c: 'LIST', 0x64: 'DICT',
};

const DAMAGED_HINT = 'The file is damaged or was not written by torch.save. Save it again with torch.save(model.state_dict(), path).';

class Unpickler {
  private pos: number;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private opStart = 0;

  constructor(private readonly bytes: Uint8Array, start: number, private readonly o: UnpickleOptions) {
    this.pos = start;
  }

  private bad(message: string, hint = DAMAGED_HINT): NetloomError {
    return new NetloomError('NL_BAD_CHECKPOINT', `${this.o.source}: ${message} (pickle byte ${this.opStart})`, hint);
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) throw this.bad(`the pickle is truncated: ${OPCODE_NAMES[this.bytes[this.opStart]] ?? 'an opcode'} needs ${n} more bytes than the file has`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }

  /** A little-endian length of `n` bytes (4 or 8), checked against the bytes left. */
  private length(n: 4 | 8): number {
    const v = this.view(n);
    const len = n === 4 ? v.getUint32(0, true) : Number(v.getBigUint64(0, true));
    if (len > this.bytes.length - this.pos) throw this.bad(`the pickle is truncated: a ${len}-byte value runs past the end of the file`);
    return len;
  }

  private text(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
    } catch (e) {
      if (e instanceof NetloomError) throw e;
      throw this.bad('a string in the pickle is not valid UTF-8');
    }
  }

  private push(v: PickleValue): void {
    if (this.stack.length >= PICKLE_LIMITS.stack) throw this.bad(`the pickle's stack grows past ${PICKLE_LIMITS.stack} values`);
    this.stack.push(v);
  }

  private pop(): PickleValue {
    const floor = this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) throw this.bad(`${OPCODE_NAMES[this.bytes[this.opStart]]} finds the stack empty (stack underflow)`);
    return this.stack.pop() as PickleValue;
  }

  private top(): PickleValue {
    const floor = this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) throw this.bad(`${OPCODE_NAMES[this.bytes[this.opStart]]} finds the stack empty (stack underflow)`);
    return this.stack[this.stack.length - 1];
  }

  /** The values pushed since the last MARK, removing them and the mark. */
  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.bad(`${OPCODE_NAMES[this.bytes[this.opStart]]} has no MARK before it`);
    return this.stack.splice(mark);
  }

  private put(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= PICKLE_LIMITS.memo) throw this.bad(`the pickle's memo grows past ${PICKLE_LIMITS.memo} entries`);
    this.memo.set(index, this.top());
  }

  private get(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) throw this.bad(`the pickle refers to memo entry ${index}, which it never stored`);
    this.push(v);
  }

  private key(k: PickleValue): PyKey {
    if (typeof k === 'string' || typeof k === 'bigint') return k;
    throw this.bad(`a dict key is ${describePickled(k)}; Netloom reads dicts keyed by strings and ints only`);
  }

  private dictTarget(): PyDict {
    const d = this.top();
    if (typeof d === 'object' && d !== null && !Array.isArray(d) && d.kind === 'dict') return d;
    throw this.bad(`${OPCODE_NAMES[this.bytes[this.opStart]]} sets an item of ${describePickled(d)}, not of a dict`);
  }

  private listTarget(): PickleValue[] {
    const l = this.top();
    if (Array.isArray(l)) return l as PickleValue[];
    throw this.bad(`${OPCODE_NAMES[this.bytes[this.opStart]]} appends to ${describePickled(l)}, not to a list`);
  }

  private global(module: string, name: string): void {
    const g = this.o.global(module, name);
    if (g === undefined) {
      const hint = this.o.refusedHint?.(module, name)
        ?? 'Do not load this file in Python either: a pickle that names such a global runs it. Netloom reads files written by torch.save(model.state_dict(), path).';
      throw new NetloomError('NL_BAD_CHECKPOINT',
        `${this.o.source}: refusing to load: the pickle asks for ${module}.${name}, which a checkpoint never needs (Netloom reads tensors, dicts and lists only; loading a checkpoint never runs code)`, hint);
    }
    this.push(g);
  }

  private reduce(): void {
    const args = this.pop();
    const f = this.pop();
    if (!isOpaque(f) || f.call === undefined) throw this.bad(`REDUCE calls ${describePickled(f)}, which is not a function Netloom allows`);
    if (typeof args !== 'object' || args === null || Array.isArray(args) || args.kind !== 'tuple') throw this.bad(`REDUCE passes ${describePickled(args)} to ${f.what} instead of an argument tuple`);
    try {
      this.push(f.call(args.items));
    } catch (e) {
      if (e instanceof NetloomError) throw e;
      throw this.bad(`${f.what}: ${(e as Error).message}`);
    }
  }

  /** BUILD on a dict: its state becomes instance attributes (OrderedDict's `_metadata`); nothing else is built. */
  private build(): void {
    const state = this.pop();
    const target = this.dictTarget();
    let attrs: PickleValue = state;
    // (dict_state, slot_state) as object.__reduce_ex__ writes it; torch's OrderedDict has no slots
    if (typeof state === 'object' && state !== null && !Array.isArray(state) && state.kind === 'tuple' && state.items.length === 2 && state.items[1] === null) attrs = state.items[0];
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs) || attrs.kind !== 'dict') throw this.bad(`BUILD gives a dict the state ${describePickled(state)}; Netloom sets only attributes from a dict`);
    target.attributes ??= new Map();
    for (const [k, v] of attrs.entries) {
      if (typeof k !== 'string') throw this.bad('BUILD names an attribute by a number');
      target.attributes.set(k, v);
    }
  }

  private persistent(): void {
    const pid = this.pop();
    if (this.o.persistentLoad === undefined) throw this.bad('the pickle refers to outside data (BINPERSID), which this file cannot have');
    this.push(this.o.persistentLoad(pid));
  }

  /** Reads one opcode; true at STOP. */
  private step(): boolean {
    this.opStart = this.pos;
    const op = this.u8();
    switch (op) {
      case 0x80: { // PROTO
        const p = this.u8();
        if (p < 2 || p > 5) throw this.bad(`pickle protocol ${p}; Netloom reads protocols 2 to 5`);
        return false;
      }
      case 0x95: this.length(8); return false; // FRAME: a length hint only; the opcodes follow inline
      case 0x7d: this.push({ kind: 'dict', ordered: false, entries: new Map() }); return false;
      case 0x5d: this.push([]); return false;
      case 0x29: this.push(pyTuple()); return false;
      case 0x28:
        if (this.marks.length >= PICKLE_LIMITS.marks) throw this.bad(`MARKs nest deeper than ${PICKLE_LIMITS.marks}`);
        this.marks.push(this.stack.length);
        return false;
      case 0x8c: this.push(this.text(this.u8())); return false;
      case 0x58: this.push(this.text(this.length(4))); return false;
      case 0x8d: this.push(this.text(this.length(8))); return false;
      case 0x4a: this.push(BigInt(this.view(4).getInt32(0, true))); return false;
      case 0x4b: this.push(BigInt(this.u8())); return false;
      case 0x4d: this.push(BigInt(this.view(2).getUint16(0, true))); return false;
      case 0x8a: this.push(littleEndianSigned(this.take(this.u8()))); return false;
      case 0x47: this.push(this.view(8).getFloat64(0, false)); return false; // big-endian, as pickle writes it
      case 0x88: this.push(true); return false;
      case 0x89: this.push(false); return false;
      case 0x4e: this.push(null); return false;
      // not pyTuple(...items): spreading a million items into arguments overflows the call stack
      case 0x74: this.push({ kind: 'tuple', items: this.popMark() as PyValue[] }); return false;
      case 0x85: { const a = this.pop(); this.push(pyTuple(a as PyValue)); return false; }
      case 0x86: { const b = this.pop(); const a = this.pop(); this.push(pyTuple(a as PyValue, b as PyValue)); return false; }
      case 0x87: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push(pyTuple(a as PyValue, b as PyValue, c as PyValue)); return false; }
      case 0x73: { const v = this.pop(); const k = this.pop(); this.dictTarget().entries.set(this.key(k), v as PyValue); return false; }
      case 0x75: {
        const items = this.popMark();
        if (items.length % 2 !== 0) throw this.bad('SETITEMS has a key without a value');
        const d = this.dictTarget();
        for (let i = 0; i < items.length; i += 2) d.entries.set(this.key(items[i]), items[i + 1] as PyValue);
        return false;
      }
      case 0x61: { const v = this.pop(); this.listTarget().push(v); return false; }
      case 0x65: { const items = this.popMark(); const l = this.listTarget(); for (const v of items) l.push(v); return false; }
      case 0x71: this.put(this.u8()); return false;
      case 0x72: this.put(this.view(4).getUint32(0, true)); return false;
      case 0x68: this.get(this.u8()); return false;
      case 0x6a: this.get(this.view(4).getUint32(0, true)); return false;
      case 0x94: this.put(this.memo.size); return false;
      case 0x63: { const module = this.line(); const name = this.line(); this.global(module, name); return false; }
      case 0x93: {
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.bad('STACK_GLOBAL names a global by something other than two strings');
        this.global(module, name);
        return false;
      }
      case 0x52: this.reduce(); return false;
      case 0x62: this.build(); return false;
      case 0x51: this.persistent(); return false;
      case 0x2e: return true;
      default: {
        const name = REFUSED_NAMES[op];
        throw this.bad(name !== undefined
          ? `the pickle uses opcode ${name} (0x${op.toString(16).padStart(2, '0')}), which a torch.save state dict never needs`
          : `byte 0x${op.toString(16).padStart(2, '0')} is not a pickle opcode Netloom reads`);
      }
    }
  }

  /** A newline-terminated ASCII line (GLOBAL's module and name), at most 256 bytes. */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 256) throw this.bad('GLOBAL\'s name is not a line of at most 256 characters');
    const s = this.text(end - this.pos);
    this.pos++;
    return s;
  }

  run(): { value: PickleValue; end: number } {
    while (!this.step()) {
      // each step consumes at least one byte, so this ends
    }
    if (this.marks.length > 0) throw this.bad('STOP comes with a MARK still open');
    if (this.stack.length !== 1) throw this.bad(`STOP leaves ${this.stack.length} values on the stack instead of one`);
    return { value: this.stack[0], end: this.pos };
  }
}

/** A two's complement little-endian integer (LONG1). */
function littleEndianSigned(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

/**
 * Decodes one pickle starting at `start` (a legacy torch.save file is several in a row): its value
 * and the offset just past its STOP.
 */
export function unpickle(bytes: Uint8Array, o: UnpickleOptions, start = 0): { value: PickleValue; end: number } {
  return new Unpickler(bytes, start, o).run();
}

/** What a value is, for messages: "a dict", "the string" (never its content: it may be anything). */
export function describePickled(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'bigint') return 'an int';
  if (typeof v === 'number') return 'a float';
  if (typeof v === 'string') return 'a string';
  if (Array.isArray(v)) return 'a list';
  if (v.kind === 'tuple') return 'a tuple';
  if (v.kind === 'dict') return v.ordered ? 'an OrderedDict' : 'a dict';
  if (v.kind === 'tensor') return 'a tensor';
  return v.what;
}

/**
 * Visits every value under `root` once (depth first, containers before their items, attributes included),
 * refusing a value that contains itself and nesting deeper than PICKLE_LIMITS.nesting: what a caller
 * walking the result (a checker, a converter) would otherwise loop on or overflow its stack with.
 */
export function walkPickled(root: PickleValue, source: string, visit: (v: PickleValue, path: string) => void): void {
  const open = new Set<object>();
  // a value met again by another path is not walked twice: memo references can share one list at
  // every level of a deep nest, which walked as a tree would take 2^depth steps
  const done = new Set<object>();
  const walk = (v: PickleValue, path: string, depth: number): void => {
    if (depth > PICKLE_LIMITS.nesting) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${path} nests deeper than ${PICKLE_LIMITS.nesting} levels`, DAMAGED_HINT);
    visit(v, path);
    if (typeof v !== 'object' || v === null || isOpaque(v) || (!Array.isArray(v) && v.kind === 'tensor')) return;
    if (open.has(v)) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${path} contains itself`, DAMAGED_HINT);
    if (done.has(v)) return;
    open.add(v);
    done.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
    else if (v.kind === 'tuple') v.items.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
    else {
      for (const [k, item] of v.entries) walk(item, `${path}[${typeof k === 'string' ? JSON.stringify(k) : k}]`, depth + 1);
      for (const [k, item] of v.attributes ?? []) walk(item, `${path}.${k}`, depth + 1);
    }
    open.delete(v);
  };
  walk(root, 'the root', 0);
}

/**
 * How many values `root` holds counted as a tree, a shared value once per place it appears: what a
 * consumer that recurses through the value (a converter, JSON) will visit. Memo references let a few
 * bytes stand for 2^depth places, so walkPickled's single visit per value does not bound this; the
 * count is refused past PICKLE_LIMITS.treeValues. `root` must have passed walkPickled (no cycles).
 */
export function checkTreeSize(root: PickleValue, source: string): void {
  const sizes = new Map<object, number>();
  const size = (v: PickleValue): number => {
    if (typeof v !== 'object' || v === null || isOpaque(v) || (!Array.isArray(v) && v.kind === 'tensor')) return 1;
    const known = sizes.get(v);
    if (known !== undefined) return known;
    let n = 1;
    const items = Array.isArray(v) ? v : v.kind === 'tuple' ? v.items : [...v.entries.values(), ...(v.attributes?.values() ?? [])];
    for (const item of items) n = Math.min(n + size(item), PICKLE_LIMITS.treeValues + 1);
    sizes.set(v, n);
    return n;
  };
  if (size(root) > PICKLE_LIMITS.treeValues)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: the file's values, counted where each appears, number more than ${PICKLE_LIMITS.treeValues}`, DAMAGED_HINT);
}
