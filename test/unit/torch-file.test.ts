/**
 * torch.save's zip format as Netloom writes and reads it (engine/io/torch-file.ts, torch-zip.ts), and
 * what a file's value means (torch-state.ts): values round trip, and every damaged archive is refused
 * saying what is wrong: a truncated zip (at every byte), a storage data.pkl points at that is missing,
 * a storage shorter than its tensor, a flipped bit, big-endian data, a zip bomb, a dict that holds no
 * state dict, a state dict with a non-tensor entry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
import { checkpointFormatForPath, readCheckpointFile, writeCheckpointFile } from '../../engine/io/checkpoint.js';
import { pyDict, pyTuple, type PyTensor, type PyValue } from '../../engine/io/pyvalue.js';
import { MAX_CHECKPOINT_BYTES } from '../../engine/io/safetensors.js';
import { decodeTorchFile, encodeTorchFile } from '../../engine/io/torch-file.js';
import { stateDictFromTorch, torchStateDict } from '../../engine/io/torch-state.js';
import { ZIP_ALIGNMENT, crc32, readZip, writeZip } from '../../engine/io/torch-zip.js';
import { refusal, thrown } from '../support/rejection.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-torchfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tensor = (dtype: PyTensor['dtype'], shape: number[], values: number[]): PyTensor => ({ kind: 'tensor', dtype, shape, data: Float32Array.from(values) });
const sd = (...entries: [string, PyValue][]) => pyDict(entries, true);
/** A small state dict of four tensors (storages 0..3). */
const FOUR = sd(['a.weight', tensor('float32', [2, 3], [1, -2, 3.5, 0, 1e-30, -7])], ['a.bias', tensor('float32', [2], [0.25, 9])],
  ['bn.running_mean', tensor('float32', [1], [0.5])], ['bn.num_batches_tracked', tensor('int64', [], [42])]);

/** `file` with its entries changed by `edit` (name -> bytes, or undefined to drop it). */
function rezip(file: Uint8Array, edit: (name: string, data: Uint8Array) => Uint8Array | undefined): Uint8Array {
  const out: [string, Uint8Array][] = [];
  for (const [name, data] of readZip(file, 'x')) {
    const d = edit(name, data);
    if (d !== undefined) out.push([name, d]);
  }
  return writeZip(out);
}

describe('round trip: encodeTorchFile -> decodeTorchFile', () => {
  it('a state dict with every dtype Netloom writes, a Parameter, a shared tensor, and _metadata', () => {
    const shared = tensor('float32', [3], [1, 2, 3]);
    const root = sd(
      ['f32', tensor('float32', [2, 2], [1.5, -0, 3e38, -1e-45])], ['f64', tensor('float64', [2], [0.1, -2])],
      ['i64', tensor('int64', [3], [-(2 ** 24), 0, 2 ** 24])], ['i32', tensor('int32', [1], [-7])], ['i16', tensor('int16', [1], [300])],
      ['i8', tensor('int8', [1], [-128])], ['u8', tensor('uint8', [2], [0, 255])], ['b', tensor('bool', [2], [1, 0])],
      ['empty', tensor('float32', [0, 4], [])], ['scalar', tensor('float32', [], [2])], ['p', { ...tensor('float32', [1], [4]), parameter: true }],
      ['s1', shared], ['s2', shared],
    );
    root.attributes = new Map([['_metadata', pyDict([['netloom', pyDict([['k', 'v']])]], true)]]);
    const back = decodeTorchFile(encodeTorchFile(root), 'rt.pt');
    expect(back).toEqual(root);
  });

  it('a checkpoint dict as layout 2 has it: int keys, a tuple of floats, None, nested dicts and lists', () => {
    const root = pyDict([
      ['model_state_dict', FOUR],
      ['optimizer_state_dict', pyDict([
        ['state', pyDict([[0n, pyDict([['step', tensor('float32', [], [3])], ['exp_avg', tensor('float32', [2], [1, 2])]])]])],
        ['param_groups', [pyDict([['lr', 0.001], ['betas', pyTuple(0.9, 0.999)], ['foreach', null], ['amsgrad', false], ['params', [0n, 1n, 2n]]])]],
      ])],
      ['epoch', 3n], ['batch', 0n], ['step', 1875n], ['netloom', pyDict([['netloom.phase', 'train']])],
    ]);
    expect(decodeTorchFile(encodeTorchFile(root), 'ck.pt')).toEqual(root);
  });

  it('writes entries as torch does: archive/data.pkl, byteorder, data/0..n-1, version; stored, each aligned to 64 bytes', () => {
    const file = encodeTorchFile(FOUR);
    const entries = readZip(file, 'x');
    expect([...entries.keys()]).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/data/1', 'archive/data/2', 'archive/data/3', 'archive/version']);
    for (const data of entries.values()) expect(data.byteOffset % ZIP_ALIGNMENT).toBe(0);
    expect(Buffer.from(entries.get('archive/data/3')!).readBigInt64LE(0)).toBe(42n);
    expect(new TextDecoder().decode(entries.get('archive/version'))).toBe('3\n');
  });

  it('refuses to write what it cannot write right', () => {
    expect(thrown(() => encodeTorchFile(sd(['h', tensor('float16', [1], [1])]))).message).toMatch(/does not write float16/);
    expect(thrown(() => encodeTorchFile(sd(['i', tensor('int64', [1], [0.5])]))).message).toMatch(/non-integer/);
    expect(thrown(() => encodeTorchFile(sd(['w', tensor('float32', [2, 2], [1])]))).message).toMatch(/shape \[2, 2\] but 1 values/);
  });
});

describe('damaged archives', () => {
  const good = encodeTorchFile(FOUR);
  it('a zip cut at every byte is refused, never read as something else', () => {
    for (let n = 0; n < good.length; n++) {
      const e = thrown(() => decodeTorchFile(good.subarray(0, n), 'cut.pt'));
      expect(e.code, `cut at ${n}`).toBe('NL_BAD_CHECKPOINT');
    }
    expect(thrown(() => decodeTorchFile(good.subarray(0, good.length - 1), 'cut.pt')).message).toBe('cut.pt: the zip archive is truncated: it has no end-of-central-directory record');
  });
  it('a zip with random bytes changed is read or refused with a NetloomError, never anything else', () => {
    let seed = 777;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let trial = 0; trial < 3000; trial++) {
      const b = good.slice();
      for (let k = 1 + (next() % 3); k > 0; k--) b[next() % b.length] = next() % 256;
      try {
        readZip(b, 'fuzz.pt'); // the zip layer itself: decodeTorchFile's last-resort net would hide another kind of error
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(NetloomError);
      }
    }
  });
  it('data.pkl points at a storage the archive does not have', () => {
    const f = rezip(good, (name, d) => (name === 'archive/data/3' ? undefined : d));
    expect(thrown(() => decodeTorchFile(f, 'm.pt'))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: 'm.pt: data.pkl points at storage 3, which the archive does not have' });
  });
  it('a storage shorter than its tensor', () => {
    const f = rezip(good, (name, d) => (name === 'archive/data/0' ? d.subarray(0, 20) : d));
    expect(thrown(() => decodeTorchFile(f, 's.pt')).message).toBe('s.pt: storage 0 holds 20 bytes, shorter than the 6 float32 values (24 bytes) its tensors use');
  });
  it('a flipped bit (CRC-32), big-endian data, a zip that is not torch.save\'s', () => {
    const flipped = good.slice();
    const at = Buffer.from(flipped).indexOf(Buffer.from(Float32Array.of(3.5).buffer));
    flipped[at] ^= 1;
    expect(thrown(() => decodeTorchFile(flipped, 'f.pt')).message).toMatch(/entry archive\/data\/0 is damaged: its CRC-32 does not match/);
    const big = rezip(good, (name, d) => (name.endsWith('byteorder') ? new TextEncoder().encode('big') : d));
    expect(thrown(() => decodeTorchFile(big, 'b.pt')).message).toMatch(/saved on a big-endian machine/);
    const other = writeZip([['readme.txt', new TextEncoder().encode('hi')]]);
    expect(thrown(() => decodeTorchFile(other, 'o.zip')).message).toBe('o.zip: this zip archive is not a torch.save checkpoint: it has no data.pkl entry');
  });
  it('a deflated entry is inflated with a cap: a zip bomb is refused by its stated size, a lying size when it passes it', () => {
    const zeros = deflateRawSync(Buffer.alloc(1 << 20));
    const deflated = (declared: number) => {
      const z = writeZip([['archive/data.pkl', zeros]]);
      const v = new DataView(z.buffer);
      const central = Buffer.from(z).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      v.setUint16(8, 8, true); // local header: method deflate
      v.setUint16(central + 10, 8, true);
      v.setUint32(central + 16, crc32(new Uint8Array(1 << 20)), true);
      v.setUint32(central + 24, declared, true);
      return z;
    };
    expect(thrown(() => decodeTorchFile(deflated(MAX_CHECKPOINT_BYTES + 1), 'bomb.pt')).message).toMatch(/would inflate to 2147483649 bytes, more than a checkpoint may hold/);
    expect(thrown(() => decodeTorchFile(deflated(1000), 'bomb.pt')).message).toMatch(/does not inflate to the 1000 bytes its header states/);
    // the honest size inflates, and then data.pkl (a megabyte of zero bytes) is no pickle
    expect(thrown(() => decodeTorchFile(deflated(1 << 20), 'zeros.pt')).message).toMatch(/byte 0x00 is not a pickle opcode/);
  });
  it('a tensor reaching past its storage, or claiming more values than Netloom reads (stride 0)', () => {
    // FOUR's first tensor: size (2, 3) and stride (3, 1) in data.pkl, each MARK BININT1 BININT1 TUPLE
    const pkl = (from: number[][], to: number[][]) => rezip(good, (name, d) => {
      if (!name.endsWith('data.pkl')) return d;
      let b = Buffer.from(d);
      from.forEach((f, i) => {
        const at = b.indexOf(Buffer.from(f));
        expect(at).toBeGreaterThan(0);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(to[i]), b.subarray(at + f.length)]);
      });
      return b;
    });
    const SIZE = [0x28, 0x4b, 2, 0x4b, 3, 0x74];
    const STRIDE = [0x28, 0x4b, 3, 0x4b, 1, 0x74];
    expect(thrown(() => decodeTorchFile(pkl([SIZE], [[0x28, 0x4b, 3, 0x4b, 3, 0x74]]), 'w.pt')).message)
      .toMatch(/a tensor of size \[3, 3\] at offset 0 needs 9 values of storage 0, which holds 6/);
    // 65535 x 65535 values, all of them storage value 0 (stride 0): 4 GiB of float32 from 24 bytes
    const huge = pkl([SIZE, STRIDE], [[0x28, 0x4d, 0xff, 0xff, 0x4d, 0xff, 0xff, 0x74], [0x28, 0x4b, 0, 0x4b, 0, 0x74]]);
    expect(thrown(() => decodeTorchFile(huge, 'h.pt')).message).toMatch(/the tensors hold more than 536870912 values in all/);
  });
});

describe('stateDictFromTorch', () => {
  it('a plain state dict, Netloom metadata from _metadata["netloom"], torch\'s own _metadata ignored', () => {
    const root = torchStateDict({ w: { shape: [2], data: Float32Array.of(1, 2) }, n: { shape: [], data: Float32Array.of(5), dtype: 'I64' } }, { producer: 'netloom' });
    const back = stateDictFromTorch(decodeTorchFile(encodeTorchFile(root), 'p.pt'), 'p.pt');
    expect({ ...back.tensors }).toEqual({ w: { shape: [2], data: Float32Array.of(1, 2), dtype: 'F32' }, n: { shape: [], data: Float32Array.of(5), dtype: 'I64' } });
    expect({ ...back.metadata }).toEqual({ producer: 'netloom' });
    expect(back.checkpoint).toBeUndefined();
    const torchOwn = sd(['w', tensor('float32', [1], [1])]);
    torchOwn.attributes = new Map([['_metadata', pyDict([['', pyDict([['version', 1n]])]], true)]]);
    expect({ ...stateDictFromTorch(torchOwn, 't.pt').metadata }).toEqual({});
  });
  it('a checkpoint dict under each key Netloom looks for, its "netloom" entry over the state dict\'s', () => {
    for (const key of ['model_state_dict', 'state_dict', 'model']) {
      const inner = torchStateDict({ w: { shape: [1], data: Float32Array.of(3) } }, { a: '1', b: '1' });
      const root = pyDict([[key, inner], ['epoch', 3n], ['netloom', pyDict([['b', '2']])]]);
      const back = stateDictFromTorch(root, 'c.pt');
      expect(Object.keys(back.tensors)).toEqual(['w']);
      expect({ ...back.metadata }).toEqual({ a: '1', b: '2' });
      expect(back.checkpoint).toBe(root);
    }
  });
  it('refuses what holds no state dict, saying what it holds', () => {
    const refuse = (v: PyValue) => thrown(() => stateDictFromTorch(v, 'r.pt')).message;
    expect(refuse(pyDict([['epoch', 3n], ['net', pyDict([])], ['opt', pyDict([])]]))).toBe('r.pt: the file holds a dict with keys epoch, net, opt; none is a state dict (Netloom looks for model_state_dict, state_dict or model)');
    expect(refuse([tensor('float32', [1], [1])])).toBe('r.pt: the file holds a list, not a state dict');
    expect(refuse(pyDict([]))).toBe('r.pt: the file holds an empty dict, no weights');
    expect(refuse(sd(['fc.weight', tensor('float32', [1], [1])], ['fc._extra_state', pyDict([['x', 1n]])]))).toMatch(/entry "fc._extra_state" is a dict, not a tensor/);
    expect(refuse(sd(['w', tensor('float32', [1], [1])], ['netloom', pyDict([['k', 1n]])]))).toMatch(/entry "netloom" is a dict, not a tensor/);
    const badMeta = torchStateDict({ w: { shape: [1], data: Float32Array.of(1) } }, {});
    badMeta.attributes = new Map([['_metadata', pyDict([['netloom', pyDict([['k', 1n]])]])]]);
    expect(refuse(badMeta)).toMatch(/_metadata\["netloom"\] holds a string -> an int; Netloom's metadata is strings/);
  });
});

describe('checkpoint.ts', () => {
  it('picks the format from the extension, and reads either back', async () => {
    expect(['m.pt', 'm.PTH', 'dir.pt/m.safetensors', 'm.pt.bak', 'm'].map(checkpointFormatForPath)).toEqual(['pt', 'pt', 'safetensors', 'safetensors', 'safetensors']);
    const tensors = { 'linear_relu_stack.0.weight': { shape: [1, 2], data: Float32Array.of(1, 2), dtype: 'F32' as const } };
    for (const [name, format] of [['m.pt', 'pytorch-zip'], ['m.safetensors', 'safetensors']]) {
      const f = join(tmp, name);
      await writeCheckpointFile(f, tensors, { producer: 'netloom' });
      const back = await readCheckpointFile(f);
      expect(back.format).toBe(format);
      expect({ ...back.tensors }).toEqual(tensors);
      expect({ ...back.metadata }).toEqual({ producer: 'netloom' });
    }
  });
  it('a missing .pt file, and a pickle that is no torch.save file', async () => {
    expect(await refusal(readCheckpointFile(join(tmp, 'nope.pt')))).toMatchObject({ code: 'NL_IO', message: expect.stringContaining('checkpoint file not found') });
    const f = join(tmp, 'list.pkl');
    writeFileSync(f, Uint8Array.of(0x80, 2, 0x5d, 0x2e));
    expect(await refusal(readCheckpointFile(f))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: `${f}: this is a Python pickle of a list, not a file torch.save wrote` });
  });
});
