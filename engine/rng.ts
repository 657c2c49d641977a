/**
 * Rng: the one seeded random source of the engine (shuffling, dropout masks, initialisers).
 *
 * xoshiro128** (Blackman & Vigna) because it is small, fast on 32-bit JS integers and well tested;
 * its 128-bit state is filled from splitmix64 so that nearby seeds (0, 1, 2, ...) give unrelated streams.
 * The whole algorithm is pinned by test/unit/rng.test.ts against an independent Python implementation:
 * changing any constant here changes every shuffled epoch of every saved project, so don't.
 *
 * Derivation, for reimplementers:
 *   key      = seed mod 2^64 (two's complement for negative seeds)
 *   state    = lo32(a), hi32(a), lo32(b), hi32(b) where a, b are the first two splitmix64 outputs from `key`
 *   fork(l)  = new Rng with key mix64(key ^ w), w = mix64(l + 0x9E3779B97F4A7C15) (integer label) or
 *              mix64(fnv1a64(utf8(l)) ^ 0x5851F42D4C957F2D) (string label); it ignores how far the parent has advanced.
 */
import { NetloomError } from './errors.js';

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const STRING_TAG = 0x5851f42d4c957f2dn;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const TWO_POW_32 = 4294967296;

/** splitmix64's finaliser: a 64-bit bijection with full avalanche. */
function mix64(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

function fnv1a64(text: string): bigint {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK64;
  }
  return h;
}

function requireSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new NetloomError(
      'NL_INVALID_ARGUMENT',
      `${what} must be an integer between -(2^53-1) and 2^53-1, got ${String(value)}`,
      'Use a whole number such as 0 or 42.',
    );
  }
}

export class Rng {
  // The key (not the live state) is what fork() derives from, so a fork does not depend on how many numbers were drawn.
  private readonly key: bigint;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    requireSafeInteger(seed, 'Random seed');
    this.key = BigInt.asUintN(64, BigInt(seed));
    this.initState();
  }

  private static fromKey(key: bigint): Rng {
    const rng = Object.create(Rng.prototype) as Rng;
    (rng as unknown as { key: bigint }).key = key;
    rng.initState();
    return rng;
  }

  private initState(): void {
    const a = mix64(this.key + GOLDEN);
    const b = mix64(this.key + 2n * GOLDEN);
    this.s0 = Number(a & 0xffffffffn);
    this.s1 = Number(a >> 32n);
    this.s2 = Number(b & 0xffffffffn);
    this.s3 = Number(b >> 32n);
    // xoshiro never leaves the all-zero state; splitmix64 cannot produce two zero words in a row, but be explicit.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      this.s0 = 1;
    }
  }

  /** Next 32 random bits as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (two draws), so every double step of 2^-53 is reachable. */
  float(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
      throw new NetloomError(
        'NL_INVALID_ARGUMENT',
        `uniform(lo, hi) needs finite bounds with lo <= hi, got lo=${lo}, hi=${hi}`,
        'Swap the bounds or give finite numbers.',
      );
    }
    return lo + (hi - lo) * this.float();
  }

  /** Unbiased integer in [0, n), 1 <= n <= 2^32: rejects the 2^32 mod n low draws that would favour small results. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new NetloomError(
        'NL_INVALID_ARGUMENT',
        `int(n) needs an integer n with 1 <= n <= 2^32, got ${String(n)}`,
        'Pass the number of choices, for example the length of the array being sampled.',
      );
    }
    const threshold = TWO_POW_32 % n;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) {
        return r % n;
      }
    }
  }

  /** In-place Fisher-Yates (Durstenfeld): walks from the end, swapping a[i] with a[int(i + 1)]. */
  shuffle(a: Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
  }

  /** An independent stream named by `label` (an epoch number, "dropout", a layer id): same seed + label, same stream. */
  fork(label: string | number): Rng {
    let word: bigint;
    if (typeof label === 'number') {
      requireSafeInteger(label, 'Rng fork label');
      word = mix64(BigInt.asUintN(64, BigInt(label)) + GOLDEN);
    } else {
      word = mix64(fnv1a64(label) ^ STRING_TAG);
    }
    return Rng.fromKey(mix64(this.key ^ word));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
