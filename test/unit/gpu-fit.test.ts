/**
 * Will it fit? (engine/runtime/gpu-fit.ts): the estimate of a run's GPU memory is the planner's own
 * arena plus the stated terms, exactly, and the largest batch that fits is exact against the planner:
 * that batch fits, the next does not.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import type { CompiledProgram } from '../../engine/compile/ir.js';
import { MAX_BATCH } from '../../engine/contract/settings.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProjectText, type GraphDoc } from '../../engine/graph/document.js';
import { deviceFitOf } from '../../engine/host/device-fit.js';
import { arenaBytesAt, CONTEXT_BYTES, deviceDatasetBytes, fitText, gpuFit, WORKSPACE_BYTES } from '../../engine/runtime/gpu-fit.js';

const ADAM = { type: 'Adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false } as const;
const template = (name: string) => JSON.parse(readFileSync(`assets/templates/${name}.json`, 'utf8')).graph as GraphDoc;
const compile = (g: GraphDoc, batchSize: number): CompiledProgram =>
  compileGraph(analyzeForTraining(g, 'test', { batchSize }), { batchSize, optimizer: ADAM as never });
const FASHION = deviceDatasetBytes({ count: 70_000, sampleSize: 784, float: false, labels: true, targetWidth: 0 });
const REST = FASHION + WORKSPACE_BYTES + CONTEXT_BYTES;

describe('the arena at a batch size', () => {
  it('is the planner size of the program compiled at that batch, and planning leaves the program as it was', () => {
    for (const name of ['quickstart', 'fashion-cnn']) {
      const at64 = compile(template(name), 64);
      const offsets = at64.buffers.map((b) => b.offset16);
      for (const batch of [1, 64, 100, 1000]) expect(arenaBytesAt(at64, batch), `${name} at ${batch}`).toBe(compile(template(name), batch).arena16 * 64);
      expect(at64.buffers.map((b) => b.offset16)).toEqual(offsets);
    }
  });
});

describe('gpuFit', () => {
  const program = compile(template('quickstart'), 64);

  it('adds the arena, the dataset on the device, the workspace and the context, and compares them with the free memory', () => {
    const arena = arenaBytesAt(program, 64);
    const exact = gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: arena + REST });
    expect(exact).toMatchObject({ batch: 64, arenaBytes: arena, datasetBytes: FASHION, workspaceBytes: WORKSPACE_BYTES, contextBytes: CONTEXT_BYTES, totalBytes: arena + REST, fits: true });
    expect(gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: arena + REST - 1 }).fits).toBe(false);
    // FashionMNIST on the device: a byte per pixel and one per label, both splits
    expect(FASHION).toBe(70_000 * 785);
    expect(deviceDatasetBytes({ count: 10, sampleSize: 4, float: true, labels: false, targetWidth: 2 })).toBe(10 * (16 + 8));
  });

  it('finds the largest batch that fits: it fits, one more does not (several sizes of free memory, an MLP and a CNN)', () => {
    for (const p of [program, compile(template('fashion-cnn'), 256)])
      for (const target of [1, 7, 64, 1000, 12_345]) {
        const free = arenaBytesAt(p, target) + REST + 10;
        const f = gpuFit(p, { batch: 64, datasetBytes: FASHION, freeBytes: free });
        expect(arenaBytesAt(p, f.maxBatch) + REST).toBeLessThanOrEqual(free);
        expect(arenaBytesAt(p, f.maxBatch + 1) + REST).toBeGreaterThan(free);
        expect(f.maxBatch).toBe(target);   // ten bytes are less than one sample's activations
        expect(f.fits).toBe(target >= 64);
      }
  });

  it('says 0 when not even one sample fits, and stops at the largest batch the runtime runs', () => {
    const none = gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: REST });
    expect(none).toMatchObject({ fits: false, maxBatch: 0 });
    expect(fitText(none)).toMatch(/does not fit \(not even batch 1 fits\)$/);
    const huge = gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: 2 ** 50 });
    expect(huge).toMatchObject({ fits: true, maxBatch: MAX_BATCH });
  });

  it('says it in one line: total, free, batch, verdict and the largest batch', () => {
    const f = gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: 80 * 2 ** 30 });
    expect(fitText(f)).toMatch(/^\d+ MiB of 80\.0 GiB free at batch 64: fits \(the largest batch that fits is [\d,]+\)$/);
  });
});

describe("the API's deviceFit (engine/host/device-fit.ts) on a described machine", () => {
  const h100 = { index: 0, name: 'NVIDIA H100 80GB HBM3', totalBytes: 85_520_809_984, freeBytes: 84_929_216_512, computeCapability: '9.0', smCount: 132 };
  const machine = (devices: (typeof h100)[]) => ({ cpu: { model: 'AMD EPYC', simd: 'avx512', threads: 2 }, cuda: { available: devices.length > 0, reason: devices.length ? null : 'no NVIDIA driver found', devices } });
  const project = (mutate: (p: any) => void = () => {}) => {
    const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
    mutate(p);
    return parseProjectText(JSON.stringify(p), 'test');
  };

  it('on a GPU: the estimate at the batch, FashionMNIST counted, the line the summary shows', () => {
    const doc = project();
    const r = deviceFitOf(doc, 64, machine([h100]));
    // the project's own optimizer (the quickstart's SGD: no state), not the Adam the tests above use
    const program = compileGraph(analyzeForTraining(doc.graph, 'test', { batchSize: 64 }), { batchSize: 64, optimizer: doc.training.optimizer });
    const expected = gpuFit(program, { batch: 64, datasetBytes: FASHION, freeBytes: h100.freeBytes });
    expect(r).toEqual({ device: 'cuda:0', name: h100.name, note: null, fit: { ...expected, text: fitText(expected) } });
  });

  it('on the CPU, nothing to estimate (auto says why); a missing GPU or a graph with a problem is a note', () => {
    expect(deviceFitOf(project(), 64, machine([]))).toEqual({ device: 'cpu', name: 'AMD EPYC', note: 'no NVIDIA driver found', fit: null });
    expect(deviceFitOf(project((p) => (p.training.device = 'cuda:3')), 64, machine([h100])).note).toMatch(/^the device is "cuda:3" but this machine has 1 GPU \(cuda:0\)/);
    const broken = deviceFitOf(project((p) => (p.graph.edges = [])), 64, machine([h100]));
    expect(broken).toMatchObject({ device: 'cuda:0', fit: null, note: expect.stringMatching(/^no estimate until the model compiles: /) });
    const csv = deviceFitOf(project((p) => (p.training.dataset = { type: 'csv', path: 'x.csv', label: 'y' })), 64, machine([h100]));
    expect(csv.note).toMatch(/not counted/);
    expect(csv.fit!.datasetBytes).toBe(0);
  });
});
