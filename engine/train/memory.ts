/**
 * How much memory a training session will take, checked before anything large is allocated.
 *
 * The estimate is what the process holds for one run: the program's arena (parameters, their
 * gradients and optimizer state, plus the activations and activation gradients of one batch, as
 * the memory planner packed them), the dataset as loaded, and the session's own copy of it. Linux
 * overcommits memory, so an impossible run would not fail cleanly at allocation time: it would be
 * killed later, when the pages are touched. prepareJob therefore refuses a run whose estimate is
 * above the machine's physical memory (os.totalmem()); anything below is left to try, since other
 * programs' use and swap make a tighter rule guesswork.
 */
import { totalmem } from 'node:os';
import type { CompiledProgram } from '../compile/ir.js';
import { NetloomError } from '../errors.js';

/** The most one session's arena may hold: the native decoder's limit (MAX_ARENA_WORDS). */
export const MAX_ARENA_BYTES = 64 * 2 ** 30;

export interface MemoryEstimate {
  /** parameters, gradients, optimizer state and other fixed-size buffers */
  paramBytes: number;
  /** per-batch buffers (activations, their gradients, the batch itself), as planned */
  activationBytes: number;
  /** the dataset as loaded plus the session's copy of it */
  datasetBytes: number;
  total: number;
}

const FIXED_ROLES = new Set(['param', 'param-buffer', 'param-grad', 'optim-state', 'const', 'scalar']);

/** The estimate for `program` (at its batch size) with `datasetBytes` of data (loaded + session copy). */
export function estimateMemory(program: CompiledProgram, datasetBytes: number): MemoryEstimate {
  const arenaBytes = program.arena16 * 64;
  let paramBytes = 0;
  for (const b of program.buffers) if (!b.batched && FIXED_ROLES.has(b.role)) paramBytes += b.elems * 4;
  paramBytes = Math.min(paramBytes, arenaBytes);
  const activationBytes = arenaBytes - paramBytes;
  return { paramBytes, activationBytes, datasetBytes, total: arenaBytes + datasetBytes };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Throws NL_OOM when the run cannot fit: the arena above the engine's 64 GiB limit, or the whole
 * estimate above `available` bytes (default: this machine's physical memory). The message breaks
 * the estimate down and the hint names the remedy for its largest part.
 */
export function checkMemory(program: CompiledProgram, datasetBytes: number, available = totalmem()): MemoryEstimate {
  const e = estimateMemory(program, datasetBytes);
  const batch = program.maxBatch;
  const parts =
    `activations at batch ${batch}: ${gib(e.activationBytes)}, parameters, gradients and optimizer state: ${gib(e.paramBytes)}, ` +
    `dataset and its copy: ${gib(e.datasetBytes)}`;
  const remedy =
    e.activationBytes >= e.paramBytes && e.activationBytes >= e.datasetBytes
      ? 'lower the batch size'
      : e.paramBytes >= e.datasetBytes
        ? 'use a smaller model (fewer or narrower layers)'
        : 'train on fewer samples (--limit-train / --limit-test, or a smaller dataset)';
  const hint = `${remedy[0].toUpperCase()}${remedy.slice(1)}: memory for activations grows with the batch size, for parameters with the layer sizes.`;
  if (e.paramBytes + e.activationBytes > MAX_ARENA_BYTES)
    throw new NetloomError('NL_OOM', `The model's buffers need about ${gib(e.paramBytes + e.activationBytes)} (${parts}), more than the ${gib(MAX_ARENA_BYTES)} one training session can hold: ${remedy}.`, hint);
  if (e.total > available)
    throw new NetloomError('NL_OOM', `Training needs about ${gib(e.total)} (${parts}) but this machine has ${gib(available)}: ${remedy}.`, hint);
  return e;
}
