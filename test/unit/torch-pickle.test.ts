/**
 * The restricted unpickler (engine/io/pickle-read.ts) and the pickler (pickle-write.ts): values round
 * trip through both; every malformed pickle is a NetloomError naming what is wrong (an unknown opcode,
 * a memo entry never stored, a stack underflow, a truncation at every byte, a nest too deep), never a
 * crash or a hang.
 */
import { describe, expect, it } from 'vitest';
import { PICKLE_LIMITS, checkTreeSize, unpickle, walkPickled, type UnpickleOptions } from '../../engine/io/pickle-read.js';
import { PickleWriter } from '../../engine/io/pickle-write.js';
import { pyDict, pyTuple, type PyValue } from '../../engine/io/pyvalue.js';
import { thrown } from '../support/rejection.js';

/** No globals at all: plain values only. */
const PLAIN: UnpickleOptions = { source: 'test.pkl', global: () => undefined };
const ORDERED: UnpickleOptions = {
  source: 'test.pkl',
  global: (m, n) => (m === 'collections' && n === 'OrderedDict' ? { kind: 'opaque', what: 'collections.OrderedDict', call: () => pyDict([], true) } : undefined),
};

const pickle = (v: PyValue) => {
  const w = new PickleWriter(() => {
    throw new Error('no tensors here');
  });
  w.value(v);
  return w.finish();
};
const bytes = (...parts: (number[] | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(Buffer.from(p, 'utf8')) : p)));
const read = (b: Uint8Array, o = PLAIN) => unpickle(b, o).value;

describe('round trip: our pickler -> our unpickler', () => {
  const ints = [0n, 1n, 255n, 256n, 65535n, 65536n, -1n, -128n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n + 5n, -(2n ** 70n)];
  it.each(ints.map((i) => [i]))('int %s', (i) => {
    expect(read(pickle(i))).toBe(i);
  });
  it.each([[0], [-0.5], [1e300], [Number.MIN_VALUE], [Infinity], [-Infinity]])('float %s', (f) => {
    expect(read(pickle(f))).toBe(f);
  });
  it('NaN, strings (empty, unicode), None, bools', () => {
    expect(read(pickle(NaN))).toBeNaN();
    for (const v of ['', 'fc1.weight', 'Größe ✓ 𝄞', null, true, false]) expect(read(pickle(v))).toBe(v);
  });
  it('nested lists, tuples, dicts with str and int keys, an OrderedDict with attributes', () => {
    const inner = pyDict([['a', 1n], [3n, pyTuple()], ['t', pyTuple(1n, 'x', [2.5, null])]]);
    const od = pyDict([['k', [inner, pyTuple(true)]]], true);
    od.attributes = new Map([['_metadata', pyDict([['netloom', pyDict([['producer', 'netloom']])]], true)]]);
    const back = read(pickle([od, [], pyTuple(1n), pyTuple(1n, 2n), pyTuple(1n, 2n, 3n), pyTuple(1n, 2n, 3n, 4n)]), ORDERED);
    expect(back).toEqual([od, [], pyTuple(1n), pyTuple(1n, 2n), pyTuple(1n, 2n, 3n), pyTuple(1n, 2n, 3n, 4n)]);
  });
});

describe('opcodes Python writes (protocol 4/5) that our pickler does not', () => {
  it('FRAME, SHORT_BINUNICODE, BINUNICODE8, MEMOIZE, LONG_BINPUT/LONG_BINGET, BININT2, STACK_GLOBAL', () => {
    // protocol 4: FRAME n, EMPTY_LIST MEMOIZE, MARK, SHORT_BINUNICODE 'ab' MEMOIZE, BINGET 1, BINUNICODE8 'c', BININT2 513,
    // LONG_BINPUT 7, LONG_BINGET 7, APPENDS, STOP
    const body = bytes([0x5d, 0x94, 0x28, 0x8c, 2], 'ab', [0x94, 0x68, 1, 0x8d, 1, 0, 0, 0, 0, 0, 0, 0], 'c', [0x4d, 1, 2, 0x72, 7, 0, 0, 0, 0x6a, 7, 0, 0, 0, 0x65, 0x2e]);
    const b = bytes([0x80, 4, 0x95, body.length, 0, 0, 0, 0, 0, 0, 0], Array.from(body));
    expect(read(b)).toEqual(['ab', 'ab', 'c', 513n, 513n]);
    const stackGlobal = bytes([0x80, 4, 0x8c, 11], 'collections', [0x8c, 11], 'OrderedDict', [0x93, 0x29, 0x52, 0x2e]);
    expect(read(stackGlobal, ORDERED)).toEqual(pyDict([], true));
  });
});

describe('refusals', () => {
  const refusal = (b: Uint8Array, o = PLAIN) => thrown(() => unpickle(b, o));
  it('an opcode a state dict never needs is refused by name, an unknown byte by value', () => {
    expect(refusal(bytes([0x80, 2, 0x81, 0x2e])).message).toMatch(/opcode NEWOBJ \(0x81\), which a torch.save state dict never needs/);
    expect(refusal(bytes([0x80, 2, 0x49], '1\n', [0x2e])).message).toMatch(/opcode INT \(0x49\)/);
    expect(refusal(bytes([0x80, 2, 0xff, 0x2e]))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: 'test.pkl: byte 0xff is not a pickle opcode Netloom reads (pickle byte 2)' });
  });
  it('protocols outside 2..5', () => {
    expect(refusal(bytes([0x80, 6, 0x4e, 0x2e])).message).toMatch(/pickle protocol 6; Netloom reads protocols 2 to 5/);
    expect(refusal(bytes([0x80, 1, 0x4e, 0x2e])).message).toMatch(/pickle protocol 1/);
  });
  it('a memo entry never stored', () => {
    expect(refusal(bytes([0x80, 2, 0x68, 3, 0x2e])).message).toMatch(/refers to memo entry 3, which it never stored/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x71, 0, 0x6a, 1, 0, 0, 0, 0x2e])).message).toMatch(/memo entry 1,/);
  });
  it('stack underflow, and a MARK crossed', () => {
    expect(refusal(bytes([0x80, 2, 0x85, 0x2e])).message).toMatch(/TUPLE1 finds the stack empty \(stack underflow\)/);
    expect(refusal(bytes([0x80, 2, 0x5d, 0x28, 0x61, 0x2e])).message).toMatch(/APPEND finds the stack empty/); // APPEND's value is beyond the mark
    expect(refusal(bytes([0x80, 2, 0x74, 0x2e])).message).toMatch(/TUPLE has no MARK before it/);
    expect(refusal(bytes([0x80, 2, 0x2e])).message).toMatch(/STOP leaves 0 values on the stack/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x4e, 0x2e])).message).toMatch(/STOP leaves 2 values/);
    expect(refusal(bytes([0x80, 2, 0x28, 0x4e, 0x2e])).message).toMatch(/STOP comes with a MARK still open/);
  });
  it('items of the wrong kind', () => {
    expect(refusal(bytes([0x80, 2, 0x4e, 0x4e, 0x4e, 0x73, 0x2e])).message).toMatch(/SETITEM sets an item of None, not of a dict/);
    expect(refusal(bytes([0x80, 2, 0x7d, 0x5d, 0x4e, 0x73, 0x2e])).message).toMatch(/a dict key is a list/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x4e, 0x61, 0x2e])).message).toMatch(/APPEND appends to None/);
    expect(refusal(bytes([0x80, 2, 0x7d, 0x28, 0x4e, 0x75, 0x2e])).message).toMatch(/SETITEMS has a key without a value/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x29, 0x52, 0x2e])).message).toMatch(/REDUCE calls None/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x7d, 0x62, 0x2e])).message).toMatch(/BUILD sets an item of None|BUILD.*not of a dict/);
    expect(refusal(bytes([0x80, 2, 0x4e, 0x51, 0x2e])).message).toMatch(/outside data \(BINPERSID\)/);
    expect(refusal(bytes([0x80, 2, 0x8c, 2, 0xc3, 0x28, 0x2e])).message).toMatch(/not valid UTF-8/);
  });
  it('a pickle cut at every byte is refused, never read as something else', () => {
    const od = pyDict([['w', [1n, 2.5, 'x', pyTuple(-(2n ** 40n), true, null)]], ['n', pyDict([[7n, 'y'.repeat(300)]])]], true);
    const full = pickle(od);
    expect(read(full, ORDERED)).toEqual(od);
    for (let n = 0; n < full.length; n++) {
      const e = thrown(() => unpickle(full.subarray(0, n), ORDERED));
      expect(e.code, `cut at ${n}`).toBe('NL_BAD_CHECKPOINT');
    }
  });
  it('a length past the end of the file is refused before anything is allocated', () => {
    expect(refusal(bytes([0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2e])).message).toMatch(/truncated/);
    expect(refusal(bytes([0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x4e, 0x2e])).message).toMatch(/truncated/);
  });
  it('a tuple and a list of half a million items are read (no argument-spreading limit)', () => {
    const n = 500_000;
    const items = new Array<number>(n).fill(0x4e); // None
    const t = read(bytes([0x80, 2, 0x28], items, [0x74, 0x2e])) as { items: unknown[] };
    expect(t.items.length).toBe(n);
    expect((read(bytes([0x80, 2, 0x5d, 0x28], items, [0x65, 0x2e])) as unknown[]).length).toBe(n);
  });
  it('MARKs nested past the cap', () => {
    const b = bytes([0x80, 2], new Array<number>(PICKLE_LIMITS.marks + 1).fill(0x28), [0x2e]);
    expect(refusal(b).message).toMatch(new RegExp(`MARKs nest deeper than ${PICKLE_LIMITS.marks}`));
  });
  it('lists nested past the walk cap, a list holding itself, and a shared list at every level, all end quickly', () => {
    // [[[...]]] 200 deep: EMPTY_LIST x200 then APPEND x199
    const deep = bytes([0x80, 2], new Array<number>(200).fill(0x5d), new Array<number>(199).fill(0x61), [0x2e]);
    const v = read(deep);
    expect(thrown(() => walkPickled(v, 'deep.pkl', () => undefined)).message).toMatch(/nests deeper than 100 levels/);
    // l = []; l.append(l)
    const self = read(bytes([0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e]));
    expect(thrown(() => walkPickled(self, 'self.pkl', () => undefined)).message).toMatch(/the root\[0\] contains itself/);
    // x0 = []; x1 = (x0, x0); ... x60 = (x59, x59): 2^60 paths, 61 values
    const parts: number[] = [0x80, 2, 0x5d];
    for (let i = 1; i <= 60; i++) parts.push(0x71, i - 1, 0x68, i - 1, 0x86);
    parts.push(0x2e);
    let visits = 0;
    const dag = read(Uint8Array.from(parts));
    walkPickled(dag, 'dag.pkl', () => visits++);
    expect(visits).toBe(1 + 2 * 60);
    // but counted as a tree, as a consumer recursing through it would meet it, it is refused
    expect(thrown(() => checkTreeSize(dag, 'dag.pkl')).message).toBe('dag.pkl: the file\'s values, counted where each appears, number more than 10000000');
    expect(() => checkTreeSize(read(Uint8Array.from([...parts.slice(0, 3 + 5 * 20), 0x2e])), 'ok.pkl')).not.toThrow(); // 2^21 - 1 values
  });
  it('a refused global names itself and stops the pickle there', () => {
    let asked = 0;
    const o: UnpickleOptions = { source: 'x.pt', global: () => { asked++; return undefined; } };
    const e = thrown(() => unpickle(bytes([0x80, 2, 0x63], 'os\nsystem\n', [0xff]), o));
    expect(e).toMatchObject({ code: 'NL_BAD_CHECKPOINT' });
    expect(e.message).toBe('x.pt: refusing to load: the pickle asks for os.system, which a checkpoint never needs (Netloom reads tensors, dicts and lists only; loading a checkpoint never runs code)');
    expect(asked).toBe(1);
  });
});
