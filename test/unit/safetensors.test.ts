import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
import { thrown } from '../support/rejection.js';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, type TensorF32 } from '../../engine/io/safetensors.js';
import { PYTHON, itWithPython } from '../python-reference.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const itWithTorch = itWithPython(['torch', 'numpy'], 'safetensors PyTorch interop tests');

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

function header(json: string): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

function withData(json: string, data: number[]): Uint8Array {
  return Uint8Array.from([...header(json), ...data]);
}

function decodeError(bytes: Uint8Array): NetloomError {
  try {
    decodeSafetensors(bytes, '/models/net.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    expect((e as NetloomError).code).toBe('NL_BAD_CHECKPOINT');
    expect((e as NetloomError).message.startsWith('/models/net.safetensors: ')).toBe(true);
    expect((e as NetloomError).hint).toBeTruthy();
    return e as NetloomError;
  }
  throw new Error('expected NL_BAD_CHECKPOINT');
}

describe('encodeSafetensors', () => {
  it('writes the exact bytes of the format for one tensor (hand-computed)', () => {
    const bytes = encodeSafetensors({ a: { shape: [1], data: Float32Array.of(1) } });
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'; // 54 bytes, padded to 56
    expect(bytes.length).toBe(8 + 56 + 4);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 64))).toBe(json + '  ');
    expect(Array.from(bytes.subarray(64))).toEqual([0x00, 0x00, 0x80, 0x3f]); // 1.0f little-endian
  });

  it('lays tensors out in sorted name order and round-trips values, shapes and metadata', () => {
    const tensors: Record<string, TensorF32> = {
      'fc2.bias': { shape: [2], data: Float32Array.of(-1.5, 2.25) },
      'fc1.weight': { shape: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, Math.fround(0.1)) },
      scalar: { shape: [], data: Float32Array.of(7) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
    };
    const bytes = encodeSafetensors(tensors, { format: 'pt', epoch: '3' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(h['__metadata__']).toEqual({ format: 'pt', epoch: '3' });
    expect(h['empty'].data_offsets).toEqual([0, 0]);
    expect(h['fc1.weight'].data_offsets).toEqual([0, 24]);
    expect(h['fc2.bias'].data_offsets).toEqual([24, 32]);
    expect(h['scalar'].data_offsets).toEqual([32, 36]);
    const back = decodeSafetensors(bytes, 'mem');
    expect(back.metadata).toEqual({ format: 'pt', epoch: '3' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/shape \[2, 2\] \(4 elements\) but 3 values/);
  });
});

describe('decodeSafetensors rejects malformed files with NL_BAD_CHECKPOINT', () => {
  const good = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  it('shorter than 8 bytes', () => {
    expect(decodeError(new Uint8Array(5)).message).toMatch(/file is 5 bytes, shorter than the 8-byte/);
  });

  it('header length past the end of the file', () => {
    const b = new Uint8Array(20);
    new DataView(b.buffer).setBigUint64(0, 1000n, true);
    expect(decodeError(b).message).toMatch(/header length 1000 \(bytes 0-7\) runs past the end of the file \(20 bytes\)/);
    new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(decodeError(b).message).toMatch(/runs past the end/);
  });

  it('header not JSON, or not an object', () => {
    // where, never what: the header's bytes are not quoted
    expect(decodeError(header('{"w": nope')).message).toMatch(/header \(bytes 8-17\) is not valid JSON: a value was expected .* at line 1, column 7$/);
    expect(decodeError(header('{"w": nope')).message).not.toContain('nope');
    const notUtf8 = header('{"w": "??"}');
    notUtf8.set([0xff, 0xfe], 8 + 7);
    expect(decodeError(notUtf8).message).toMatch(/header \(bytes 8-18\) is not valid UTF-8$/);
    expect(decodeError(header('[1,2]')).message).toMatch(/header must be a JSON object/);
  });

  it('unsupported dtype, naming dtype and tensor', () => {
    const e = decodeError(withData('{"z":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', [0, 0, 0, 0, 0, 0, 0, 0]));
    expect(e.message).toMatch(/tensor "z" has dtype C64/);
    expect(e.hint).toMatch(/float32/);
  });

  it('I64 tensors (num_batches_tracked) round-trip as integers', () => {
    const bytes = encodeSafetensors({ 'bn.num_batches_tracked': { shape: [], data: Float32Array.of(937), dtype: 'I64' }, 'bn.weight': { shape: [2], data: Float32Array.of(1, 2) } });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header['bn.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data_offsets: [0, 8] });
    const back = decodeSafetensors(bytes, 'x');
    expect(back.tensors['bn.num_batches_tracked']).toEqual({ shape: [], data: Float32Array.of(937), dtype: 'I64' });
  });

  it('offsets that do not match shape * dtype size', () => {
    const e = decodeError(withData('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Array(12).fill(0)));
    expect(e.message).toMatch(/tensor "w": data_offsets \[0, 8\] .* span 8 bytes, but shape \[3\] of F32 needs 12/);
    expect(decodeError(withData('{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', new Array(8).fill(0))).message).toMatch(/data_offsets \[8, 4\]/);
    expect(decodeError(withData('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', [])).message).toMatch(/not a pair/);
  });

  it('overlapping tensors', () => {
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(decodeError(withData(json, new Array(12).fill(0))).message).toMatch(/"a" \[0, 8\] and "b" \[4, 12\] overlap/);
  });

  it('truncated data and out-of-range offsets', () => {
    const e = decodeError(withData(good, [0, 0, 0x80, 0x3f, 0, 0]));
    expect(e.message).toMatch(/truncated: tensor "w" ends at data byte 8 .* the data section has only 6 bytes/);
    const far = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}}';
    expect(decodeError(withData(far, [0, 0, 0, 0])).message).toMatch(/ends at data byte 104/);
  });

  it('bad metadata', () => {
    expect(decodeError(header('{"__metadata__":{"epoch":3}}')).message).toMatch(/"epoch" must be a string/);
  });
});

describe('decodeSafetensors dtypes', () => {
  it('converts F64, F16 and BF16 to f32 (hand-encoded bit patterns)', () => {
    const json =
      '{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"h":{"dtype":"F16","shape":[4],"data_offsets":[8,16]},' +
      '"b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}';
    const data = [
      ...[0, 0, 0, 0, 0, 0, 0xf8, 0x3f], // F64 1.5
      ...[0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c], // F16 1, -2, 2^-24 (subnormal), +inf
      ...[0x80, 0x3f, 0x49, 0x40], // BF16 1.0, 3.140625
    ];
    const { tensors } = decodeSafetensors(withData(json, data), 'mem');
    expect(Array.from(tensors.d.data)).toEqual([1.5]);
    expect(Array.from(tensors.h.data)).toEqual([1, -2, Math.fround(2 ** -24), Infinity]);
    expect(Array.from(tensors.b.data)).toEqual([1, 3.140625]);
  });
});

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips through a file', async () => {
    const p = path.join(dir, 'rt.safetensors');
    await saveSafetensors(p, { x: { shape: [2], data: Float32Array.of(1, 2) } }, { a: 'b' });
    const back = await loadSafetensors(p);
    expect(Array.from(back.tensors.x.data)).toEqual([1, 2]);
    expect(back.metadata).toEqual({ a: 'b' });
  });

  it('names a missing file', async () => {
    const e = await loadSafetensors(path.join(dir, 'none.safetensors')).then(() => undefined, (x: NetloomError) => x);
    // an Error's message is not enumerable: toMatchObject on the error itself would not look at it
    expect({ code: e?.code, message: e?.message }).toMatchObject({ code: 'NL_IO', message: expect.stringContaining('none.safetensors') });
  });
});

describe('PyTorch interop (raw format parsed by hand in Python)', () => {
  itWithTorch('PyTorch reads a file written by Netloom', async () => {
    const p = path.join(dir, 'from-ts.safetensors');
    const w = Float32Array.from({ length: 12 }, (_, i) => Math.fround((i - 5) / 3));
    await saveSafetensors(p, { 'fc1.weight': { shape: [3, 4], data: w }, 'fc1.bias': { shape: [3], data: Float32Array.of(0.5, -0.25, 1e-8) } }, { format: 'pt' });
    const out = python(
      `
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n].decode('utf-8'))
meta = header.pop('__metadata__', {})
base = 8 + n
res = {'n': n, 'meta': meta, 'order': sorted(header, key=lambda k: header[k]['data_offsets'][0]), 't': {}}
for name, e in header.items():
    b, end = e['data_offsets']
    t = torch.frombuffer(bytearray(raw[base + b:base + end]), dtype=torch.float32).reshape(e['shape'])
    res['t'][name] = {'shape': list(t.shape), 'values': t.flatten().tolist(), 'sum': float(t.double().sum())}
print(json.dumps(res))
`,
      p,
    );
    const res = JSON.parse(out);
    expect(res.n % 8).toBe(0);
    expect(res.meta).toEqual({ format: 'pt' });
    expect(res.order).toEqual(['fc1.bias', 'fc1.weight']);
    expect(res.t['fc1.weight'].shape).toEqual([3, 4]);
    expect(res.t['fc1.weight'].values).toEqual(Array.from(w));
    expect(res.t['fc1.bias'].values).toEqual([0.5, -0.25, Math.fround(1e-8)]);
    // Sum of (i-5)/3 for i in 0..11 = 2 (before rounding to f32); Python computed it independently from the bytes.
    expect(res.t['fc1.weight'].sum).toBeCloseTo(2, 5);
  });

  itWithTorch('Netloom reads a file written by PyTorch (F32, F64, F16, BF16)', async () => {
    const p = path.join(dir, 'from-torch.safetensors');
    const out = python(
      `
import json, struct, sys, torch
torch.manual_seed(0)
ts = {
  'layer.weight': torch.randn(4, 3),
  'a_double': torch.randn(5, dtype=torch.float64),
  'half': torch.randn(2, 2).half(),
  'brain': torch.randn(3).bfloat16(),
}
def raw(t):
    if t.dtype == torch.bfloat16:
        return t.contiguous().view(torch.int16).numpy().tobytes()
    return t.contiguous().numpy().tobytes()
names = ['layer.weight', 'half', 'a_double', 'brain']  # deliberately not sorted
codes = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16'}
header, blobs, off = {'__metadata__': {'format': 'pt', 'source': 'torch ' + torch.__version__}}, [], 0
for k in names:
    b = raw(ts[k]); header[k] = {'dtype': codes[ts[k].dtype], 'shape': list(ts[k].shape), 'data_offsets': [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(header).encode('utf-8')
h += b' ' * ((8 - len(h) % 8) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
print(json.dumps({k: {'shape': list(v.shape), 'values': v.float().flatten().tolist()} for k, v in ts.items()}))
`,
      p,
    );
    const expected = JSON.parse(out) as Record<string, { shape: number[]; values: number[] }>;
    const loaded = await loadSafetensors(p);
    expect(loaded.metadata.format).toBe('pt');
    expect(loaded.metadata.source).toMatch(/^torch /);
    expect(Object.keys(loaded.tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      expect(loaded.tensors[name].shape).toEqual(e.shape);
      // torch's .float() of each dtype is exactly representable in f32, so equality is exact.
      expect(Array.from(loaded.tensors[name].data)).toEqual(e.values);
    }
  });
});

const SRC = '/models/net.safetensors';
const REEXPORT = 'Save the checkpoint again; from PyTorch use safetensors.torch.save_file(model.state_dict(), path).';
/** The refusal of decoding `bytes`, as a plain object. */
const refused = (bytes: Uint8Array) => thrown(() => decodeSafetensors(bytes, SRC));
const entry = (o: object) => JSON.stringify({ w: o });

describe('encodeSafetensors refuses what the format cannot hold (a bug in the caller)', () => {
  const BUG = 'This is a bug in the caller building the checkpoint; please report it.';
  const one = { shape: [1], data: Float32Array.of(1) };

  it('a name the format reserves or an object cannot hold', () => {
    for (const name of ['', '__metadata__', '__proto__'])
      expect(thrown(() => encodeSafetensors({ [name]: one })), name).toEqual({ code: 'NL_INVALID_ARGUMENT', message: `"${name}" cannot be a tensor name in safetensors`, hint: BUG });
  });

  it('a dimension that is negative or not a whole number, even when the element count works out', () => {
    const cases: [number[], number, string][] = [[[-1, -1], 1, '-1, -1'], [[0.5, 2], 1, '0.5, 2'], [[2 ** 53, 0], 0, `${2 ** 53}, 0`], [[NaN], 0, 'NaN']];
    for (const [shape, n, text] of cases)
      expect(thrown(() => encodeSafetensors({ w: { shape, data: new Float32Array(n) } })), text).toEqual({ code: 'NL_INVALID_ARGUMENT', message: `tensor "w" has an invalid shape [${text}]`, hint: BUG });
  });

  it('a metadata value that is not a string', () => {
    expect(thrown(() => encodeSafetensors({ w: one }, { ok: 'x', epoch: 3 as unknown as string }))).toEqual({
      code: 'NL_INVALID_ARGUMENT', message: 'safetensors metadata values must be strings; "epoch" is number', hint: BUG,
    });
  });

  it('an I64 tensor holding a value that is not a whole number', () => {
    expect(thrown(() => encodeSafetensors({ n: { shape: [2], data: Float32Array.of(1, 1.5), dtype: 'I64' } }))).toEqual({
      code: 'NL_INVALID_ARGUMENT', message: 'tensor "n" is I64 but holds non-integer values', hint: BUG,
    });
    // F32 holds any value
    expect(() => encodeSafetensors({ n: { shape: [2], data: Float32Array.of(1, 1.5) } })).not.toThrow();
  });

  it('writes every value of an I64 tensor, each in its own 8 bytes', () => {
    const bytes = encodeSafetensors({ n: { shape: [3], data: Float32Array.of(3, -5, 2 ** 24), dtype: 'I64' } });
    const start = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const view = new DataView(bytes.buffer, start);
    expect([0, 1, 2].map((i) => view.getBigInt64(8 * i, true))).toEqual([3n, -5n, 2n ** 24n]);
    expect(decodeSafetensors(bytes, 'x').tensors.n).toEqual({ shape: [3], data: Float32Array.of(3, -5, 2 ** 24), dtype: 'I64' });
  });
});

describe('decodeSafetensors names what is wrong and where', () => {
  it('an 8-byte file is long enough for the length; its empty header is what is wrong', () => {
    const e = refused(new Uint8Array(8));
    expect(e.message).not.toMatch(/shorter/);
    expect(e.message).toMatch(/^\/models\/net\.safetensors: header \(bytes 8-7\) is not valid JSON/);
  });

  it('a header length one byte past the end of the file', () => {
    const b = header('{}');
    new DataView(b.buffer).setBigUint64(0, 3n, true);
    expect(refused(b)).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${SRC}: header length 3 (bytes 0-7) runs past the end of the file (10 bytes); the file is truncated or not safetensors`, hint: REEXPORT });
    new DataView(b.buffer).setBigUint64(0, 2n, true);
    expect(decodeSafetensors(b, SRC)).toEqual({ tensors: {}, metadata: {} });
  });

  it('a header longer than the format allows (100 MB)', () => {
    const b = new Uint8Array(8 + 100_000_008);
    new DataView(b.buffer).setBigUint64(0, 100_000_001n, true);
    expect(refused(b)).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${SRC}: header length 100000001 exceeds the 100000000-byte limit of the format`, hint: REEXPORT });
  });

  it('a header that is JSON but not an object', () => {
    for (const h of ['null', '1', '"w"', '[]', 'true'])
      expect(refused(header(h)), h).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${SRC}: header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}`, hint: REEXPORT });
  });

  it('__metadata__ that is not an object of strings', () => {
    for (const m of ['null', '1', '"x"', '[]', '["a"]'])
      expect(refused(header(`{"__metadata__":${m}}`)), m).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${SRC}: "__metadata__" must be an object of string values`, hint: REEXPORT });
    expect(refused(header('{"__metadata__":{"a":"1","b":null}}')).message).toBe(`${SRC}: "__metadata__" value "b" must be a string, got null`);
    expect(decodeSafetensors(header('{"__metadata__":{}}'), SRC)).toEqual({ tensors: {}, metadata: {} });
  });

  it('an entry that is not an object, or has no dtype', () => {
    for (const v of ['1', 'null', '"F32"'])
      expect(refused(header(`{"w":${v}}`)), v).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${SRC}: tensor "w": header entry must be an object {dtype, shape, data_offsets}`, hint: REEXPORT });
    for (const v of [{ shape: [1], data_offsets: [0, 4] }, { dtype: 4, shape: [1], data_offsets: [0, 4] }])
      expect(refused(withData(entry(v), [0, 0, 0, 0])).message, JSON.stringify(v)).toBe(`${SRC}: tensor "w": missing dtype`);
  });

  it('a dtype it cannot read, naming the ones it can', () => {
    expect(refused(withData(entry({ dtype: 'U8', shape: [1], data_offsets: [0, 1] }), [0]))).toEqual({
      code: 'NL_BAD_CHECKPOINT', message: `${SRC}: tensor "w" has dtype U8; Netloom reads F32, F64, F16, BF16 and I64`,
      hint: 'Convert the tensor to float32 before saving, e.g. {k: v.float() for k, v in state_dict.items()}.',
    });
  });

  it('a shape that is not a list of whole numbers from 0, even when the byte count works out', () => {
    for (const shape of ['"1"', '[-1,-1]', '[0.5,8]', '[1,null]', '{"0":1}'])
      expect(refused(withData(`{"w":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`, [0, 0, 0, 0])), shape).toEqual({
        code: 'NL_BAD_CHECKPOINT', message: `${SRC}: tensor "w": shape ${JSON.stringify(JSON.parse(shape))} is not a list of non-negative integers`, hint: REEXPORT,
      });
  });

  it('offsets that are not a pair of whole numbers from 0, even when they span the right bytes', () => {
    for (const offsets of ['[-4,0]', '[0.5,4.5]', '[0,4,8]', '"0,4"', '[0,"4"]'])
      expect(refused(withData(`{"w":{"dtype":"F32","shape":[1],"data_offsets":${offsets}}}`, [0, 0, 0, 0, 0, 0, 0, 0])), offsets).toEqual({
        code: 'NL_BAD_CHECKPOINT', message: `${SRC}: tensor "w": data_offsets ${JSON.stringify(JSON.parse(offsets))} is not a pair of non-negative integers`, hint: REEXPORT,
      });
  });

  it('offsets that span the wrong number of bytes, with the file bytes they name', () => {
    const json = '{"w":{"dtype":"F16","shape":[2,3],"data_offsets":[4,12]}}'; // 57 bytes of header
    expect(refused(withData(json, new Array(16).fill(0)))).toEqual({
      code: 'NL_BAD_CHECKPOINT', hint: REEXPORT,
      message: `${SRC}: tensor "w": data_offsets [4, 12] (file bytes 69-77) span 8 bytes, but shape [2, 3] of F16 needs 12`,
    });
  });

  it('a tensor cut short, with its file byte and a hint about copying', () => {
    const json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes
    expect(refused(withData(json, [0, 0, 0, 0, 0]))).toEqual({
      code: 'NL_BAD_CHECKPOINT', message: `${SRC}: truncated: tensor "w" ends at data byte 8 (file byte 70), but the data section has only 5 bytes`,
      hint: 'The file was cut short (interrupted copy or download); save or copy it again.',
    });
  });

  it('tensors listed in any order, and an empty tensor where the next one begins, are laid out by their offsets', () => {
    const json = '{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors } = decodeSafetensors(withData(json, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]), SRC);
    expect(Object.keys(tensors).sort()).toEqual(['a', 'b', 'e']);
    expect(tensors.a).toEqual({ shape: [1], data: Float32Array.of(1), dtype: 'F32' });
    expect(tensors.b).toEqual({ shape: [1], data: Float32Array.of(2), dtype: 'F32' });
    expect(tensors.e).toEqual({ shape: [0], data: new Float32Array(0), dtype: 'F32' });
    // the other way round: the empty one last among equal begins
    const json2 = '{"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(Object.keys(decodeSafetensors(withData(json2, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]), SRC).tensors).sort()).toEqual(['a', 'b', 'e']);
  });
});

describe('decodeSafetensors reads every dtype to the last value of the file', () => {
  it('F16: zero, negative zero, subnormals of either sign, infinities and NaN', () => {
    const halves = [0x0000, 0x8000, 0x0003, 0x8003, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const data = halves.flatMap((h) => [h & 0xff, h >> 8]);
    const { tensors } = decodeSafetensors(withData(entry({ dtype: 'F16', shape: [halves.length], data_offsets: [0, 2 * halves.length] }), data), SRC);
    const got = Array.from(tensors.w.data);
    expect(Object.is(got[0], 0)).toBe(true);
    expect(Object.is(got[1], -0)).toBe(true);
    expect(got.slice(2, 7)).toEqual([Math.fround(3 * 2 ** -24), Math.fround(-3 * 2 ** -24), Math.fround(1023 * 2 ** -24), Infinity, -Infinity]);
    expect(got[7]).toBeNaN();
    expect(got[8]).toBe(Math.fround(0.333251953125));
    expect(tensors.w.dtype).toBe('F32');
  });

  it('I64 and F64 at the very end of the file, every value', () => {
    const i64 = new DataView(new ArrayBuffer(16));
    i64.setBigInt64(0, -7n, true);
    i64.setBigInt64(8, 123456789n, true);
    const a = decodeSafetensors(withData(entry({ dtype: 'I64', shape: [2], data_offsets: [0, 16] }), [...new Uint8Array(i64.buffer)]), SRC);
    expect(a.tensors.w).toEqual({ shape: [2], data: Float32Array.of(-7, 123456789), dtype: 'I64' });
    const f64 = new DataView(new ArrayBuffer(16));
    f64.setFloat64(0, -2.5, true);
    f64.setFloat64(8, 1e-3, true);
    const b = decodeSafetensors(withData(entry({ dtype: 'F64', shape: [2], data_offsets: [0, 16] }), [...new Uint8Array(f64.buffer)]), SRC);
    expect(b.tensors.w).toEqual({ shape: [2], data: Float32Array.of(-2.5, 1e-3), dtype: 'F32' });
  });

  it('F16 and BF16 at the very end of the file', () => {
    const h = decodeSafetensors(withData(entry({ dtype: 'F16', shape: [2], data_offsets: [0, 4] }), [0x00, 0x3c, 0x00, 0xc0]), SRC);
    expect(Array.from(h.tensors.w.data)).toEqual([1, -2]);
    const b = decodeSafetensors(withData(entry({ dtype: 'BF16', shape: [2], data_offsets: [0, 4] }), [0x80, 0xbf, 0x49, 0x40]), SRC);
    expect(Array.from(b.tensors.w.data)).toEqual([-1, 3.140625]);
  });
});

describe('loadSafetensors', () => {
  it('reads a file of several kilobytes (the size cap is 2 GiB)', async () => {
    const p = path.join(dir, 'kb.safetensors');
    const data = Float32Array.from({ length: 4096 }, (_, i) => i);
    await saveSafetensors(p, { w: { shape: [64, 64], data } });
    expect((await loadSafetensors(p)).tensors.w.data).toEqual(data);
  });

  it('refuses a file over 2 GiB before reading it, as a checkpoint error', async () => {
    const p = path.join(dir, 'huge.safetensors');
    writeFileSync(p, '');
    truncateSync(p, 2 * 1024 ** 3 + 1); // sparse: takes no disk space
    const e = await loadSafetensors(p).then(() => undefined, (x: NetloomError) => ({ code: x.code, message: x.message, hint: x.hint }));
    expect(e).toEqual({
      code: 'NL_BAD_CHECKPOINT', message: `${p} is larger than 2 GiB, too large for a checkpoint`,
      hint: 'Choose the .safetensors file of a model trained in Netloom or exported from PyTorch.',
    });
  });

  it('a missing file: where it looked, for a relative path; a folder: why it could not be read', async () => {
    const rel = path.relative(process.cwd(), path.join(dir, 'none.safetensors'));
    const missing = await loadSafetensors(rel).then(() => undefined, (x: NetloomError) => x);
    expect({ code: missing?.code, message: missing?.message, hint: missing?.hint }).toEqual({
      code: 'NL_IO', message: `${rel}: checkpoint file not found (looked for ${path.join(dir, 'none.safetensors')})`,
      hint: 'Check the path: a checkpoint is in the file it was saved to.',
    });
    expect((missing?.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const abs = path.join(dir, 'none.safetensors');
    expect((await loadSafetensors(abs).then(() => undefined, (x: Error) => x))?.message).toBe(`${abs}: checkpoint file not found`);
    const folder = path.join(dir, 'folder.safetensors');
    mkdirSync(folder);
    const e = await loadSafetensors(folder).then(() => undefined, (x: NetloomError) => x);
    expect({ code: e?.code, message: e?.message }).toEqual({ code: 'NL_IO', message: `Could not read ${folder}: EISDIR: illegal operation on a directory, read '${folder}'` });
    expect((e?.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });
});
