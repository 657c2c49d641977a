/**
 * The checkpoint entry point (engine/io/checkpoint.ts): a file's format told from its first bytes, not
 * its name; safetensors and PyTorch zip / legacy pickle read (a damaged one refused by its own reader),
 * ONNX recognised and refused with what it is, anything else described by its kind (never quoted). The PyTorch heads
 * are the first bytes of files torch.save (1.13) wrote: `torch.save(sd, "real.pt")` and the same with
 * `_use_new_zipfile_serialization=False`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../engine/io/checkpoint-formats.js';
import { readCheckpointFile, writeCheckpointFile } from '../../engine/io/checkpoint.js';
import { encodeSafetensors } from '../../engine/io/safetensors.js';
import type { NetloomError } from '../../engine/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-ckfmt-'));
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const TORCH_ZIP_HEAD = hex('504b0304000008080000000000000000000000000000000000000d0015007265616c2f646174612e706b6c464211005a');
const TORCH_LEGACY_HEAD = hex('80028a0a6cfc9c46f9206aa850192e80024de9032e80027d710028581000000070726f746f636f6c5f76657273696f6e');
/** ModelProto as onnx.save writes it: ir_version 8 (field 1), then producer_name "t" (field 2), ... */
const ONNX_HEAD = Uint8Array.from([0x08, 0x08, 0x12, 0x01, 0x74, 0x3a, 0x10]);
const SAFETENSORS = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1, 2) } }, { format: 'pt' });
const SECRET = 'hunter2-secret-line';

function file(name: string, bytes: Uint8Array | string): string {
  const f = join(tmp, name);
  writeFileSync(f, bytes);
  return f;
}

async function refusal(p: Promise<unknown>): Promise<NetloomError> {
  return p.then(() => { throw new Error('expected a refusal'); }, (e: NetloomError) => e);
}

describe('sniffFormat', () => {
  it.each([
    ['a safetensors file', SAFETENSORS, 'safetensors', 'a safetensors file'],
    ['a PyTorch zip (torch.save)', TORCH_ZIP_HEAD, 'pytorch-zip', 'a PyTorch checkpoint (a zip archive, as torch.save writes)'],
    ['another zip', hex('504b0304140000000800000000000000000000000000000000000900000072656164652e747874'), 'pytorch-zip', 'a zip archive (torch.save writes one; other zips are not checkpoints)'],
    ['a legacy torch.save', TORCH_LEGACY_HEAD, 'pytorch-pickle', 'a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6)'],
    ['a pickle of protocol 4', hex('8004950a000000000000007d'), 'pytorch-pickle', 'a Python pickle (a legacy PyTorch checkpoint, or another pickled object)'],
    ['an ONNX model', ONNX_HEAD, 'onnx', 'an ONNX model (protobuf)'],
    ['an HDF5 file', hex('894844460d0a1a0a0000000000000000'), 'unknown', 'an HDF5 file (a Keras .h5 model, perhaps)'],
    ['a project file', new TextEncoder().encode('{\n  "format": "netloom-project",\n  "version": 1\n}\n'), 'unknown', 'a JSON text file (a Netloom project, perhaps)'],
    ['a CSV file', new TextEncoder().encode('a,b,c\n1,2,3\n4,5,6\n'), 'unknown', 'a text file'],
    ['binary noise', Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 7), 'unknown', 'binary data of no format Netloom knows (safetensors, PyTorch zip or pickle, ONNX)'],
    // too short to tell: the safetensors reader says how short it is
    ['5 bytes', Uint8Array.of(1, 2, 3, 4, 5), 'safetensors', 'a safetensors file'],
    ['an empty file', new Uint8Array(0), 'safetensors', 'a safetensors file'],
  ])('%s', (_name, head, format, looksLike) => {
    expect(sniffFormat(head)).toEqual({ format, looksLike });
  });

  it('a safetensors header whose first bytes resemble another format is still safetensors (byte 8 is "{")', () => {
    // header length 0x3a1208 would read as an ONNX head (08 12 ...) without the JSON check first
    const b = new Uint8Array(16);
    b.set([0x08, 0x12, 0x3a], 0);
    b[8] = 0x7b;
    expect(sniffFormat(b).format).toBe('safetensors');
  });
});

describe('readCheckpointFile', () => {
  it('reads safetensors whatever the name, and writes what it reads back', async () => {
    const f = file('weights.bin', SAFETENSORS);
    const back = await readCheckpointFile(f);
    expect(back.format).toBe('safetensors');
    expect(Array.from(back.tensors.w.data)).toEqual([1, 2]);
    expect({ ...back.metadata }).toEqual({ format: 'pt' });
    const again = join(tmp, 'again.safetensors');
    await writeCheckpointFile(again, back.tensors, { ...back.metadata });
    expect(Buffer.from((await import('node:fs')).readFileSync(again)).equals(Buffer.from(SAFETENSORS))).toBe(true);
  });

  it('gives the first bytes of a PyTorch zip to the torch reader, which says what is wrong with the rest', async () => {
    const f = file('model.pt', Buffer.concat([Buffer.from(TORCH_ZIP_HEAD), Buffer.alloc(100)]));
    const e = await refusal(readCheckpointFile(f));
    expect(e.code).toBe('NL_BAD_CHECKPOINT');
    expect(e.message).toBe(`${f}: the zip archive is truncated: it has no end-of-central-directory record`);
    expect(e.hint).toMatch(/torch\.save\(model\.state_dict\(\), path\)/);
  });

  // ONNX models are read now (READERS 'onnx'): test/unit/onnx-codec.test.ts reads them, a damaged one included
  it('gives a cut legacy PyTorch file to the torch reader', async () => {
    expect(await refusal(readCheckpointFile(file('old.pth', TORCH_LEGACY_HEAD)))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('the pickle is truncated') });
  });

  it('describes an unknown file by its kind and never quotes it', async () => {
    const e = await refusal(readCheckpointFile(file('notes.safetensors', `${SECRET}\nmore text here, nothing else\n`)));
    expect(e).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('not a checkpoint Netloom can read: it looks like a text file') });
    expect(JSON.stringify({ message: e.message, hint: e.hint })).not.toContain(SECRET);
  });

  it('leaves a missing file and a damaged safetensors file to the safetensors reader\'s messages', async () => {
    expect(await refusal(readCheckpointFile(join(tmp, 'nope.safetensors')))).toMatchObject({ code: 'NL_IO', message: expect.stringContaining('checkpoint file not found') });
    const cut = file('cut.safetensors', SAFETENSORS.subarray(0, SAFETENSORS.length - 4));
    expect(await refusal(readCheckpointFile(cut))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('truncated') });
    expect(await refusal(readCheckpointFile(file('short.safetensors', Uint8Array.of(1, 2, 3))))).toMatchObject({ message: expect.stringContaining('shorter than the 8-byte') });
  });
});
