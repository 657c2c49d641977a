/**
 * Issue 10, item 6: the names in a safetensors header. A tensor called "__proto__" used to vanish
 * (assigning it to a plain object sets the prototype) and a name given twice kept its last entry,
 * because JSON.parse keeps the last of duplicate keys. Both are refused, naming the key and where.
 */
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../engine/io/safetensors.js';

/** A file from header JSON text followed by `data` bytes. */
function file(json: string, data = 0): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

const entry = (begin: number) => `{"dtype": "F32", "shape": [1], "data_offsets": [${begin}, ${begin + 4}]}`;

describe('tensor names in a safetensors header', () => {
  it('a tensor named "__proto__" is refused, not silently dropped', () => {
    const bytes = file(`{"__proto__": ${entry(0)}, "w": ${entry(4)}}`, 8);
    expect(() => decodeSafetensors(bytes, 'proto.safetensors')).toThrow(/proto\.safetensors: tensor name "__proto__" is not allowed/);
  });

  it('a tensor named twice is refused, with both places', () => {
    const json = `{"w": ${entry(0)}, "w": ${entry(4)}}`;
    const [first, second] = [json.indexOf('"w"') + 8, json.lastIndexOf('"w"') + 8];
    expect(() => decodeSafetensors(file(json, 8), 'dup.safetensors')).toThrow(
      new RegExp(`dup\\.safetensors: the header names tensor "w" twice \\(at bytes ${first} and ${second}\\)`),
    );
  });

  it('the same name spelled with an escape is the same name', () => {
    const json = `{"w": ${entry(0)}, "\\u0077": ${entry(4)}}`;
    expect(() => decodeSafetensors(file(json, 8), 'esc.safetensors')).toThrow(/names tensor "w" twice/);
  });

  it('a key given twice inside an entry or in __metadata__ is refused too', () => {
    const inEntry = `{"w": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}}`;
    expect(() => decodeSafetensors(file(inEntry, 4), 'a.safetensors')).toThrow(/a\.safetensors: the header gives "dtype" twice in w \(at bytes \d+ and \d+\)/);
    const inMeta = `{"__metadata__": {"format": "pt", "format": "np"}, "w": ${entry(0)}}`;
    expect(() => decodeSafetensors(file(inMeta, 4), 'b.safetensors')).toThrow(/b\.safetensors: the header gives "format" twice in __metadata__/);
  });

  it('names that are Object.prototype members load as ordinary tensors, and the tables inherit nothing', () => {
    const json = `{"constructor": ${entry(0)}, "toString": ${entry(4)}, "__metadata__": {"hasOwnProperty": "x"}}`;
    const { tensors, metadata } = decodeSafetensors(file(json, 8), 'ok.safetensors');
    expect(Object.keys(tensors).sort()).toEqual(['constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(tensors, 'constructor')?.value.shape).toEqual([1]);
    expect(metadata.hasOwnProperty).toBe('x');
    expect('valueOf' in tensors).toBe(false);
    expect('valueOf' in metadata).toBe(false);
  });
});
