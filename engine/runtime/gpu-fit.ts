/**
 * Will it fit? What a training run takes in a GPU's memory, and the largest batch that fits, before
 * anything is allocated on the device.
 *
 * On a CUDA device a run holds (native/core/backend.h, native/cuda/cuda-args.h):
 *   - the Program's arena: every buffer at the planner's offsets (engine/compile/plan.ts), which is
 *     the parameters, their gradients and optimizer state (fixed) plus the activations and their
 *     gradients for max_batch rows (per sample), packed by the planner;
 *   - the dataset, uploaded once: uint8 images or float32 features, plus a uint8 label or float32
 *     targets per sample, for both splits;
 *   - the kernels' scratch (CudaContext.workspace), one buffer shared by every kernel since one runs
 *     at a time on the stream: estimated at WORKSPACE_BYTES;
 *   - the CUDA context itself (the runtime, the loaded kernels, the captured graphs), which takes
 *     device memory before any buffer does: CONTEXT_BYTES, stated rather than measured, from
 *     what CUDA 12/13 contexts take with lazy module loading on Hopper (about 300-500 MiB).
 * The arena is the only term that grows with the batch, and it is affine in it up to the planner's
 * 64-byte rounding; so the largest batch is computed from two plans and then confirmed by plans
 * at that batch and the next (exact against the planner, never a guess that would not fit).
 */
import { formatBytes } from '../bytes.js';
import type { CompiledProgram } from '../compile/ir.js';
import { planMemory } from '../compile/plan.js';
import { MAX_BATCH } from '../contract/settings.js';

/** The CUDA context's own device memory (runtime, modules, graphs): an estimate, stated. */
export const CONTEXT_BYTES = 512 * 2 ** 20;
/** The kernels' shared scratch (split-K GEMM partials, reduction partials): an estimate, stated. */
export const WORKSPACE_BYTES = 64 * 2 ** 20;

/** The samples a run uploads to the device: both splits. */
export interface DeviceDataset {
  /** samples in the train and the test split together */
  count: number;
  /** values per sample (the input's size) */
  sampleSize: number;
  /** uint8 images (1 byte a value) or float32 features (4) */
  float: boolean;
  /** one uint8 class label per sample */
  labels: boolean;
  /** float32 regression targets per sample (0: none) */
  targetWidth: number;
}

export interface GpuFit {
  batch: number;
  /** the Program's arena at `batch` */
  arenaBytes: number;
  datasetBytes: number;
  workspaceBytes: number;
  contextBytes: number;
  /** everything above */
  totalBytes: number;
  /** the GPU's free memory when probed */
  freeBytes: number;
  fits: boolean;
  /** the largest batch whose total fits in freeBytes (0: not even one sample; capped at MAX_BATCH) */
  maxBatch: number;
}

/** Bytes of `d` on the device. */
export function deviceDatasetBytes(d: DeviceDataset): number {
  return d.count * (d.sampleSize * (d.float ? 4 : 1) + (d.labels ? 1 : 0) + d.targetWidth * 4);
}

/** The arena of `program` planned for `batch` rows (the planner's own size; the program is left as it was). */
export function arenaBytesAt(program: CompiledProgram, batch: number): number {
  const buffers = program.buffers.map((b) => ({ ...b }));   // planMemory writes offsets: plan copies
  const instrs = [...program.forward, ...program.backward, ...program.step];
  return 64 * planMemory(buffers, instrs, { ...program.io, inputGrad: program.inputGrad }, batch);
}

/** Whether `program` at `batch` and the other terms fit in `freeBytes`, and the largest batch that does. */
export function gpuFit(program: CompiledProgram, o: { batch: number; datasetBytes: number; freeBytes: number }): GpuFit {
  const rest = o.datasetBytes + WORKSPACE_BYTES + CONTEXT_BYTES;
  const arena = new Map<number, number>();
  const arenaAt = (b: number) => {
    if (!arena.has(b)) arena.set(b, arenaBytesAt(program, b));
    return arena.get(b)!;
  };
  const fitsAt = (b: number) => arenaAt(b) + rest <= o.freeBytes;
  const arenaBytes = arenaAt(o.batch);
  return {
    batch: o.batch, arenaBytes, datasetBytes: o.datasetBytes, workspaceBytes: WORKSPACE_BYTES, contextBytes: CONTEXT_BYTES,
    totalBytes: arenaBytes + rest, freeBytes: o.freeBytes, fits: fitsAt(o.batch), maxBatch: largestBatch(arenaAt, fitsAt, o.freeBytes - rest),
  };
}

/**
 * The largest b in [0, MAX_BATCH] with fitsAt(b) (fitsAt is monotone: a larger batch never plans a
 * smaller arena). The affine guess from the plans at 64 and 128 rows is usually exact; the search
 * around it makes it so.
 */
function largestBatch(arenaAt: (b: number) => number, fitsAt: (b: number) => boolean, room: number): number {
  if (!fitsAt(1)) return 0;
  const perSample = Math.max((arenaAt(128) - arenaAt(64)) / 64, 1);
  const guess = Math.min(MAX_BATCH, Math.max(1, Math.floor((room - (arenaAt(64) - 64 * perSample)) / perSample)));
  let lo: number, hi: number;   // fitsAt(lo), !fitsAt(hi) (hi = MAX_BATCH + 1: no limit found)
  if (fitsAt(guess)) {
    lo = guess;
    hi = lo + 1;
    while (hi <= MAX_BATCH && fitsAt(hi)) [lo, hi] = [hi, Math.min(MAX_BATCH + 1, hi + 2 * (hi - lo))];
  } else {
    hi = guess;
    lo = 1;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid <= MAX_BATCH && fitsAt(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** "1.2 GiB of 79.1 GiB free at batch 64: fits (the largest batch that fits is 91,000)" */
export function fitText(f: GpuFit): string {
  const largest = f.maxBatch === 0 ? 'not even batch 1 fits' : `the largest batch that fits is ${f.maxBatch.toLocaleString('en-US')}`;
  return `${formatBytes(f.totalBytes)} of ${formatBytes(f.freeBytes)} free at batch ${f.batch}: ${f.fits ? 'fits' : 'does not fit'} (${largest})`;
}
