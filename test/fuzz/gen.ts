/**
 * Gen: the fuzzer's one source of choices, a thin layer over the engine's seeded Rng.
 *
 * Every case is generated from `new Gen(caseSeed, group)` alone (no Math.random, no clock, no
 * state shared between cases), so a printed case seed replays the same bytes.
 */
import { Rng } from '../../engine/rng.js';

export class Gen {
  private readonly rng: Rng;

  constructor(seed: number | Rng, label?: string) {
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    this.rng = label === undefined ? rng : rng.fork(label);
  }

  /** An independent stream for a sub-task (same seed + label, same stream). */
  fork(label: string): Gen {
    return new Gen(this.rng.fork(label));
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.rng.int(Math.min(n, 2 ** 32));
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.rng.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One of `choices` with probability proportional to its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = this.rng.float() * total;
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    return choices[choices.length - 1][1];
  }

  /** Small numbers are likelier: the size of an edit, a count of operations. */
  small(max: number): number {
    return Math.min(max, 1 + Math.floor(-Math.log2(1 - this.rng.float()) * 1.5));
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.nextU32() & 0xff;
    return out;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
