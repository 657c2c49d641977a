/**
 * The legacy torch.save format (engine/io/torch-legacy.ts) on files built here, byte by byte as
 * torch/serialization.py's _legacy_save lays them out, for what PyTorch 1.13 never writes by itself
 * (test/parity/torch-files.test.ts reads the files it does write): storage views (view_metadata),
 * a big-endian machine's file, and storages missing, unnamed or cut short.
 */
import { describe, expect, it } from 'vitest';
import { PickleWriter } from '../../engine/io/pickle-write.js';
import { pyDict, type PyValue } from '../../engine/io/pyvalue.js';
import { decodeTorchFile } from '../../engine/io/torch-file.js';
import { readLegacyTorch } from '../../engine/io/torch-legacy.js';
import { NetloomError } from '../../engine/errors.js';
import { thrown } from '../support/rejection.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;

/** A plain pickle (no tensors). */
function plain(v: PyValue): Uint8Array {
  const w = new PickleWriter(() => {
    throw new Error('no tensors in a header pickle');
  });
  w.value(v);
  return w.finish();
}

interface LegacyTensor {
  /** root storage key, its element count, and an optional (view key, offset, size) */
  root: string;
  rootNumel: number;
  view?: [string, number, number];
  offset: number;
  shape: number[];
  stride: number[];
}

/** The main pickle: {name: tensor} with legacy persistent ids ('storage', FloatStorage, root, 'cpu', numel, view_metadata). */
function mainPickle(tensors: Record<string, LegacyTensor>): Uint8Array {
  const w = new PickleWriter(() => undefined);
  w.bytes(0x7d, 0x28); // EMPTY_DICT MARK
  for (const [name, t] of Object.entries(tensors)) {
    w.string(name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.mark();
    w.string('storage');
    w.global('torch', 'FloatStorage');
    w.string(t.root);
    w.string('cpu');
    w.int(BigInt(t.rootNumel));
    if (t.view) {
      w.mark();
      w.string(t.view[0]);
      w.int(BigInt(t.view[1]));
      w.int(BigInt(t.view[2]));
      w.tuple();
    } else w.value(null);
    w.tuple();
    w.binpersid();
    w.int(BigInt(t.offset));
    w.value({ kind: 'tuple', items: t.shape.map(BigInt) });
    w.value({ kind: 'tuple', items: t.stride.map(BigInt) });
    w.value(false);
    w.emptyOrderedDict();
    w.tuple();
    w.reduce();
  }
  w.bytes(0x75); // SETITEMS
  return w.finish();
}

/** A whole legacy file: the header pickles, `main`, the key list, then each storage as int64 count + float32 values. */
function legacyFile(main: Uint8Array, storages: [string, number[]][], o: { littleEndian?: boolean; keys?: string[] } = {}): Uint8Array {
  const sysInfo = pyDict([['protocol_version', 1001n], ['little_endian', o.littleEndian ?? true], ['type_sizes', pyDict([['short', 2n], ['int', 4n], ['long', 4n]])]]);
  const parts = [plain(MAGIC), plain(1001n), plain(sysInfo), main, plain(o.keys ?? storages.map(([k]) => k))];
  for (const [, values] of storages) {
    const b = Buffer.alloc(8 + values.length * 4);
    b.writeBigInt64LE(BigInt(values.length));
    values.forEach((v, i) => b.writeFloatLE(v, 8 + i * 4));
    parts.push(b);
  }
  return Uint8Array.from(Buffer.concat(parts));
}

const values = (v: PyValue, key: string) => {
  const d = v as { entries: Map<string, { data: Float32Array; shape: number[] }> };
  const t = d.entries.get(key)!;
  return { shape: t.shape, data: Array.from(t.data) };
};

describe('legacy torch.save files', () => {
  const ROOT: [string, number[]] = ['140', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]];
  it('reads a tensor on a storage view (view_metadata) and one on the root, sharing its bytes', () => {
    const main = mainPickle({
      whole: { root: '140', rootNumel: 10, offset: 0, shape: [2, 5], stride: [5, 1] },
      view: { root: '140', rootNumel: 10, view: ['141', 4, 4], offset: 1, shape: [3], stride: [1] },
      transposed: { root: '140', rootNumel: 10, offset: 0, shape: [5, 2], stride: [1, 5] },
    });
    const v = decodeTorchFile(legacyFile(main, [ROOT]), 'old.pt');
    expect(values(v, 'whole')).toEqual({ shape: [2, 5], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(values(v, 'view')).toEqual({ shape: [3], data: [5, 6, 7] });
    expect(values(v, 'transposed')).toEqual({ shape: [5, 2], data: [0, 5, 1, 6, 2, 7, 3, 8, 4, 9] });
  });

  it('refuses a view outside its storage, a big-endian file, and storages missing, unnamed or short', () => {
    const one = mainPickle({ w: { root: '140', rootNumel: 10, offset: 0, shape: [10], stride: [1] } });
    const refuse = (b: Uint8Array) => thrown(() => decodeTorchFile(b, 'old.pt')).message;
    const outside = mainPickle({ v: { root: '140', rootNumel: 10, view: ['141', 8, 4], offset: 0, shape: [4], stride: [1] } });
    expect(refuse(legacyFile(outside, [ROOT]))).toBe('old.pt: storage 140 has a view that is not (key, offset, size) inside it');
    expect(refuse(legacyFile(one, [ROOT], { littleEndian: false }))).toBe('old.pt: the file was saved on a big-endian machine');
    expect(refuse(legacyFile(one, [], { keys: [] }))).toBe('old.pt: the pickle points at storage 140, which the file does not have');
    expect(refuse(legacyFile(one, [ROOT, ['999', [1]]]))).toBe('old.pt: the file stores bytes for storage 999, which the pickle never names');
    expect(refuse(legacyFile(one, [['140', [1, 2, 3]]]))).toBe('old.pt: storage 140 holds 12 bytes, shorter than the 10 float32 values (40 bytes) its tensors use');
    const whole = legacyFile(one, [ROOT]);
    expect(refuse(whole.subarray(0, whole.length - 1))).toBe('old.pt: the file is truncated: storage 140 says it holds 10 values, more than the file has left');
    expect(refuse(plain(MAGIC))).toMatch(/the pickle is truncated/);
    expect(refuse(Uint8Array.from([...plain(MAGIC), ...plain(1000n)]))).toBe('old.pt: the legacy torch.save format version is an int, not 1001');
  });

  it('a file with random bytes changed is read or refused with a NetloomError, never anything else', () => {
    const main = mainPickle({
      a: { root: '140', rootNumel: 10, offset: 0, shape: [2, 5], stride: [5, 1] },
      b: { root: '140', rootNumel: 10, view: ['141', 4, 4], offset: 1, shape: [3], stride: [1] },
    });
    const good = legacyFile(main, [ROOT]);
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    let refused = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const b = good.slice();
      for (let k = 1 + (next() % 4); k > 0; k--) b[next() % b.length] = next() % 256;
      try {
        // the reader itself, not decodeTorchFile, whose last-resort net would hide an error of another kind
        readLegacyTorch(b, 'fuzz.pt');
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(NetloomError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });
});
