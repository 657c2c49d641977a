/**
 * The native addon's TypeScript face, and the one place it is loaded.
 *
 * Loading failures list their likely causes and fixes (sharp's "Possible solutions"); native
 * errors arrive as Error objects carrying `code` (NL_...) and are turned into NetloomErrors by
 * session.ts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetloomError } from '../errors.js';

export interface NativeProgress {
  batch: number;
  batches: number;
  samples: number;
  loss: number;
  meanLoss: number;
  samplesPerSec: number;
  elapsed: number;
}

export interface NativeEpochResult {
  /** sum of the batch losses of the batches this call ran */
  lossSum: number;
  /** batches / samples this call ran (a resumed epoch: only those after startBatch) */
  batches: number;
  samples: number;
  correct: number;
  /** the first batch not run: the epoch's batch count when it completed, else where to resume */
  nextBatch: number;
  seconds: number;
  stopped: boolean;
  /** with `predictions`: [count] predicted class of each visited sample, by position in the epoch */
  predictions?: Int32Array;
  /** with `probabilities`: [count * classes] softmax of each visited sample's logits */
  probabilities?: Float32Array;
  /** with `outputs`: [count * width] each visited sample's raw output row (io.logits; a regression model's predictions) */
  outputs?: Float32Array;
  /** with `losses`: the loss of each batch this call ran, in order */
  losses?: Float32Array;
}

export interface NativeEpochOptions {
  count: number;
  batch: number;
  dropLast: boolean;
  train: boolean;
  order?: Int32Array;
  eventIntervalMs?: number;
  /** learning rate for each batch of the epoch (LR schedulers); absent = the program's own */
  lr?: Float32Array;
  /** SGD/RMSprop momentum or Adam beta1 for each batch (OneCycleLR cycle_momentum) */
  momentum?: Float32Array;
  /** first batch to run (resume a stopped epoch at its result's nextBatch); lr/momentum stay indexed by batch */
  startBatch?: number;
  /** eval epochs only: return each visited sample's predicted class (argmax of the logits, first on ties) */
  predictions?: boolean;
  /** eval epochs only: return each visited sample's softmax probabilities */
  probabilities?: boolean;
  /** eval epochs only: return each visited sample's raw output row (io.logits), e.g. regression predictions */
  outputs?: boolean;
  /** return the loss of every batch run */
  losses?: boolean;
}

export interface NativeSession {
  setBuffer(id: number, data: Float32Array | Int32Array): void;
  getBuffer(id: number, rows?: number): Float32Array | Int32Array;
  /**
   * a uint8 dataset (images), scaled by 1/255 as batches are gathered. Both datasets are read in
   * place, not copied: the session holds the arrays until the split is set again or it is closed,
   * and they must not change meanwhile (runs share one copy of a dataset this way).
   */
  setDataset(split: 0 | 1, images: Uint8Array, labels: Uint8Array, count: number, sampleSize: number): void;
  /**
   * a float dataset (CSV rows), features gathered as they are; class labels (classification) or
   * targetSize float targets per sample (regression): the one the program reads must be given.
   */
  setDatasetF32(split: 0 | 1, features: Float32Array, labels: Uint8Array | null, targets: Float32Array | null, count: number, sampleSize: number, targetSize: number): void;
  runEpoch(split: 0 | 1, options: NativeEpochOptions, onProgress?: (p: NativeProgress) => void): Promise<NativeEpochResult>;
  /** one step on the current buffers; lr overrides the programmed learning rate for this step.
   *  runStep(1, false) after setBuffer(io.input, one row) is single-sample inference (eval mode). */
  runStep(rows: number, train: boolean, update?: boolean, lr?: number): void;
  /** ends the running epoch after its current batch (or the one just requested with runEpoch, before it starts) */
  stop(): void;
  /** frees the session's memory and threads now (not at garbage collection) and lets go of its dataset
   *  arrays; refused while an epoch runs; every later call but stop() throws */
  close(): void;
  steps: number;
  /** seed of the counter-based RNG (dropout masks) */
  seed: number;
  readonly threads: number;
  /** the backend the session runs on: "CPU", or the CUDA backend's name for its GPU */
  readonly device: string;
}

/** One CUDA GPU as the native probe saw it (native/core/cuda-loader.h CudaDeviceInfo). */
export interface NativeCudaDevice {
  /** cuda:<index> */
  index: number;
  /** "NVIDIA H100 80GB HBM3" */
  name: string;
  totalBytes: number;
  /** free when probed (once per process) */
  freeBytes: number;
  /** "9.0" */
  computeCapability: string;
  smCount: number;
}

/** What the CUDA probe found: devices, or (available false) why there is none. */
export interface NativeCudaInfo {
  available: boolean;
  /** why no GPU can be used ("no NVIDIA driver found (...)"); null when one can */
  reason: string | null;
  /** the CUDA library the loader opened or tried */
  library: string;
  devices: NativeCudaDevice[];
}

/** Where a native session runs: the CPU (no `cuda`), or CUDA device `cuda` with or without TF32. */
export interface NativeDeviceOptions {
  cuda?: number;
  /** TF32 tensor cores for matmul/conv (PyTorch's allow_tf32); default true */
  tf32?: boolean;
}

export interface NativeBinding {
  Session: new (program: Int32Array, threads: number, device?: NativeDeviceOptions) => NativeSession;
  opNames(): string[];
  /** each op's operand, int and float attribute counts, as the core's op table holds them */
  opTable(): { name: string; buffers: number; ints: number; floats: number }[];
  deviceInfo(): { cpuModel: string; simd: string; hardwareThreads: number; programVersion: number; cuda: NativeCudaInfo };
  /** interactive hosts: training threads started from now on run at background priority (see threadpool.h) */
  setBackgroundPriority(on: boolean): void;
  /** sessions created and neither closed nor garbage-collected yet */
  liveSessions(): number;
}

/** Where the addon lies below the package root. */
export const ADDON_PATH = ['build', 'native', 'Release', 'netloom.node'] as const;

/**
 * The package root: the nearest folder upwards holding Netloom's package.json and either the native
 * sources (a checkout, where the addon may still have to be built) or the built addon (an installed
 * app, which ships no C++ sources: there the root is `resources/app.asar`, whose addon Electron keeps
 * beside it in `app.asar.unpacked`).
 */
export function packageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && (existsSync(join(dir, 'native', 'CMakeLists.txt')) || addonCandidates(dir).some((p) => existsSync(p)))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new NetloomError('NL_NATIVE_LOAD', `cannot find the Netloom installation folder (no folder above ${start} holds package.json with native/ or ${ADDON_PATH.join('/')})`, 'Reinstall Netloom.');
    dir = up;
  }
}

/**
 * The addon's possible paths under a root, best first. Inside an asar archive the real file is the
 * copy in `<archive>.unpacked` (electron-builder's asarUnpack): the OS loader cannot read an archive,
 * and naming the unpacked file directly works in plain Node as well as in Electron.
 */
function addonCandidates(root: string): string[] {
  const inside = join(root, ...ADDON_PATH);
  const asar = root.match(/^(.*\.asar)(?=$|[\\/])/);
  return asar ? [asar[1] + '.unpacked' + inside.slice(asar[1].length), inside] : [inside];
}

/** The addon file to load: the first candidate that exists under the package root, else where it should be. */
export function addonPath(root: string = packageRoot()): string {
  const candidates = addonCandidates(root);
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1];
}

let cached: NativeBinding | undefined;

export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path))
    throw new NetloomError('NL_NATIVE_LOAD', `the native engine is not built (${path} is missing).`,
      'Possible solutions:\n  - run `npm install` (it builds the engine), or `npm run build:native`\n  - make sure cmake and a C++17 compiler are installed');
  try {
    cached = createRequire(import.meta.url)(path) as NativeBinding;
  } catch (e) {
    throw new NetloomError('NL_NATIVE_LOAD', `the native engine at ${path} failed to load: ${(e as Error).message}`,
      'Possible solutions:\n  - rebuild it: `npm run build:native`\n  - check that the Node.js version matches the one it was built with (Node-API 8 or newer)', { cause: e });
  }
  return cached;
}
