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
import { importOnnxBytes } from '../../engine/io/onnx-import.js';
import { Session } from '../../engine/runtime/session.js';
import { loadReport } from '../../engine/train/checkpoints.js';
import { PYTHON, itWithPython } from '../python-reference.js';
import { exportInput, project, seeded, zoo } from '../unit/onnx-fixtures.js';
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

/** A forward-only program of `project` at `batch` rows with its session. */
function compiled(project: ProjectDoc, name: string, batch = BATCH): { program: CompiledProgram; session: Session; input: Omit<ModelExportInput, 'weights'> } {
  const analysis = analyzeForTraining(project.graph, name, { batchSize: batch });
  const program = compileGraph(analysis, { batchSize: batch, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
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

/** Netloom's forward pass of an imported ONNX model: compiled at `rows`, its tensors loaded strictly. */
function importedLogits(imported: { project: ProjectDoc; tensors: Record<string, { data: Float32Array }> }, x: Float32Array, labels: Int32Array, rows: number): Float32Array {
  const { session, program } = compiled(imported.project, 'imported', rows);
  const report = loadReport(imported.project.graph.nodes, program.params, imported.tensors as never);
  expect(report.problems).toEqual([]);
  for (const p of program.params) session.setParam(p.key, imported.tensors[p.key].data);
  const out = netloomLogits(session, x, labels, rows);
  session.close();
  return out;
}

describe('onnxruntime and Netloom agree on every exportable layer', () => {
  it('the layer zoo (branches, GELU both ways, SiLU, norms, transposed and 1-D convolutions, pooling) at batch 6', async () => {
    const input = exportInput(zoo());
    const { session } = compiled(input.project, 'zoo', 6);
    for (const [k, v] of input.weights) session.setParam(k, v);
    const x = seeded(6 * 64, 99).map((v) => 2 * v);
    const ours = netloomLogits(session, x, new Int32Array(6), 6);
    session.close();
    const model = exportOnnx(input);
    const theirs = await ortLogits(model, x, [6, 1, 8, 8]);
    expectClose('zoo logits', 'ort logits', theirs, ours, TOL);
    expect(maxDiff(theirs, ours)).toBeLessThanOrEqual(1e-4);
    // and back onto the canvas: the imported project computes the same
    const back = importOnnxBytes(model, 'zoo.onnx');
    expect(maxDiff(importedLogits(back, x, new Int32Array(6), 6), ours)).toBeLessThanOrEqual(1e-5);
  });

  it('a CSV model takes raw features: the standardisation runs inside the ONNX model', async () => {
    const p = project([3], [{ type: 'Linear', name: 'fc1', params: { out_features: 5 } }, { type: 'Tanh', name: 'act' }, { type: 'Linear', name: 'fc2', params: { out_features: 2 } }] as never);
    const standardize = { columns: ['a', 'b', 'c'], mean: [10, -2, 0.5], std: [4, 0.25, 1] };
    const input = { ...exportInput(p), standardize };
    const raw = seeded(12, 5).map((v, i) => standardize.mean[i % 3] + 3 * v * standardize.std[i % 3]);
    const scaled = raw.map((v, i) => (v - standardize.mean[i % 3]) / standardize.std[i % 3]);
    const { session } = compiled(p, 'csv', 4);
    for (const [k, v] of input.weights) session.setParam(k, v);
    const ours = netloomLogits(session, scaled, new Int32Array(4), 4);
    session.close();
    const theirs = await ortLogits(exportOnnx(input), raw, [4, 3]);
    expect(maxDiff(theirs, ours)).toBeLessThanOrEqual(1e-5);
  });
});

// ---------------------------------------------------------------------------------------------
// PyTorch 1.13: torch.onnx.export of the same models -> importOnnx -> Netloom

const TORCH_MODELS = String.raw`
import sys, numpy as np, torch
from torch import nn
torch.manual_seed(0)
torch.set_num_threads(2)
class Quickstart(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2); self.relu1 = nn.ReLU(); self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5); self.relu2 = nn.ReLU(); self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120); self.relu3 = nn.ReLU(); self.fc2 = nn.Linear(120, 84); self.relu4 = nn.ReLU(); self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc3(self.relu4(self.fc2(self.relu3(self.fc1(self.flatten(x))))))
class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout); self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None
        self.relu2 = nn.ReLU()
    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + (self.downsample(x) if self.downsample is not None else x))
class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(16); self.relu1 = nn.ReLU()
        self.layer1 = Block(16, 16, 1); self.layer2 = Block(16, 32, 2); self.layer3 = Block(32, 64, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1); self.flatten = nn.Flatten(); self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu1(self.bn1(self.conv1(x))))))
        return self.fc(self.flatten(self.avgpool(x)))

name, train_x, train_y, test_x, out = sys.argv[1:6]
model = {'quickstart': Quickstart, 'lenet5': LeNet5, 'resnet8': ResNet8}[name]()
xs = torch.from_numpy(np.fromfile(train_x, dtype='<f4').reshape(-1, 1, 28, 28))
ys = torch.from_numpy(np.fromfile(train_y, dtype='<i4').astype('int64'))
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
model.train()
for i in range(0, len(xs), 32):  # one short epoch: trained-ish weights
    opt.zero_grad()
    nn.functional.cross_entropy(model(xs[i:i + 32]), ys[i:i + 32]).backward()
    opt.step()
# BatchNorm's running statistics as the population's (momentum None: a cumulative average), so that
# evaluation mode classifies as well as training mode does after so few steps
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.reset_running_stats()
        m.momentum = None
with torch.no_grad():
    for i in range(0, len(xs), 128):
        model(xs[i:i + 128])
model.eval()
x = torch.from_numpy(np.fromfile(test_x, dtype='<f4').reshape(-1, 1, 28, 28))
with torch.no_grad():
    model(x).numpy().astype('<f4').tofile(out + '.logits')
common = dict(opset_version=17, input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}})
torch.onnx.export(model, x[:2], out + '.folded.onnx', **common)
torch.onnx.export(model, x[:2], out + '.kept.onnx', do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, **common)
`;

const TRAIN = 512;
const TEST = 256;

const argmaxHits = (logits: Float32Array, labels: Int32Array) => {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * 10, i * 10 + 10);
    if (row.indexOf(Math.max(...row)) === labels[i]) hits++;
  }
  return hits;
};

describe('PyTorch 1.13 torch.onnx.export -> importOnnx -> Netloom', () => {
  const itTorch = itWithPython(['torch', 'numpy'], 'the torch.onnx.export import tests');
  for (const c of CASES) itTorch(`${c.template}: folded and unfolded exports import, compile and classify as PyTorch does (logits within 1e-4)`, () => {
    const ds = datasets.get(c.dataset)!;
    const files = { trainX: path.join(tmp, `${c.template}-train.f32`), trainY: path.join(tmp, `${c.template}-train.i32`), testX: path.join(tmp, `${c.template}-test.f32`), out: path.join(tmp, c.template) };
    writeFileSync(files.trainX, Float32Array.from(ds.train.images.subarray(0, TRAIN * 784), (v) => v / 255));
    writeFileSync(files.trainY, Int32Array.from(ds.train.labels.subarray(0, TRAIN)));
    const { x, labels } = testBatch(c.dataset, TEST);
    writeFileSync(files.testX, x);
    const r = spawnSync(PYTHON, ['-c', TORCH_MODELS, c.template, files.trainX, files.trainY, files.testX, files.out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`PyTorch failed:\n${r.stderr}`);
    const theirs = new Float32Array(new Uint8Array(readFileSync(`${files.out}.logits`)).buffer);
    expect(argmaxHits(theirs, labels)).toBeGreaterThan(TEST * 0.25); // trained-ish: well above chance (10%)
    for (const variant of ['folded', 'kept']) {
      const imported = importOnnxBytes(new Uint8Array(readFileSync(`${files.out}.${variant}.onnx`)), `${c.template}.${variant}.onnx`);
      const ours = importedLogits(imported, x, labels, TEST);
      expectClose(`${c.template} ${variant} logits`, 'torch logits', ours, theirs, TOL);
      expect(maxDiff(ours, theirs), `${c.template} ${variant}`).toBeLessThanOrEqual(1e-4);
      expect(argmaxHits(ours, labels), `${c.template} ${variant} accuracy`).toBe(argmaxHits(theirs, labels));
      const names = imported.project.graph.nodes.map((n) => n.name);
      expect(names).toContain(c.template === 'quickstart' ? 'linear_relu_stack.4' : c.template === 'lenet5' ? 'fc3' : 'layer2.downsample.0');
      if (c.template === 'resnet8') expect(imported.project.graph.nodes.filter((n) => n.type === 'BatchNorm2d').length).toBe(variant === 'kept' ? 9 : 0);
    }
  }, 300_000); // PyTorch trains the model briefly first: tens of seconds on a busy machine
});
