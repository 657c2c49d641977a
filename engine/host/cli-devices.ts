/**
 * What `netloom devices` prints (the quickstart's "Using cuda device" question: which devices this
 * machine has, or why there is no GPU), and the device lines `netloom train` / `eval` start with.
 */
import { formatBytes } from '../bytes.js';
import { deviceLine, machineDevices, type MachineDevices } from '../runtime/devices.js';
import { fitText } from '../runtime/gpu-fit.js';
import type { Job } from '../train/job.js';

/** The CPU as today, then each GPU (name, memory, compute capability) or the reason there is none. */
export function deviceListing(m: MachineDevices): string[] {
  const lines = [`cpu: ${m.cpu.model}`, `  simd: ${m.cpu.simd}`, `  threads: ${m.cpu.threads}`];
  if (!m.cuda.devices.length) lines.push(`cuda: none: ${m.cuda.reason ?? 'no CUDA device found'}`);
  for (const g of m.cuda.devices)
    lines.push(`cuda:${g.index}: ${g.name}`, `  memory: ${formatBytes(g.freeBytes)} free of ${formatBytes(g.totalBytes)}`,
      `  compute capability: ${g.computeCapability} (${g.smCount} SMs)`);
  return lines;
}

export function printDevices(): void {
  for (const line of deviceListing(machineDevices())) console.log(line);
}

/** A run's first lines: where it trains and why, and on a GPU whether it fits ("Fits on cuda:0: ..."). */
export function runDeviceLines(job: Job, threads: number): string[] {
  const lines = [deviceLine(job.device, machineDevices().cpu, threads)];
  if (job.gpuFit) lines.push(`GPU memory: ${fitText(job.gpuFit)}`);
  return lines;
}
