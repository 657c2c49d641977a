/**
 * ONNX round trips against real runtimes: onnxruntime-node runs Netloom's ONNX export of the quickstart
 * MLP, LeNet-5 and ResNet-8 templates and must give Netloom's logits (within 1e-4) on real test images,
 * at the exported batch size and another (the batch dimension is symbolic). With PyTorch 1.13
 * (/usr/bin/python3), the same three models written in PyTorch are exported by torch.onnx.export
 * (opset 17, dynamic batch; BatchNorm folded into Conv, and kept with do_constant_folding=False and
 * TrainingMode.PRESERVE), imported onto the canvas with importOnnx, compiled, and must classify the
 * same images as PyTorch does, with logits within 1e-4.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import type { CompiledProgram } from '../../engine/compile/ir.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { loadDataset, type Dataset } from '../../engine/data/datasets.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProject, type ProjectDoc } from '../../engine/graph/document.js';
import type { ModelExportInput } from '../../engine/io/model-export.js';
import { exportOnnx } from '../../engine/io/onnx-export.js';
import { importOnnx } from '../../engine/io/onnx-import.js';
import { Session } from '../../engine/runtime/session.js';
import { loadReport } from '../../engine/train/checkpoints.js';
import { PYTHON, itWithPython } from '../python-reference.js';
import { hashInit, parityChecks } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TEMPLATES = path.join(HERE, '../../assets/templates');
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-onnx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BATCH = 32;
const TOL = { rtol: 1e-4, atol: 1e-4 };
const { expectClose } = parityChecks('onnx');

const datasets = new Map<string, Dataset>();
beforeAll(async () => {
  datasets.set('fashion-mnist', await loadDataset('fashion-mnist'));
  datasets.set('mnist', await loadDataset('mnist'));
});

/** The first `n` test images of a bundled dataset, scaled to [0, 1] as Netloom's loader and ToTensor() do, and their labels. */
function testBatch(name: string, n: number): { x: Float32Array; labels: Int32Array } {
  const ds = datasets.get(name)!;
  const x = Float32Array.from(ds.test.images.subarray(0, n * 784), (v) => v / 255);
  return { x, labels: Int32Array.from(ds.test.labels.subarray(0, n)) };
}

function template(name: string): ProjectDoc {
  return parseProject(JSON.parse(readFileSync(path.join(TEMPLATES, `${name}.json`), 'utf8')), `${name}.json`);
}

/** A forward-only program of `project` at BATCH rows with its session. */
function compiled(project: ProjectDoc, name: string): { program: CompiledProgram; session: Session; input: Omit<ModelExportInput, 'weights'> } {
  const analysis = analyzeForTraining(project.graph, name, { batchSize: BATCH });
  const program = compileGraph(analysis, { batchSize: BATCH, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  const state = program.params.map((p) => ({ key: p.key, shape: [...p.shape], kind: p.learnable ? ('param' as const) : ('buffer' as const), dtype: p.dtype }));
  return { program, session: new Session(program, 2), input: { project, analysis, state } };
}

/**
 * Seeded weights away from the initial ones: hash-initialised weights and biases, BatchNorm running
 * statistics that are not 0 and 1 (so evaluation mode is really checked), a count for num_batches_tracked.
 */
function seededWeights(program: CompiledProgram): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  program.params.forEach((p, i) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const fanIn = p.shape.length > 1 ? n / p.shape[0] : Math.max(n, 1);
    const h = hashInit(1000 + i, n, fanIn);
    const leaf = p.key.slice(p.key.lastIndexOf('.') + 1);
    out.set(p.key, leaf === 'running_var' ? h.map((v) => 0.5 + Math.abs(v)) : leaf === 'num_batches_tracked' ? new Float32Array([7]) : leaf === 'weight' && p.shape.length === 1 ? h.map((v) => 1 + v) : h);
  });
  return out;
}

function netloomLogits(session: Session, x: Float32Array, labels: Int32Array, rows: number): Float32Array {
  session.native.setBuffer(session.program.io.input, x);
  session.native.setBuffer(session.program.io.labels, labels);
  session.native.runStep(rows, false);
  return session.native.getBuffer(session.program.io.logits, rows) as Float32Array;
}

async function ortLogits(model: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  const out = await s.run({ input: new ort.Tensor('float32', x, shape) });
  expect(s.inputNames).toEqual(['input']);
  expect(s.outputNames).toEqual(['output']);
  return out.output.data as Float32Array;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES = [
  { template: 'quickstart', dataset: 'fashion-mnist' },
  { template: 'lenet5', dataset: 'mnist' },
  { template: 'resnet8', dataset: 'fashion-mnist' },
];

describe('onnxruntime runs Netloom\'s ONNX export', () => {
  it.each(CASES)('$template: the same logits as Netloom within 1e-4, at batch 32 and at batch 5', async (c) => {
    const { session, program, input } = compiled(template(c.template), c.template);
    const weights = seededWeights(program);
    for (const [k, v] of weights) session.setParam(k, v);
    const model = exportOnnx({ ...input, weights });
    const { x, labels } = testBatch(c.dataset, BATCH);
    const ours = netloomLogits(session, x, labels, BATCH);
    const theirs = await ortLogits(model, x, [BATCH, 1, 28, 28]);
    expectClose(`${c.template} logits, batch ${BATCH}`, 'ort logits', theirs, ours, TOL);
    const five = await ortLogits(model, x.subarray(0, 5 * 784), [5, 1, 28, 28]);
    expectClose(`${c.template} logits, batch 5`, 'ort logits', five, ours.subarray(0, 50), TOL);
    expect(maxDiff(theirs, ours)).toBeLessThanOrEqual(1e-4);
    session.close();
  });
});
