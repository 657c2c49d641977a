import { describe, expect, it } from 'vitest';
import { selectSamples, splitTrainVal, splitValidation, validationCount } from '../../engine/data/split.js';
import { NetloomError } from '../../engine/errors.js';

function isSortedDisjointCover(train: Int32Array, val: Int32Array, count: number): boolean {
  const all = [...train, ...val].sort((a, b) => a - b);
  const ascending = (a: Int32Array) => a.every((v, i) => i === 0 || a[i - 1] < v);
  return ascending(train) && ascending(val) && all.length === count && all.every((v, i) => v === i);
}

describe('validationCount', () => {
  it('rounds count * fraction and keeps both sides non-empty', () => {
    expect(validationCount(100, 0.1)).toBe(10);
    expect(validationCount(10, 0.25)).toBe(3); // round(2.5) = 3
    expect(validationCount(10, 0.01)).toBe(1); // round(0.1) = 0, raised to 1
    expect(validationCount(10, 0.99)).toBe(9); // round(9.9) = 10, capped at 9
    expect(validationCount(10, 0)).toBe(0);
    expect(validationCount(1, 0.5)).toBe(0);
    expect(validationCount(0, 0.5)).toBe(0);
  });
});

describe('splitTrainVal without labels', () => {
  it('is disjoint, sorted, covers every index, and has the requested size', () => {
    const { train, val } = splitTrainVal(1000, 0.2, 7);
    expect(val.length).toBe(200);
    expect(train.length).toBe(800);
    expect(isSortedDisjointCover(train, val, 1000)).toBe(true);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = splitTrainVal(500, 0.1, 42);
    const b = splitTrainVal(500, 0.1, 42);
    const c = splitTrainVal(500, 0.1, 43);
    expect(Array.from(a.val)).toEqual(Array.from(b.val));
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.val)).not.toEqual(Array.from(c.val));
  });

  it('is a random choice, not a block at either end', () => {
    const { val } = splitTrainVal(1000, 0.1, 0);
    expect(val[0]).toBeLessThan(100);
    expect(val[val.length - 1]).toBeGreaterThan(900);
  });

  it('gives everything to training with fraction 0', () => {
    const { train, val } = splitTrainVal(5, 0, 1);
    expect(Array.from(train)).toEqual([0, 1, 2, 3, 4]);
    expect(val.length).toBe(0);
  });

  it('rejects bad arguments with NL_INVALID_ARGUMENT', () => {
    for (const call of [
      () => splitTrainVal(10, 1, 0),
      () => splitTrainVal(10, -0.1, 0),
      () => splitTrainVal(10, Number.NaN, 0),
      () => splitTrainVal(-1, 0.1, 0),
      () => splitTrainVal(10, 0.1, 0.5),
      () => splitTrainVal(3, 0.1, 0, [0, 1]),
    ]) {
      expect(call).toThrow(NetloomError);
      try {
        call();
      } catch (e) {
        expect((e as NetloomError).code).toBe('NL_INVALID_ARGUMENT');
        expect((e as NetloomError).hint).toBeTruthy();
      }
    }
  });
});

describe('splitTrainVal stratified', () => {
  // 600 of class 0, 300 of class 1, 100 of class 2, interleaved.
  const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2));

  it('keeps the class proportions exactly when they divide evenly', () => {
    const { train, val } = splitTrainVal(1000, 0.2, 3, labels);
    expect(isSortedDisjointCover(train, val, 1000)).toBe(true);
    const counts = (idx: Int32Array) => [0, 1, 2].map((k) => Array.from(idx).filter((i) => labels[i] === k).length);
    expect(counts(val)).toEqual([120, 60, 20]);
    expect(counts(train)).toEqual([480, 240, 80]);
  });

  it('hands out the rounding remainder by largest fractional part', () => {
    // 7 of class 0, 2 of class 1, 1 of class 2; 3 validation samples: targets 2.1, 0.6, 0.3 -> floors 2, 0, 0,
    // one left over -> class 1 (remainder 0.6). Class 2's only sample stays in training.
    const y = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
    const { train, val } = splitTrainVal(10, 0.3, 11, y);
    expect(val.length).toBe(3);
    expect(Array.from(val).map((i) => y[i]).sort()).toEqual([0, 0, 1]);
    expect(Array.from(train).some((i) => y[i] === 2)).toBe(true);
  });

  it('never takes the last training sample of a class', () => {
    const y = [0, 1, 2, 3, 3, 3];
    const { train, val } = splitTrainVal(6, 0.5, 0, y);
    // Classes 0..2 have one sample each: only class 3 can give; it keeps one.
    expect(Array.from(val).map((i) => y[i])).toEqual([3, 3]);
    expect(new Set(Array.from(train).map((i) => y[i]))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('is deterministic for a seed', () => {
    const a = splitTrainVal(1000, 0.15, 9, labels);
    const b = splitTrainVal(1000, 0.15, 9, labels);
    expect(Array.from(a.val)).toEqual(Array.from(b.val));
    expect(Array.from(splitTrainVal(1000, 0.15, 10, labels).val)).not.toEqual(Array.from(a.val));
  });
});

describe('selectSamples and splitValidation', () => {
  const split = {
    images: Uint8Array.from({ length: 6 * 4 }, (_, i) => Math.floor(i / 4) * 10 + (i % 4)),
    labels: Uint8Array.from([0, 1, 0, 1, 0, 1]),
    count: 6,
  };

  it('copies whole rows in the given order', () => {
    const s = selectSamples(split, [5, 0]);
    expect(s.count).toBe(2);
    expect(Array.from(s.images)).toEqual([50, 51, 52, 53, 0, 1, 2, 3]);
    expect(Array.from(s.labels)).toEqual([1, 0]);
    s.images[0] = 99;
    expect(split.images[20]).toBe(50); // a copy, not a view
  });

  it('rejects an index outside the split', () => {
    expect(() => selectSamples(split, [6])).toThrow(/Sample index 6 is outside the split's 6 samples/);
  });

  it('splits a Split into stratified train and validation Splits', () => {
    const { train, validation } = splitValidation(split, 1 / 3, 5);
    expect(train.count).toBe(4);
    expect(validation.count).toBe(2);
    expect(Array.from(validation.labels).sort()).toEqual([0, 1]);
    const rows = new Set([...Array.from({ length: 4 }, (_, i) => train.images[i * 4]), ...Array.from({ length: 2 }, (_, i) => validation.images[i * 4])]);
    expect(rows).toEqual(new Set([0, 10, 20, 30, 40, 50]));
  });
});
