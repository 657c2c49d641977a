import { describe, expect, it } from 'vitest';
import { batchCount, batchSlice, epochOrder, validateLoaderConfig, type LoaderConfig } from '../../engine/data/loader.js';
import { NetloomError } from '../../engine/errors.js';

const base: LoaderConfig = { batchSize: 4, shuffle: true, dropLast: false, seed: 20261127 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof NetloomError ? `${e.code}|${e.message}|${e.hint ?? ''}` : 'not a NetloomError';
  }
  return undefined;
}

describe('validateLoaderConfig', () => {
  it('accepts a valid config and returns only its four fields', () => {
    expect(validateLoaderConfig({ ...base, extra: 1 })).toEqual(base);
  });

  it.each([
    [{ ...base, batchSize: 0 }, /batch_size must be a positive integer, got 0/],
    [{ ...base, batchSize: 2.5 }, /batch_size .* got 2\.5/],
    [{ ...base, batchSize: '64' }, /batch_size .* got "64"/],
    [{ ...base, shuffle: 'yes' }, /shuffle must be true or false/],
    [{ ...base, dropLast: 1 }, /drop_last must be true or false/],
    [{ ...base, seed: 0.5 }, /seed must be an integer/],
    [null, /must be an object, got null/],
  ])('rejects %j with NL_INVALID_ARGUMENT and a hint', (config, pattern) => {
    const got = codeOf(() => validateLoaderConfig(config));
    expect(got).toBeDefined();
    const [code, message, hint] = got!.split('|');
    expect(code).toBe('NL_INVALID_ARGUMENT');
    expect(message).toMatch(pattern);
    expect(hint.length).toBeGreaterThan(10);
  });
});

describe('batchCount', () => {
  // Values of len(DataLoader(range(n), batch_size=b, drop_last=d)) in PyTorch.
  it.each([
    [10, 3, false, 4],
    [10, 3, true, 3],
    [60000, 64, false, 938],
    [60000, 64, true, 937],
    [10000, 64, false, 157],
    [10000, 64, true, 156],
    [64, 64, true, 1],
    [5, 64, true, 0],
    [5, 64, false, 1],
    [0, 8, false, 0],
  ])('count=%i batch=%i dropLast=%s -> %i', (count, b, drop, expected) => {
    expect(batchCount(count, b, drop)).toBe(expected);
  });

  it('rejects a zero batch size', () => {
    expect(() => batchCount(10, 0, false)).toThrow(/batch_size/);
  });
});

describe('epochOrder', () => {
  it('is the identity when shuffle is off, in every epoch', () => {
    const cfg = { ...base, shuffle: false };
    expect(Array.from(epochOrder(6, cfg, 0))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(epochOrder(6, cfg, 9))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('equals the Python reference permutation Rng(seed).fork(epoch)', () => {
    // From the independent Python implementation used in rng.test.ts.
    expect(Array.from(epochOrder(20, base, 1))).toEqual([1, 14, 9, 18, 12, 16, 19, 13, 5, 2, 17, 7, 15, 8, 4, 3, 6, 10, 11, 0]);
  });

  it('is a permutation, reproducible per (seed, epoch) and different across epochs and seeds', () => {
    const e0 = epochOrder(1000, base, 0);
    expect(Array.from(e0).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochOrder(1000, base, 0)).toEqual(e0);
    expect(epochOrder(1000, base, 1)).not.toEqual(e0);
    expect(epochOrder(1000, { ...base, seed: 1 }, 0)).not.toEqual(e0);
  });

  it('rejects a negative epoch', () => {
    expect(() => epochOrder(10, base, -1)).toThrow(/epoch must be a non-negative integer/);
  });
});

describe('batchSlice', () => {
  const order = Int32Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  it('cuts batches in order and keeps the short last one unless dropLast', () => {
    expect(Array.from(batchSlice(order, 0, 4, false))).toEqual([9, 8, 7, 6]);
    expect(Array.from(batchSlice(order, 2, 4, false))).toEqual([1, 0]);
    expect(() => batchSlice(order, 2, 4, true)).toThrow(/this epoch has 2 batches/);
  });
});
