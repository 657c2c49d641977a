/**
 * sniffFormat at its edges: every signature Netloom names, each one byte short or one value past its
 * range, the zip entry names torch.save writes, the text/binary line, and what readCheckpointFile
 * reads of a file (the first SNIFF_BYTES only, its handle closed). The message a user gets names what
 * the file is, so a wrong edge is a wrong message: these tests pin the description, not just the format.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONVERT_HINT, SNIFF_BYTES, sniffFormat } from '../../engine/io/checkpoint-formats.js';
import { readCheckpointFile } from '../../engine/io/checkpoint.js';
import { refusal } from '../support/rejection.js';

const bytes = (...parts: (number[] | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(Buffer.from(p, 'latin1')) : p)));
/** `head` followed by filler that is no format at all (so only the head decides), `length` bytes in all. */
const padded = (head: Uint8Array, length = 64) => {
  const out = new Uint8Array(Math.max(length, head.length)).fill(0x01);
  out.set(head);
  return out;
};
const looksLike = (head: Uint8Array) => sniffFormat(head).looksLike;
const BINARY = 'binary data of no format Netloom knows (safetensors, PyTorch zip or pickle, ONNX)';

describe('other files a user may pick by mistake', () => {
  it.each([
    ['HDF5', bytes([0x89], 'HDF', [0x0d, 0x0a, 0x1a, 0x0a]), 'an HDF5 file (a Keras .h5 model, perhaps)'],
    ['NumPy', bytes([0x93], 'NUMPY'), 'a NumPy array file (.npy)'],
    ['GGUF', bytes('GGUF'), 'a GGUF model file (llama.cpp)'],
    ['gzip', bytes([0x1f, 0x8b]), 'a gzip-compressed file'],
    ['PNG', bytes([0x89], 'PNG'), 'a PNG image'],
    ['JPEG', bytes([0xff, 0xd8, 0xff]), 'a JPEG image'],
  ])('%s is named, and its signature one byte short is not', (_name, signature, description) => {
    expect(sniffFormat(padded(signature))).toEqual({ format: 'unknown', looksLike: description });
    const short = padded(signature);
    short[signature.length - 1] ^= 0x40;
    expect(looksLike(short)).not.toBe(description);
  });
});

describe('PyTorch and pickle edges', () => {
  const LEGACY = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  it('a head that is exactly the legacy magic number is the legacy format', () => {
    expect(looksLike(Uint8Array.from(LEGACY))).toBe('a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6)');
    expect(looksLike(Uint8Array.from(LEGACY.slice(0, 13)))).toBe('a Python pickle (a legacy PyTorch checkpoint, or another pickled object)');
  });
  it.each([[1, false], [2, true], [5, true], [6, false]])('a pickle of protocol %i is a pickle: %s', (protocol, pickle) => {
    expect(sniffFormat(Uint8Array.of(0x80, protocol)).format === 'pytorch-pickle').toBe(pickle);
    expect(sniffFormat(padded(Uint8Array.of(0x80, protocol))).format === 'pytorch-pickle').toBe(pickle);
  });

  /** A zip local file header whose first entry is `name` (torch.save's archive/data.pkl, archive/version, ...). */
  const zip = (name: string, declared = name.length) => {
    const h = new Uint8Array(30 + name.length);
    h.set([0x50, 0x4b, 0x03, 0x04]);
    h[26] = declared & 0xff;
    h[27] = declared >> 8;
    h.set(Buffer.from(name, 'latin1'), 30);
    return h;
  };
  const TORCH = 'a PyTorch checkpoint (a zip archive, as torch.save writes)';
  const OTHER_ZIP = 'a zip archive (torch.save writes one; other zips are not checkpoints)';
  it.each([
    ['archive/data.pkl', TORCH], ['data.pkl', TORCH], ['model/version', TORCH], ['m/byteorder', TORCH], ['archive/.data/serialization_id', TORCH],
    ['readme.txt', OTHER_ZIP], ['archive/mydata.pkl', OTHER_ZIP], ['xversion', OTHER_ZIP],
  ])('a zip whose first entry is %s', (name, description) => {
    expect(sniffFormat(zip(name))).toEqual({ format: 'pytorch-zip', looksLike: description });
  });
  it('a zip entry name is read only when the whole name is in the head', () => {
    expect(looksLike(zip('archive/data.pkl', 17))).toBe(OTHER_ZIP); // says one byte more than there is
    expect(looksLike(zip('archive/data.pkl').subarray(0, 29))).toBe(OTHER_ZIP); // shorter than a local file header
    expect(looksLike(zip('archive/data.pkl'))).toBe(TORCH); // the name ends exactly at the end of the head
  });
});

describe('ONNX edges', () => {
  it.each([
    ['ir_version 1', [0x08, 1, 0x12], true], ['ir_version 20', [0x08, 20, 0x3a], true], ['ir_version 0', [0x08, 0, 0x12], false],
    ['ir_version 21', [0x08, 21, 0x12], false], ['field 8 next', [0x08, 7, 0x42], true], ['no length-delimited field next', [0x08, 7, 0x10], false],
    ['not field 1 first', [0x10, 7, 0x12], false],
  ])('%s', (_name, head, onnx) => {
    expect(sniffFormat(Uint8Array.from(head)).format === 'onnx').toBe(onnx);
    expect(sniffFormat(padded(Uint8Array.from(head))).format === 'onnx').toBe(onnx);
  });
  it('two bytes are too few to be ONNX', () => {
    expect(sniffFormat(Uint8Array.of(0x08, 7)).format).toBe('safetensors');
  });
});

describe('too short to tell, text or binary', () => {
  it('8 bytes of no signature go to the safetensors reader (which says how short the file is); 9 are described', () => {
    expect(sniffFormat(new Uint8Array(8).fill(0x01)).format).toBe('safetensors');
    expect(sniffFormat(new Uint8Array(9).fill(0x01))).toEqual({ format: 'unknown', looksLike: BINARY });
  });
  it('text with tabs, CRLF line ends and UTF-8 is text; a NUL makes it binary', () => {
    const text = Buffer.from('Größe\tGewicht\r\n1,5\t2,25\r\n', 'utf8');
    expect(looksLike(text)).toBe('a text file');
    const withNul = Buffer.concat([text, Buffer.from([0])]);
    expect(looksLike(withNul)).toBe(BINARY);
  });
  it('more than 95 printable bytes in 100 is text; exactly 95 is not; DEL is not printable', () => {
    const sample = (controls: number, control = 0x01) => Uint8Array.from({ length: 100 }, (_, i) => (i < controls ? control : 0x61));
    expect(looksLike(sample(4))).toBe('a text file');
    expect(looksLike(sample(5))).toBe(BINARY);
    expect(looksLike(sample(5, 0x7f))).toBe(BINARY);
    expect(looksLike(sample(5, 0x80))).toBe('a text file');
  });
  it.each([[' '], ['\n'], ['\r\n'], ['\t']])('JSON after leading whitespace %j is named as JSON', (ws) => {
    expect(looksLike(Buffer.from(`${ws}{"format": "netloom-project", "version": 1}`))).toBe('a JSON text file (a Netloom project, perhaps)');
  });
});

describe('readCheckpointFile', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'netloom-sniff-'));
  it('looks only at the first SNIFF_BYTES of a file: text whose later bytes are binary is still text', async () => {
    const f = join(tmp, 'notes.txt');
    writeFileSync(f, Buffer.concat([Buffer.alloc(SNIFF_BYTES, 'a'), Buffer.alloc(400, 0)]));
    expect(await refusal(readCheckpointFile(f))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringContaining('it looks like a text file') });
  });
  it('closes the file it sniffed', async () => {
    const f = join(tmp, 'model.pt');
    writeFileSync(f, Uint8Array.of(0x80, 0x04, 0x95, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) await refusal(readCheckpointFile(f));
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });
  it('a pickle and an unknown file get their own way out in the hint', async () => {
    const pickle = join(tmp, 'p.pkl');
    // a protocol-4 pickle of a list: read by the restricted unpickler, then refused as no torch.save file
    writeFileSync(pickle, Uint8Array.of(0x80, 0x04, 0x95, 2, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0x2e));
    expect(await refusal(readCheckpointFile(pickle))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', hint: CONVERT_HINT['pytorch-pickle'] });
    expect(CONVERT_HINT['pytorch-pickle']).toContain('torch.save(model.state_dict(), path)');
    const other = join(tmp, 'x.bin');
    writeFileSync(other, new Uint8Array(32).fill(1));
    expect(await refusal(readCheckpointFile(other))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', hint: CONVERT_HINT.unknown });
    expect(CONVERT_HINT.unknown).toContain('.safetensors');
  });
});
