import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
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
