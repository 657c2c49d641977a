/**
 * How much memory a training run will take, checked before anything large is allocated.
 *
 * The estimate counts every buffer a run holds: the program's arena (parameters, their gradients
 * and optimizer state, plus the activations and activation gradients of one batch, as the memory
 * planner packed them), the copies of the weights a run keeps (the best epoch's state dict, and the
 * copy taken at the end of each epoch while the previous best is still held), the native threads'
 * workspaces (im2col columns, GEMM panels, per-thread weight-gradient partials, thread stacks), a
 * session's own copy of the dataset where it makes one (the addon's sessions read the loaded arrays
 * in place, shared by the runs on one dataset, so prepareJob passes 0), and the dataset as loaded
 * (already in memory when the check runs; for a run limited to N samples, its copy of those).
 *
 * It is compared with the memory actually available, not with the machine's size. Linux
 * overcommits: an allocation beyond what is free can "succeed" and the process is killed later,
 * when the pages are touched (issue 10: the estimate passed a check against physical memory and
 * the process died). So the room is the least of
 *   - MemAvailable (/proc/meminfo),
 *   - what every memory cgroup above this process still allows (v2 memory.max - memory.current,
 *     v1 memory.limit_in_bytes - memory.usage_in_bytes),
 *   - the address-space limit RLIMIT_AS (`ulimit -v`, `prlimit --as`) minus the address space in use.
 * Elsewhere (macOS, Windows) the machine's memory (os.totalmem()) is the only figure.
 * The native core makes its own check of each large buffer as it allocates (native/core/memory.h).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { formatBytes } from '../bytes.js';
import type { CompiledProgram } from '../compile/ir.js';
import { NetloomError } from '../errors.js';

/** The most one session's arena may hold: the native decoder's limit (MAX_ARENA_WORDS). */
export const MAX_ARENA_BYTES = 64 * 2 ** 30;
/** The most values one tensor may hold per sample: the Program's element counts are int32. */
export const MAX_TENSOR_VALUES = 2 ** 31 - 1;

// What the native kernels keep per thread (native/core/kernels/conv2d.cpp NL_CONV_COL_BUDGET,
// gemm.cpp's packed panels) and a thread's stack (address space).
const COL_BUDGET_BYTES = 2 * 2 ** 20;
const GEMM_PANEL_BYTES = 2 ** 20;
const THREAD_STACK_BYTES = 8 * 2 ** 20;

export interface MemoryEstimate {
  /** per-batch buffers (activations, their gradients, the batch itself), as planned */
  activationBytes: number;
  /** parameters, gradients, optimizer state and other fixed-size buffers */
  paramBytes: number;
  /** the weight copies a run holds: the best epoch's state dict and the one being taken */
  weightCopyBytes: number;
  /** the native threads' scratch and stacks */
  workspaceBytes: number;
  /** the session's copy of the samples it trains and tests on */
  datasetCopyBytes: number;
  /** the dataset as loaded: already in memory when the check runs */
  loadedBytes: number;
  /** what is still to be allocated: everything above but the loaded dataset */
  needed: number;
  /** needed + loadedBytes */
  total: number;
}

export interface DatasetMemory {
  /** bytes of the dataset as loaded (held already) */
  loadedBytes: number;
  /** bytes of the session's copy of the samples used */
  copyBytes: number;
}

const FIXED_ROLES = new Set(['param', 'param-buffer', 'param-grad', 'optim-state', 'const', 'scalar']);

/** The threads a session with `threads` (0 = all) runs on. */
export function sessionThreads(threads = 0): number {
  return threads > 0 ? threads : availableParallelism();
}

/** The native workspaces of `program` on `threads` threads (see conv2d.cpp / gemm.cpp). */
function workspaceBytes(program: CompiledProgram, threads: number): number {
  let column = COL_BUDGET_BYTES; // im2col columns: the budget, or one output row when wider
  let partials = 0; // weight + bias gradient of the largest convolution, once per thread
  for (const ins of [...program.forward, ...program.backward]) {
    if (!ins.op.startsWith('conv')) continue;
    const [cin, , w, cout, kh, kw] = ins.ints;
    const groups = ins.ints[14];
    const wo = ins.ints[16];
    const transposed = ins.op.startsWith('conv_transpose');
    const kc = ((transposed ? cout : cin) / groups) * kh * kw;
    column = Math.max(column, kc * (transposed ? w : wo) * 4);
    partials = Math.max(partials, ((cout / groups) * cin * kh * kw + cout + cin) * 4);
  }
  return threads * (column + GEMM_PANEL_BYTES + THREAD_STACK_BYTES + partials);
}

/** The estimate for `program` (at its batch size) with `data` on `threads` threads (0 = all). */
export function estimateMemory(program: CompiledProgram, data: DatasetMemory, threads = 0): MemoryEstimate {
  const arenaBytes = program.arena16 * 64;
  let paramBytes = 0;
  for (const b of program.buffers) if (!b.batched && FIXED_ROLES.has(b.role)) paramBytes += b.elems * 4;
  paramBytes = Math.min(paramBytes, arenaBytes);
  const activationBytes = arenaBytes - paramBytes;
  const stateDict = program.params.reduce((sum, p) => sum + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const weightCopyBytes = 2 * stateDict;
  const workspace = workspaceBytes(program, sessionThreads(threads));
  const needed = arenaBytes + weightCopyBytes + workspace + data.copyBytes;
  return {
    activationBytes, paramBytes, weightCopyBytes, workspaceBytes: workspace, datasetCopyBytes: data.copyBytes,
    loadedBytes: data.loadedBytes, needed, total: needed + data.loadedBytes,
  };
}

/** The memory a new allocation can count on, and which limit that is. */
export interface MemoryRoom {
  bytes: number;
  /** "MemAvailable in /proc/meminfo", "the address-space limit (RLIMIT_AS) of 1.0 GiB, 0.7 GiB of it in use", ... */
  source: string;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const readNumber = (path: string): number | undefined => {
  const t = readText(path)?.trim();
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
};
/** A "Key:  <n> kB" line of a /proc file, in bytes. */
const procKb = (text: string | undefined, key: string): number | undefined => {
  const m = text?.match(new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm'));
  return m ? Number(m[1]) * 1024 : undefined;
};

/** Room under the memory cgroups of this process, every level up to the root (v2 and v1). */
function cgroupRooms(): MemoryRoom[] {
  const out: MemoryRoom[] = [];
  for (const line of (readText('/proc/self/cgroup') ?? '').split('\n')) {
    const m = line.match(/^(\d+):([^:]*):(.*)$/);
    if (!m) continue;
    const v2 = m[1] === '0' && m[2] === '';
    if (!v2 && !m[2].split(',').includes('memory')) continue;
    const mount = v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory';
    const [limitFile, usageFile] = v2 ? ['memory.max', 'memory.current'] : ['memory.limit_in_bytes', 'memory.usage_in_bytes'];
    for (let level = m[3] || '/'; ; level = level.slice(0, level.lastIndexOf('/')) || '/') {
      const dir = `${mount}${level === '/' ? '' : level}`;
      const limit = readNumber(`${dir}/${limitFile}`);
      const usage = readNumber(`${dir}/${usageFile}`);
      // v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages)
      if (limit !== undefined && usage !== undefined && limit < 2 ** 60)
        out.push({ bytes: Math.max(0, limit - usage), source: `the memory limit of cgroup ${level} (${formatBytes(limit)}, ${formatBytes(usage)} of it in use)` });
      if (level === '/') break;
    }
  }
  return out;
}

/** Room under RLIMIT_AS (the soft limit in /proc/self/limits) after the address space in use (VmSize). */
function addressSpaceRoom(): MemoryRoom | undefined {
  const m = readText('/proc/self/limits')?.match(/^Max address space\s+(\S+)/m);
  if (!m || m[1] === 'unlimited') return undefined;
  const limit = Number(m[1]);
  const used = procKb(readText('/proc/self/status'), 'VmSize') ?? 0;
  return {
    bytes: Math.max(0, limit - used),
    source: `the process's address-space limit (RLIMIT_AS, ulimit -v) of ${formatBytes(limit)}, ${formatBytes(used)} of it in use`,
  };
}

/** The least of MemAvailable, the cgroup limits and RLIMIT_AS (Linux); the machine's memory elsewhere. */
export function memoryRoom(): MemoryRoom {
  const meminfo = readText('/proc/meminfo');
  const available = procKb(meminfo, 'MemAvailable');
  if (available === undefined) return { bytes: totalmem(), source: "this machine's memory" };
  const rooms: MemoryRoom[] = [{ bytes: available, source: 'MemAvailable in /proc/meminfo' }, ...cgroupRooms()];
  const as = addressSpaceRoom();
  if (as) rooms.push(as);
  return rooms.reduce((a, b) => (b.bytes < a.bytes ? b : a));
}

/**
 * Throws NL_OOM when the run cannot fit: a tensor above the engine's per-sample limit, the arena
 * above its 64 GiB limit, or what the run still has to allocate above `room` (default: what
 * memoryRoom() finds now). The message breaks the estimate down and names the limit; the hint
 * names the remedy for the largest part.
 */
export function checkMemory(program: CompiledProgram, data: DatasetMemory, o: { threads?: number; room?: MemoryRoom } = {}): MemoryEstimate {
  for (const b of program.buffers)
    if (b.elems > MAX_TENSOR_VALUES)
      throw new NetloomError('NL_OOM', `${b.name} holds ${b.elems.toLocaleString('en-US')} values${b.batched ? ' per sample' : ''}, more than the ${MAX_TENSOR_VALUES.toLocaleString('en-US')} one tensor may hold`,
        'Use a smaller model: fewer channels, less padding, or a smaller input.');
  const e = estimateMemory(program, data, o.threads);
  const batch = program.maxBatch;
  const weights = e.paramBytes + e.weightCopyBytes;
  const parts =
    `activations at batch ${batch}: ${formatBytes(e.activationBytes)}, parameters, gradients and optimizer state: ${formatBytes(e.paramBytes)}, ` +
    `copies of the weights (best epoch): ${formatBytes(e.weightCopyBytes)}, native workspaces: ${formatBytes(e.workspaceBytes)}` +
    (e.datasetCopyBytes > 0 ? `, the session's copy of the dataset: ${formatBytes(e.datasetCopyBytes)}` : '');
  const remedy =
    e.activationBytes >= weights && e.activationBytes >= e.datasetCopyBytes + e.loadedBytes
      ? 'lower the batch size'
      : weights >= e.datasetCopyBytes + e.loadedBytes
        ? 'use a smaller model (fewer or narrower layers)'
        : 'train on fewer samples (--limit-train / --limit-test, or a smaller dataset)';
  const hint = `${remedy[0].toUpperCase()}${remedy.slice(1)}: memory for activations grows with the batch size, for parameters with the layer sizes.`;
  if (e.paramBytes + e.activationBytes > MAX_ARENA_BYTES)
    throw new NetloomError('NL_OOM', `The model's buffers need about ${formatBytes(e.paramBytes + e.activationBytes)} (${parts}), more than the ${formatBytes(MAX_ARENA_BYTES)} one training session can hold: ${remedy}.`, hint);
  const room = o.room ?? memoryRoom();
  if (e.needed > room.bytes)
    throw new NetloomError('NL_OOM', `Training needs about ${formatBytes(e.needed)} more (${parts}; the dataset as loaded holds ${formatBytes(e.loadedBytes)} already) but only ${formatBytes(room.bytes)} is available (${room.source}): ${remedy}.`, hint);
  return e;
}
