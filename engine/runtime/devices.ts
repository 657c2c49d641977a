/**
 * The machine's compute devices and the one rule that turns a device setting (training.device,
 * --device) into the device a run trains on.
 *
 * The native probe (native/core/cuda-loader.h) runs once per process and never fails: no driver, no
 * device, a driver too old or a broken CUDA library all come back as a reason. So 'auto' always
 * resolves (a GPU, else the CPU with that reason), while 'cuda' / 'cuda:N' on a machine without that
 * GPU is an NL_INVALID_ARGUMENT naming the reason, raised before any data is read.
 */
import { formatBytes } from '../bytes.js';
import { NetloomError } from '../errors.js';
import { DEVICE_HINT, deviceProblem, parseDevice } from '../contract/settings.js';
import { loadBinding, type NativeCudaDevice, type NativeDeviceOptions } from './binding.js';

export type CudaDevice = NativeCudaDevice;

export interface MachineDevices {
  cpu: { model: string; simd: string; threads: number };
  cuda: { available: boolean; reason: string | null; devices: CudaDevice[] };
}

/** The device a run trains on, and the line that says which and why. */
export interface ResolvedDevice {
  /** 'cpu' or 'cuda:N' */
  id: string;
  /** the GPU, when id is cuda:N */
  gpu?: CudaDevice;
  /** TF32 tensor cores for matmul/conv (only meaningful on a GPU) */
  tf32: boolean;
  /** why the CPU was chosen by 'auto' (the probe's reason); undefined otherwise */
  fallback?: string;
}

/** What the native probe found (probed once per process; later calls reuse it). */
export function machineDevices(): MachineDevices {
  const d = loadBinding().deviceInfo();
  return {
    cpu: { model: d.cpuModel, simd: d.simd, threads: d.hardwareThreads },
    cuda: { available: d.cuda.available, reason: d.cuda.available ? null : d.cuda.reason || 'no CUDA device found', devices: d.cuda.devices },
  };
}

/**
 * The device `setting` names on `machine`. 'auto' is the first GPU, else the CPU (with the probe's
 * reason); 'cuda' / 'cuda:N' without that GPU is refused, naming the reason and the fix.
 */
export function resolveDevice(setting: string, machine: MachineDevices, tf32 = true): ResolvedDevice {
  const choice = parseDevice(setting);
  if (!choice) throw new NetloomError('NL_INVALID_ARGUMENT', deviceProblem(setting)!, DEVICE_HINT);
  const gpus = machine.cuda.devices;
  if (choice.kind === 'cpu') return { id: 'cpu', tf32 };
  if (choice.kind === 'auto')
    return gpus.length ? { id: `cuda:${gpus[0].index}`, gpu: gpus[0], tf32 } : { id: 'cpu', tf32, fallback: machine.cuda.reason ?? 'no CUDA device found' };
  const gpu = gpus.find((g) => g.index === choice.index);
  if (gpu) return { id: `cuda:${gpu.index}`, gpu, tf32 };
  const asked = setting === 'cuda' ? '"cuda"' : `"${setting}"`;
  if (!gpus.length)
    throw new NetloomError('NL_INVALID_ARGUMENT', `the device is ${asked} but this machine has no usable GPU: ${machine.cuda.reason ?? 'no CUDA device found'}`,
      'Set the device to auto (it trains on a GPU when one is found, else on the CPU) or cpu: training.device in the project, or --device auto. `netloom devices` says what this machine has.');
  throw new NetloomError('NL_INVALID_ARGUMENT', `the device is ${asked} but this machine has ${gpus.length} GPU${gpus.length === 1 ? '' : 's'} (${gpus.map((g) => `cuda:${g.index}`).join(', ')})`,
    `Choose one of them, or auto. \`netloom devices\` lists them.`);
}

/** Why `setting` cannot be trained on with `machine` (the error resolveDevice would raise), or undefined. */
export function deviceProblemFor(setting: string, machine: MachineDevices): NetloomError | undefined {
  try {
    resolveDevice(setting, machine);
    return undefined;
  } catch (e) {
    if (e instanceof NetloomError) return e;
    throw e;
  }
}

/** The native session's device options for `d`: the CPU, or its GPU with its TF32 choice. */
export function nativeDeviceOptions(d: ResolvedDevice): NativeDeviceOptions | undefined {
  return d.gpu ? { cuda: d.gpu.index, tf32: d.tf32 } : undefined;
}

/** "NVIDIA H100 80GB HBM3, 79.1 GiB free" */
export function gpuText(g: CudaDevice): string {
  return `${g.name}, ${formatBytes(g.freeBytes)} free`;
}

/**
 * Where a run trains, in words: "cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB free, TF32 on)", or "CPU (AMD
 * EPYC, avx512, 2 threads): no NVIDIA driver found (...)" when auto fell back to it.
 */
export function deviceLabel(d: ResolvedDevice, cpu: MachineDevices['cpu'], threads: number): string {
  if (d.gpu) return `${d.id} (${gpuText(d.gpu)}, ${d.tf32 ? 'TF32 on' : 'exact float32'})`;
  const what = `CPU (${cpu.model}, ${cpu.simd}, ${threads} thread${threads === 1 ? '' : 's'})`;
  return d.fallback ? `${what}: ${d.fallback}` : what;
}

/** The run's first line, saying where it trains and why: "Using cuda:0 (...)", "Using CPU (...): no NVIDIA driver found (...)". */
export function deviceLine(d: ResolvedDevice, cpu: MachineDevices['cpu'], threads: number): string {
  return `Using ${deviceLabel(d, cpu, threads)}`;
}
