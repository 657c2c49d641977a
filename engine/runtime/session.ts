/**
 * Session: a compiled program living in the native runtime, with its parameters and data.
 * Translates native errors (Error + code) into NetloomErrors with hints.
 */
import { NetloomError, type ErrorCode } from '../errors.js';
import type { CompiledProgram } from '../compile/ir.js';
import { encodeProgram } from '../compile/program.js';
import { formatBytes } from '../bytes.js';
import { loadBinding, type NativeDeviceOptions, type NativeEpochOptions, type NativeEpochResult, type NativeProgress, type NativeSession } from './binding.js';
import { settingHint, settingProblem } from '../contract/settings.js';

const HINTS: Partial<Record<string, string>> = {
  NL_OOM: 'Lower the batch size, or close other programs.',
  NL_NON_FINITE:
    'Lower the learning rate (try 10× smaller), turn on gradient clipping (training.clip_grad_norm, e.g. 1.0), or check the data for extreme values; the weights from before the failing batch are kept.',
  NL_BAD_LABEL: 'The dataset has more classes than the last Linear layer has outputs: raise its out_features.',
  NL_INVALID_PROGRAM: 'This is a bug in Netloom: please report it with the project file.',
  NL_INTERNAL: 'This is a bug in Netloom: please report it with the project file.',
};

/** Runs fn, converting a native error into a NetloomError (stack of the JS caller kept). */
export function native<T>(fn: () => T, hints: Partial<Record<string, string>> = {}): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e, hints);
  }
}

/** A native error as a NetloomError with its hint (`hints` first: a session's own, e.g. a GPU's out-of-memory hint). */
export function fromNative(e: unknown, hints: Partial<Record<string, string>> = {}): unknown {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('NL_') && !(e instanceof NetloomError))
    return new NetloomError(code as ErrorCode, (e as Error).message, hints[code] ?? HINTS[code], { cause: e });
  return e;
}

/** Where a Session runs: the CPU (no `device`), or a GPU; `oomHint` replaces the generic out-of-memory hint (a GPU's names the largest batch that fits). */
export interface SessionDevice {
  device?: NativeDeviceOptions;
  oomHint?: string;
}

export type Split = 'train' | 'test';
const SPLIT: Record<Split, 0 | 1> = { train: 0, test: 1 };

export class Session {
  readonly native: NativeSession;

  private readonly hints: Partial<Record<string, string>>;

  /** `threads`: 0 for all of the machine's hardware threads (the CPU's; a GPU session ignores it). */
  constructor(readonly program: CompiledProgram, threads: number, on: SessionDevice = {}) {
    this.hints = on.oomHint ? { NL_OOM: on.oomHint } : {};
    const binding = loadBinding();
    const { Session: S } = binding;
    // Refused here too (the CLI and the API check it where it is entered), before the native pool
    // starts threads until the system refuses one (a billion were tried): the one declared range.
    const problem = threads === 0 ? undefined : settingProblem('threads', threads);
    if (problem) throw new NetloomError('NL_INVALID_ARGUMENT', problem, settingHint('threads'));
    try {
      this.native = new S(encodeProgram(program), threads, on.device);
    } catch (e) {
      throw fromNative(e, this.hints);
    }
    for (const c of program.constants) native(() => this.native.setBuffer(c.buffer, c.data), this.hints);
  }

  get threads(): number {
    return this.native.threads;
  }

  /** The backend it runs on: "CPU", or the CUDA backend's name for its GPU. */
  get device(): string {
    return this.native.device;
  }

  /**
   * The state dict: key -> values (copies; integer state such as num_batches_tracked as floats).
   * The native copy is used as it is (one copy of the weights, not two); an allocation that fails is
   * NL_OOM naming the tensor.
   */
  getParams(): Map<string, Float32Array> {
    return new Map(this.program.params.map((p) => {
      let values: Float32Array | Int32Array;
      try {
        values = native(() => this.native.getBuffer(p.buffer));
      } catch (e) {
        if ((e as { code?: string }).code === 'NL_OOM' || e instanceof RangeError)
          throw new NetloomError('NL_OOM', `could not copy ${p.key} (${formatBytes(4 * p.shape.reduce((a, b) => a * b, 1))}) out of the session: ${(e as Error).message}`,
            HINTS.NL_OOM, { cause: e });
        throw e;
      }
      return [p.key, values instanceof Float32Array ? values : Float32Array.from(values)];
    }));
  }

  setParam(key: string, data: Float32Array): void {
    const p = this.program.params.find((q) => q.key === key);
    if (!p) throw new NetloomError('NL_INVALID_ARGUMENT', `the model has no parameter ${key}`);
    // A 0-d tensor (shape []) holds one value.
    native(() => this.native.setBuffer(p.buffer, p.dtype === 'i64' ? Int32Array.from(data, Math.round) : data));
  }

  /**
   * The first `count` samples of a uint8 image split (scaled by 1/255 as batches are gathered). The
   * session reads the arrays in place (no copy): they must stay unchanged while it uses them.
   */
  setDataset(split: Split, images: Uint8Array, labels: Uint8Array, count: number): void {
    const sample = this.program.inputShape.reduce((a, b) => a * b, 1);
    native(() => this.native.setDataset(SPLIT[split], images, labels, count, sample), this.hints);
  }

  /**
   * The first `count` rows of a float split: `features` row-major (the input's size per row, used
   * as they are) and either class labels (Uint8Array) or regression targets (Float32Array, the
   * program's target width per row).
   */
  setFloatDataset(split: Split, features: Float32Array, y: Uint8Array | Float32Array, count: number): void {
    const sample = this.program.inputShape.reduce((a, b) => a * b, 1);
    const targets = this.program.io.targets;
    const width = targets >= 0 ? this.program.buffers[targets].elems : 0;
    if (y instanceof Uint8Array) native(() => this.native.setDatasetF32(SPLIT[split], features, y, null, count, sample, 0), this.hints);
    // A program that reads no targets (a point loss with a target edge) gets none: the native side
    // would only refuse a width it does not compare with.
    else native(() => this.native.setDatasetF32(SPLIT[split], features, null, width > 0 ? y : null, count, sample, width), this.hints);
  }

  async runEpoch(
    split: Split,
    o: NativeEpochOptions,
    onProgress?: (p: NativeProgress) => void,
  ): Promise<NativeEpochResult> {
    try {
      return await this.native.runEpoch(SPLIT[split], o, onProgress);
    } catch (e) {
      throw fromNative(e, this.hints);
    }
  }

  stop(): void {
    this.native.stop();
  }

  /** Frees the native memory and threads now; the session is unusable afterwards. Not while an epoch runs. */
  close(): void {
    native(() => this.native.close());
  }
}
