/**
 * A validation split carved out of a training set, as torch.utils.data.random_split or sklearn's
 * train_test_split(stratify=...) would, but a pure function of (count, fraction, seed, labels).
 *
 * Rules (pinned by test/unit/split.test.ts):
 * - The validation size is round(count * fraction), kept within [1, count - 1] whenever fraction > 0 and
 *   count >= 2, so neither side is ever empty by rounding. fraction 0 gives an empty validation set.
 * - Without labels: a seeded Fisher-Yates permutation of 0..count-1; its first `valCount` entries are validation.
 * - With labels (stratified): class k of c_k samples gets val_k = floor(valCount * c_k / count) validation
 *   samples, and the few left over go one each to the classes with the largest fractional remainders (ties to
 *   the lower class index): the largest-remainder method, so proportions are kept to within one sample per
 *   class. A class never gives up its last training sample (val_k <= c_k - 1); what that cap frees goes to
 *   the next classes in the same order. Within a class the samples are shuffled and the first val_k taken.
 * - Both index lists come back sorted ascending (dataset order), disjoint, and together cover 0..count-1.
 * - The random stream is Rng(seed).fork('validation-split'); stratified splits shuffle classes in class order
 *   from that one stream. Changing any of this changes which samples a saved project validates on.
 */
import { NetloomError } from '../errors.js';
import { Rng } from '../rng.js';
import type { Split } from './image-split.js';

export interface TrainValIndices {
  /** Training sample indices, ascending. */
  train: Int32Array;
  /** Validation sample indices, ascending. */
  val: Int32Array;
}

const MAX_COUNT = 2 ** 31 - 1;

function invalid(message: string, hint: string): NetloomError {
  return new NetloomError('NL_INVALID_ARGUMENT', message, hint);
}

/** Checks a validation fraction: a number in [0, 1). */
export function checkValidationFraction(fraction: unknown): number {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw invalid(
      `The validation fraction must be a number from 0 up to (not including) 1, got ${typeof fraction === 'string' ? JSON.stringify(fraction) : String(fraction)}`,
      'Use 0 for no validation set, or a share such as 0.1 (10% of the training samples).',
    );
  }
  return fraction;
}

/** How many samples go to validation for `count` samples and `fraction` (see the rules above). */
export function validationCount(count: number, fraction: number): number {
  if (fraction === 0 || count < 2) {
    return 0;
  }
  return Math.min(count - 1, Math.max(1, Math.round(count * fraction)));
}

/**
 * Splits sample indices 0..count-1 into training and validation indices; stratified by class when
 * `labels` (one class index per sample) are given. Deterministic for a seed.
 */
export function splitTrainVal(count: number, fraction: number, seed: number, labels?: ArrayLike<number>): TrainValIndices {
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw invalid(`Sample count must be a non-negative integer below 2^31, got ${String(count)}`, 'Pass the number of samples in the training set.');
  }
  checkValidationFraction(fraction);
  if (!Number.isSafeInteger(seed)) {
    throw invalid(`The split seed must be an integer, got ${String(seed)}`, 'Use a whole number such as 0; the same seed gives the same split.');
  }
  if (labels !== undefined && labels.length !== count) {
    throw invalid(`Got ${labels.length} labels for ${count} samples`, 'Pass one label per sample, or no labels for a plain random split.');
  }
  const nVal = validationCount(count, fraction);
  const rng = new Rng(seed).fork('validation-split');
  const isVal = new Uint8Array(count);
  if (nVal > 0) {
    if (labels === undefined) {
      const order = iota(count);
      rng.shuffle(order);
      for (let i = 0; i < nVal; i++) isVal[order[i]] = 1;
    } else {
      stratify(labels, count, nVal, rng, isVal);
    }
  }
  const train = new Int32Array(count - countOnes(isVal));
  const val = new Int32Array(count - train.length);
  let t = 0;
  let v = 0;
  for (let i = 0; i < count; i++) {
    if (isVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, val };
}

function stratify(labels: ArrayLike<number>, count: number, nVal: number, rng: Rng, isVal: Uint8Array): void {
  // Group sample indices by class, classes in ascending order of their label value.
  const groups = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) {
      throw invalid(`Label ${String(y)} of sample ${i} is not a class index`, 'Stratified splits need integer class indices (0, 1, 2, ...).');
    }
    let g = groups.get(y);
    if (g === undefined) groups.set(y, (g = []));
    g.push(i);
  }
  const classes = [...groups.keys()].sort((a, b) => a - b);
  const size = classes.map((k) => groups.get(k)!.length);
  const target = size.map((c) => (nVal * c) / count);
  const take = size.map((c, j) => Math.min(Math.floor(target[j]), Math.max(c - 1, 0)));
  let left = nVal - take.reduce((a, b) => a + b, 0);
  // Largest remainder first (ties: lower class); repeat passes while the per-class cap leaves some unplaced.
  const byRemainder = classes.map((_, j) => j).sort((a, b) => target[b] - take[b] - (target[a] - take[a]) || a - b);
  while (left > 0) {
    let placed = false;
    for (const j of byRemainder) {
      if (left === 0) break;
      if (take[j] < size[j] - 1) {
        take[j]++;
        left--;
        placed = true;
      }
    }
    if (!placed) break;
  }
  classes.forEach((k, j) => {
    const members = Int32Array.from(groups.get(k)!);
    rng.shuffle(members);
    for (let i = 0; i < take[j]; i++) isVal[members[i]] = 1;
  });
}

/** Copies the samples at `indices` (in that order) out of an image Split into a new Split. */
export function selectSamples(split: Split, indices: ArrayLike<number>): Split {
  const sampleSize = split.count === 0 ? 0 : split.images.length / split.count;
  if (!Number.isInteger(sampleSize) || split.labels.length !== split.count) {
    throw invalid(
      `The split is inconsistent: ${split.images.length} image bytes and ${split.labels.length} labels for ${split.count} samples`,
      'This is a bug in the code that built the split; please report it.',
    );
  }
  const images = new Uint8Array(indices.length * sampleSize);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i];
    if (!Number.isInteger(s) || s < 0 || s >= split.count) {
      throw invalid(`Sample index ${String(s)} is outside the split's ${split.count} samples`, 'Use indices from splitTrainVal for this split.');
    }
    images.set(split.images.subarray(s * sampleSize, (s + 1) * sampleSize), i * sampleSize);
    labels[i] = split.labels[s];
  }
  return { images, labels, count: indices.length };
}

/** splitTrainVal (stratified by the split's labels) + selectSamples: a training Split and a validation Split. */
export function splitValidation(split: Split, fraction: number, seed: number, opts: { stratify?: boolean } = {}): { train: Split; validation: Split } {
  const { train, val } = splitTrainVal(split.count, fraction, seed, opts.stratify === false ? undefined : split.labels);
  return { train: selectSamples(split, train), validation: selectSamples(split, val) };
}

function iota(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function countOnes(a: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i];
  return n;
}
