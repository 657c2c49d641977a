import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng.js';
import { NetloomError } from '../../engine/errors.js';
import { itWithPython, PYTHON } from '../parity/python.js';

// Expected values come from an independent Python implementation of splitmix64 + xoshiro128**
// (big-integer arithmetic, no shared code): test/unit/gen_rng.py, which prints this table (the first
// test checks that it still does). They pin the algorithm: any change to rng.ts that alters them
// changes every saved project's shuffles.
const PY = {
  seed0: [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774],
  seed42: [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222],
  seedm1: [477689756, 2493998634, 555695776],
  seedmax: [1233166643, 1287031142, 661813442],
  float7: [0.4193505224726699, 0.6968157502682852, 0.4836025107011258, 0.7748895963582745],
  int7_10: [9, 4, 2, 0, 6, 1, 8, 4, 2, 1, 3, 6],
  int7_big: [1801096769, 1554325924, 2992800842, 588980540, 2077056966, 328125478],
  shuffle11: [9, 4, 3, 5, 6, 2, 7, 1, 8, 0],
  fork5_3: [3278294474, 2159904962, 39731108],
  fork5_dropout: [3534981013, 696315890, 2151025754],
  fork5_h_0: [4215802846, 2767773943, 2922901244],
  epoch1: [1, 14, 9, 18, 12, 16, 19, 13, 5, 2, 17, 7, 15, 8, 4, 3, 6, 10, 11, 0],
};

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

describe('Rng', () => {
  itWithPython([], 'the table above is what test/unit/gen_rng.py prints', () => {
    const r = spawnSync(PYTHON, ['test/unit/gen_rng.py'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(PY);
  });

  it('matches the Python reference for several seeds, including negative and 2^53-1', () => {
    expect(draws(new Rng(0), 6)).toEqual(PY.seed0);
    expect(draws(new Rng(42), 6)).toEqual(PY.seed42);
    expect(draws(new Rng(-1), 3)).toEqual(PY.seedm1);
    expect(draws(new Rng(Number.MAX_SAFE_INTEGER), 3)).toEqual(PY.seedmax);
  });

  it('float(), int() and shuffle() match the reference', () => {
    const f = new Rng(7);
    expect(Array.from({ length: 4 }, () => f.float())).toEqual(PY.float7);
    const i = new Rng(7);
    expect(Array.from({ length: 12 }, () => i.int(10))).toEqual(PY.int7_10);
    // n = 3e9 rejects ~30% of draws, so this also pins the rejection rule.
    const big = new Rng(7);
    expect(Array.from({ length: 6 }, () => big.int(3_000_000_000))).toEqual(PY.int7_big);
    const a = Int32Array.from({ length: 10 }, (_, k) => k);
    new Rng(11).shuffle(a);
    expect(Array.from(a)).toEqual(PY.shuffle11);
  });

  it('fork() matches the reference and ignores how far the parent has advanced', () => {
    expect(draws(new Rng(5).fork(3), 3)).toEqual(PY.fork5_3);
    expect(draws(new Rng(5).fork('dropout'), 3)).toEqual(PY.fork5_dropout);
    expect(draws(new Rng(5).fork('héllo').fork(0), 3)).toEqual(PY.fork5_h_0);
    const advanced = new Rng(5);
    draws(advanced, 100);
    expect(draws(advanced.fork(3), 3)).toEqual(PY.fork5_3);
    const perm = Int32Array.from({ length: 20 }, (_, k) => k);
    new Rng(20261127).fork(1).shuffle(perm);
    expect(Array.from(perm)).toEqual(PY.epoch1);
  });

  it('forks with different labels differ from each other and from the parent', () => {
    const first = (r: Rng) => r.nextU32();
    const values = new Set([first(new Rng(5)), first(new Rng(5).fork(0)), first(new Rng(5).fork(1)), first(new Rng(5).fork('0'))]);
    expect(values.size).toBe(4);
  });

  it('float() stays in [0,1) with mean near 1/2; uniform() respects its bounds', () => {
    const rng = new Rng(123);
    let sum = 0;
    let outside = 0;
    for (let k = 0; k < 100_000; k++) {
      const x = rng.float();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    // Standard error of the mean is 0.29/sqrt(1e5) ~ 0.0009; 0.005 is > 5 sigma.
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
    for (let k = 0; k < 1000; k++) {
      const u = rng.uniform(-3, -1);
      expect(u >= -3 && u < -1).toBe(true);
    }
  });

  it('int(n) is uniform: chi-square over 7 buckets', () => {
    const rng = new Rng(99);
    const counts = new Array(7).fill(0);
    const n = 70_000;
    for (let k = 0; k < n; k++) counts[rng.int(7)]++;
    const expected = n / 7;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 6 degrees of freedom: P(chi2 > 22.46) = 0.001.
    expect(chi2).toBeLessThan(22.46);
  });

  it('shuffle() yields a permutation and every position is reachable', () => {
    const rng = new Rng(3);
    const firstSeen = new Set<number>();
    for (let t = 0; t < 200; t++) {
      const a = Int32Array.from({ length: 5 }, (_, k) => k);
      rng.shuffle(a);
      expect(Array.from(a).sort()).toEqual([0, 1, 2, 3, 4]);
      firstSeen.add(a[0]);
    }
    expect(firstSeen.size).toBe(5);
  });

  it('rejects bad seeds and arguments with NL_INVALID_ARGUMENT', () => {
    for (const bad of [1.5, Number.NaN, 2 ** 53, Infinity]) {
      expect(() => new Rng(bad)).toThrow(NetloomError);
    }
    const rng = new Rng(1);
    expect(() => rng.int(0)).toThrow(/int\(n\)/);
    expect(() => rng.int(2 ** 32 + 1)).toThrow(NetloomError);
    expect(() => rng.uniform(2, 1)).toThrow(/lo <= hi/);
    try {
      rng.fork(0.5);
      expect.unreachable();
    } catch (e) {
      expect((e as NetloomError).code).toBe('NL_INVALID_ARGUMENT');
      expect((e as NetloomError).hint).toBeTruthy();
    }
  });
});
