/**
 * A checkpoint header whose values nest thousands of levels deep (found by the fuzzer, test/fuzz):
 * refused as a damaged checkpoint that names the tensor, never an internal error. Beyond 64 levels
 * the header is refused before it is parsed (json-limits.ts), naming where; below, the messages
 * quote the offending value by its start (quoting it whole overflowed the stack).
 */
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../engine/io/safetensors.js';

const deep = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

function file(headerText: string): Uint8Array {
  const text = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + text.length + 4);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

function decodeError(bytes: Uint8Array): unknown {
  try {
    decodeSafetensors(bytes, '/models/net.safetensors');
  } catch (e) {
    return e;
  }
  throw new Error('the file was accepted');
}

describe('safetensors headers nested deep', () => {
  it.each([
    ['shape', `{"w":{"dtype":"F32","shape":${deep(40)},"data_offsets":[0,4]}}`, /tensor "w": shape \[\[\[.*… is not a list of non-negative integers/],
    ['data_offsets', `{"w":{"dtype":"F32","shape":[1],"data_offsets":${deep(40)}}}`, /tensor "w": data_offsets \[\[\[.*… is not a pair of non-negative integers/],
    ['a metadata value', `{"__metadata__":{"epoch":${deep(40)}},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, /"__metadata__" value "epoch" must be a string, got \[\[\[.*…/],
  ])('%s: NL_BAD_CHECKPOINT quoting the start of the value', (_what, header, message) => {
    const e = decodeError(file(header)) as { code?: string; message?: string };
    expect(e).toMatchObject({ name: 'NetloomError', code: 'NL_BAD_CHECKPOINT' });
    expect(e.message).toMatch(message);
    expect(e.message!.length).toBeLessThan(400);
  });

  it.each([
    ['shape', `{"w":{"dtype":"F32","shape":${deep(20_000)},"data_offsets":[0,4]}}`, /the header nests objects and lists more than 64 levels deep at byte 98 \(w\.shape\[0\]/],
    ['a metadata value', `{"__metadata__":{"epoch":${deep(20_000)}},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, /more than 64 levels deep at byte 95 \(__metadata__\.epoch\[0\]/],
  ])('%s nested 20,000 deep: NL_BAD_CHECKPOINT naming where, before parsing', (_what, header, message) => {
    const e = decodeError(file(header)) as { code?: string; message?: string };
    expect(e).toMatchObject({ name: 'NetloomError', code: 'NL_BAD_CHECKPOINT' });
    expect(e.message).toMatch(message);
    expect(e.message!.length).toBeLessThan(400);
  });

  it('a long value is quoted by its start too', () => {
    const e = decodeError(file(`{"w":{"dtype":"F32","shape":[${new Array(100_000).fill('-1').join(',')}],"data_offsets":[0,4]}}`)) as { message: string };
    expect(e.message).toMatch(/shape \[-1,-1,.*… is not a list/);
    expect(e.message.length).toBeLessThan(400);
  });
});
