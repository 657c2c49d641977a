/**
 * The sampling half of torch.utils.data.DataLoader: which sample indices go into which batch, per epoch.
 *
 * As in PyTorch, shuffle=false visits samples in dataset order every epoch, shuffle=true draws a fresh
 * permutation each epoch, drop_last=false keeps a short final batch and drop_last=true discards it.
 * Unlike PyTorch, the permutation is a pure function of (seed, epoch), so resuming at epoch k from a
 * checkpoint reproduces exactly the batches an uninterrupted run would have seen.
 */
import { NetloomError } from '../errors.js';
import { Rng } from '../rng.js';

export interface LoaderConfig {
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
}

// Far beyond any dataset that fits in memory; keeps every index an Int32 and every batch a sane allocation.
const MAX_COUNT = 2 ** 31 - 1;

function invalid(message: string, hint: string): NetloomError {
  return new NetloomError('NL_INVALID_ARGUMENT', message, hint);
}

/** Checks an untrusted config (from a project file or the API) and returns it typed; throws NL_INVALID_ARGUMENT. */
export function validateLoaderConfig(c: unknown): LoaderConfig {
  if (typeof c !== 'object' || c === null) {
    throw invalid(
      `Data loader settings must be an object, got ${c === null ? 'null' : typeof c}`,
      'Give { batchSize, shuffle, dropLast, seed }, for example { batchSize: 64, shuffle: true, dropLast: false, seed: 0 }.',
    );
  }
  const { batchSize, shuffle, dropLast, seed } = c as Record<string, unknown>;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_COUNT) {
    throw invalid(
      `batch_size must be a positive integer, got ${describe(batchSize)}`,
      'Set batch_size to a whole number of samples per step, such as 64 (the PyTorch quickstart value).',
    );
  }
  if (typeof shuffle !== 'boolean') {
    throw invalid(`shuffle must be true or false, got ${describe(shuffle)}`, 'Use shuffle: true for training data, false for test data.');
  }
  if (typeof dropLast !== 'boolean') {
    throw invalid(
      `drop_last must be true or false, got ${describe(dropLast)}`,
      'Use drop_last: false (PyTorch\'s default) to keep the final, smaller batch.',
    );
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw invalid(`seed must be an integer, got ${describe(seed)}`, 'Use a whole number such as 0; the same seed repeats the same shuffles.');
  }
  return { batchSize, shuffle, dropLast, seed };
}

/** Sample indices in the order epoch `epoch` (0-based) visits them. */
export function epochOrder(count: number, config: LoaderConfig, epoch: number): Int32Array {
  requireCount(count);
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw invalid(`epoch must be a non-negative integer, got ${describe(epoch)}`, 'Epochs are counted from 0.');
  }
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    order[i] = i;
  }
  if (config.shuffle) {
    new Rng(config.seed).fork(epoch).shuffle(order);
  }
  return order;
}

/** len(DataLoader): batches per epoch. */
export function batchCount(count: number, batchSize: number, dropLast: boolean): number {
  requireCount(count);
  requireBatchSize(batchSize);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** The indices of batch `index` within an epoch order (a view, not a copy); the last one may be short. */
export function batchSlice(order: Int32Array, index: number, batchSize: number, dropLast: boolean): Int32Array {
  requireBatchSize(batchSize);
  const batches = batchCount(order.length, batchSize, dropLast);
  if (!Number.isInteger(index) || index < 0 || index >= batches) {
    throw invalid(
      `Batch ${describe(index)} is out of range: this epoch has ${batches} batches`,
      'Batch indices run from 0 to batchCount(...) - 1.',
    );
  }
  const start = index * batchSize;
  return order.subarray(start, Math.min(start + batchSize, order.length));
}

function requireCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    throw invalid(`Sample count must be a non-negative integer below 2^31, got ${describe(count)}`, 'Pass the number of samples in the split.');
  }
}

function requireBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalid(`batch_size must be a positive integer, got ${describe(batchSize)}`, 'Set batch_size to a whole number such as 64.');
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
