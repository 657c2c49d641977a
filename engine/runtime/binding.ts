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
  lossSum: number;
  batches: number;
  samples: number;
  correct: number;
  seconds: number;
  stopped: boolean;
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
}

export interface NativeSession {
  setBuffer(id: number, data: Float32Array | Int32Array): void;
  getBuffer(id: number, rows?: number): Float32Array | Int32Array;
  setDataset(split: 0 | 1, images: Uint8Array, labels: Uint8Array, count: number, sampleSize: number): void;
  runEpoch(split: 0 | 1, options: NativeEpochOptions, onProgress?: (p: NativeProgress) => void): Promise<NativeEpochResult>;
  /** one step on the current buffers; lr overrides the programmed learning rate for this step */
  runStep(rows: number, train: boolean, update?: boolean, lr?: number): void;
  stop(): void;
  steps: number;
  /** seed of the counter-based RNG (dropout masks) */
  seed: number;
  readonly threads: number;
}

export interface NativeBinding {
  Session: new (program: Int32Array, threads: number) => NativeSession;
  opNames(): string[];
  deviceInfo(): { cpuModel: string; simd: string; hardwareThreads: number; programVersion: number };
}

/** The package root: the nearest folder upwards holding Netloom's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native', 'CMakeLists.txt'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new NetloomError('NL_NATIVE_LOAD', 'cannot find the Netloom installation folder', 'Reinstall Netloom.');
    dir = up;
  }
}

let cached: NativeBinding | undefined;

export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const path = join(packageRoot(), 'build', 'native', 'Release', 'netloom.node');
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
