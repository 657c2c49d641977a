/**
 * The device setting (training.device, --device) and the one rule that resolves it on a machine
 * (engine/runtime/devices.ts): auto falls back to the CPU with the probe's reason; cuda / cuda:N
 * without that GPU is refused naming the reason and the fix. Machines are described as data: the
 * probe's answer on this machine is checked in test/addon/cuda-probe.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEVICE_PATTERN, deviceProblem, parseDevice } from '../../engine/contract/settings.js';
import { TrainingSchema } from '../../engine/graph/document.js';
import { deviceLine, resolveDevice, type MachineDevices } from '../../engine/runtime/devices.js';
import { thrownNetloomError } from '../support/rejection.js';

const CPU = { model: 'AMD EPYC', simd: 'avx512', threads: 2 };
const NO_GPU: MachineDevices = { cpu: CPU, cuda: { available: false, reason: 'no NVIDIA driver found (libcuda.so.1 is not installed)', devices: [] } };
const gpu = (index: number) => ({ index, name: 'NVIDIA H100 80GB HBM3', totalBytes: 85_520_809_984, freeBytes: 84_929_216_512, computeCapability: '9.0', smCount: 132 });
const TWO_GPUS: MachineDevices = { cpu: CPU, cuda: { available: true, reason: null, devices: [gpu(0), gpu(1)] } };

describe('the device setting', () => {
  it('takes auto, cpu, cuda and cuda:N, and nothing else', () => {
    for (const v of ['auto', 'cpu', 'cuda', 'cuda:0', 'cuda:1', 'cuda:15']) expect(deviceProblem(v), v).toBeUndefined();
    for (const v of ['gpu', 'CUDA', 'cuda:', 'cuda:01', 'cuda:-1', 'cuda:x', 'cuda0', ' cpu', '', 'mps', 3, null])
      expect(deviceProblem(v), String(v)).toMatch(/^Device \(device\) must be auto, cpu, cuda or cuda:N \(got .*\)$/);
    expect(DEVICE_PATTERN.test('cuda:7')).toBe(true);
    expect(parseDevice('cuda')).toEqual({ kind: 'cuda', index: 0 });
    expect(parseDevice('cuda:3')).toEqual({ kind: 'cuda', index: 3 });
    expect(parseDevice('auto')).toEqual({ kind: 'auto' });
    expect(parseDevice('tpu')).toBeUndefined();
  });

  it('in a project: old projects read as they did, a GPU index is a value, allow_tf32 defaults to true (PyTorch)', () => {
    expect(TrainingSchema.parse({})).toMatchObject({ device: 'auto', allow_tf32: true });
    for (const device of ['auto', 'cpu', 'cuda', 'cuda:2']) expect(TrainingSchema.parse({ device }).device).toBe(device);
    expect(TrainingSchema.parse({ allow_tf32: false }).allow_tf32).toBe(false);
    const bad = TrainingSchema.safeParse({ device: 'tpu' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['device'], message: 'Device (device) must be auto, cpu, cuda or cuda:N (got "tpu")' });
  });
});

describe('resolveDevice', () => {
  it('without a GPU: auto is the CPU with the reason, cpu is the CPU', () => {
    expect(resolveDevice('auto', NO_GPU)).toEqual({ id: 'cpu', tf32: true, fallback: NO_GPU.cuda.reason });
    expect(resolveDevice('cpu', NO_GPU)).toEqual({ id: 'cpu', tf32: true });
    expect(deviceLine(resolveDevice('auto', NO_GPU), CPU, 2)).toBe('Using CPU (AMD EPYC, avx512, 2 threads): no NVIDIA driver found (libcuda.so.1 is not installed)');
    expect(deviceLine(resolveDevice('cpu', NO_GPU), CPU, 1)).toBe('Using CPU (AMD EPYC, avx512, 1 thread)');
  });

  it('without a GPU: cuda and cuda:1 are refused with the reason and the fix', () => {
    for (const setting of ['cuda', 'cuda:1']) {
      const e = thrownNetloomError(() => resolveDevice(setting, NO_GPU));
      expect(e.code).toBe('NL_INVALID_ARGUMENT');
      expect(e.message).toBe(`the device is "${setting}" but this machine has no usable GPU: no NVIDIA driver found (libcuda.so.1 is not installed)`);
      expect(e.hint).toMatch(/Set the device to auto .* or cpu/);
    }
    expect(thrownNetloomError(() => resolveDevice('gpu', NO_GPU)).hint).toMatch(/auto.*cpu.*cuda:N/);
  });

  it('with GPUs: auto and cuda are the first, cuda:N the N-th, an index past them is refused naming those there are', () => {
    expect(resolveDevice('auto', TWO_GPUS)).toMatchObject({ id: 'cuda:0', gpu: { index: 0 } });
    expect(resolveDevice('cuda', TWO_GPUS, false)).toMatchObject({ id: 'cuda:0', tf32: false });
    expect(resolveDevice('cuda:1', TWO_GPUS)).toMatchObject({ id: 'cuda:1', gpu: { index: 1 } });
    expect(resolveDevice('cpu', TWO_GPUS)).toEqual({ id: 'cpu', tf32: true });
    expect(thrownNetloomError(() => resolveDevice('cuda:2', TWO_GPUS)).message).toBe('the device is "cuda:2" but this machine has 2 GPUs (cuda:0, cuda:1)');
    expect(deviceLine(resolveDevice('auto', TWO_GPUS), CPU, 2)).toBe('Using cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB free, TF32 on)');
    expect(deviceLine(resolveDevice('cuda:1', TWO_GPUS, false), CPU, 2)).toBe('Using cuda:1 (NVIDIA H100 80GB HBM3, 79.1 GiB free, exact float32)');
  });
});
