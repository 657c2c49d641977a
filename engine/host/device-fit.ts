/**
 * The API's deviceFit: where a project's run would train on this machine and, on a GPU, whether it
 * fits the GPU's free memory at a batch size (the summary panel's line; `netloom train` makes the same
 * check in prepareJob). Nothing is loaded: a built-in dataset's size is known from its declaration,
 * a file dataset's only once it is read, so its samples are left out of the estimate and the note says so.
 */
import type { DeviceFitDto } from '../contract/api.js';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../contract/datasets.js';
import { compileGraph } from '../compile/compile.js';
import { NetloomError } from '../errors.js';
import { analyzeForTraining } from '../graph/analyze.js';
import type { DatasetDoc, ProjectDoc } from '../graph/document.js';
import { resolveDevice, type MachineDevices } from '../runtime/devices.js';
import { deviceDatasetBytes, fitText, gpuFit } from '../runtime/gpu-fit.js';

/** Bytes of a built-in dataset on the device (both splits), or undefined for a dataset read from files. */
function builtinDeviceBytes(dataset: DatasetDoc): number | undefined {
  const name = typeof dataset === 'string' ? dataset : dataset.type === 'torchvision' ? dataset.name : undefined;
  if (!isBuiltinDataset(name)) return undefined;
  const b = BUILTIN_DATASETS[name];
  return deviceDatasetBytes({ count: b.trainSize + b.testSize, sampleSize: (b.sampleShape as readonly number[]).reduce((x, y) => x * y, 1), float: false, labels: true, targetWidth: 0 });
}

export function deviceFitOf(project: ProjectDoc, batchSize: number, machine: MachineDevices): DeviceFitDto {
  const t = project.training;
  let device;
  try {
    device = resolveDevice(t.device, machine, t.allow_tf32);
  } catch (e) {
    if (!(e instanceof NetloomError)) throw e;
    return { device: t.device, name: '', note: `${e.message}. ${e.hint ?? ''}`.trim(), fit: null };
  }
  if (!device.gpu) return { device: 'cpu', name: machine.cpu.model, note: device.fallback ?? null, fit: null };
  const base = { device: device.id, name: device.gpu.name };
  let program;
  try {
    const analysis = analyzeForTraining(project.graph, 'the canvas', { batchSize });
    program = compileGraph(analysis, { batchSize, optimizer: t.optimizer, clipGradNorm: t.clip_grad_norm });
  } catch (e) {
    if (!(e instanceof NetloomError)) throw e;
    return { ...base, note: `no estimate until the model compiles: ${e.message.split('\n')[0]}`, fit: null };
  }
  const datasetBytes = builtinDeviceBytes(t.dataset);
  const fit = gpuFit(program, { batch: batchSize, datasetBytes: datasetBytes ?? 0, freeBytes: device.gpu.freeBytes });
  return {
    ...base,
    note: datasetBytes === undefined ? "the dataset's samples are not counted: their size is known once the file is read" : null,
    fit: { ...fit, text: fitText(fit) },
  };
}
