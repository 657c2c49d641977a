/**
 * PyTorch code export against real PyTorch and torchrun (/usr/bin/python3, PyTorch 1.13):
 *
 *   - every template's model.py, with the weights of a (briefly trained) Netloom run loaded by
 *     load_state_dict(strict=True), gives Netloom's eval-mode outputs on 100 real test samples;
 *   - the exported quickstart's train.py under `torchrun --nproc_per_node=2` (gloo, CPU) trains, prints the
 *     test accuracy and writes checkpoints/last.pt in the agreed layout 2 with Netloom's keys and shapes;
 *     Netloom's evaluation of that checkpoint equals the printed accuracy (once Netloom reads .pt);
 *   - train.py --resume from its own epoch-1 checkpoint continues with epoch 2 exactly as an
 *     uninterrupted run does.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { ProjectSchema, parseProjectText, type ProjectDoc } from '../../engine/graph/document.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { exportPytorchCode } from '../../engine/io/export-pytorch.js';
import { modelClassName } from '../../engine/io/export-pytorch/model-py.js';
import type { ModelExportInput } from '../../engine/io/model-export.js';
import { Rng } from '../../engine/rng.js';
import { Session } from '../../engine/runtime/session.js';
import { saveCheckpoint } from '../../engine/train/checkpoints.js';
import { forwardOne } from '../../engine/train/evaluation.js';
import { baseMomentum } from '../../engine/train/lr-tables.js';
import { lrSchedule, validateScheduler } from '../../engine/train/schedules.js';
import { TrainingRun } from '../../engine/train/run.js';
import { PYTHON, itWithPython } from '../python-reference.js';
import { groupedProject } from './grouped-project.js';

const ROOT = process.cwd();
const TEMPLATES = join(ROOT, 'assets', 'templates');
const DATASETS = join(ROOT, 'assets', 'datasets');
const TORCHRUN = '/usr/bin/torchrun';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-pycode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Netloom's .pt, which the harness below loads with torch.load(weights_only=True), as a PyTorch user would
// ('weights.safetensors' makes it parse safetensors instead).
const WEIGHTS_FILE = 'weights.pt';

const itTorch = itWithPython(['torch', 'numpy'], 'the PyTorch code export checks');

/** Loads the exported model.py, Netloom's weights (strict), runs eval-mode forward on the samples. */
const HARNESS = String.raw`
import json, struct, sys
import numpy as np, torch
folder, cls, weights, xfile, n, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
sys.path.insert(0, folder)
import model as exported

def read_safetensors(path):
    raw = open(path, 'rb').read()
    (hlen,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + hlen])
    header.pop('__metadata__', None)
    sd = {}
    for k, e in header.items():
        b, t = e['data_offsets']
        dtype = {'F32': '<f4', 'I64': '<i8'}[e['dtype']]  # I64: num_batches_tracked
        sd[k] = torch.from_numpy(np.frombuffer(raw[8 + hlen + b:8 + hlen + t], dtype=dtype).copy().reshape(e['shape']))
    return sd

sd = torch.load(weights, weights_only=True) if weights.endswith('.pt') else read_safetensors(weights)
model = getattr(exported, cls)()
model.load_state_dict(sd, strict=True)
model.eval()
x = torch.from_numpy(np.fromfile(xfile, dtype='<f4')).reshape(n, -1)
shape = json.loads(sys.argv[7])
with torch.no_grad():
    y = model(x.reshape([n] + shape))
if isinstance(y, tuple):
    y = y[0]
y.reshape(n, -1).numpy().astype('<f4').tofile(out)
order = list(getattr(exported, 'PARAMETER_ORDER', [k for k, _ in model.named_parameters()]))
print(json.dumps({'state_dict': list(model.state_dict()), 'optimizer_order': order,
                  'named_parameters': [k for k, _ in model.named_parameters()]}))
`;

function python(args: string[], cwd?: string, timeout = 120_000) {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', cwd, timeout });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function readTemplate(name: string): { project: ProjectDoc; file: string } {
  const file = join(TEMPLATES, `${name}.json`);
  return { project: parseProjectText(readFileSync(file, 'utf8'), file), file };
}

/** The ModelExportInput of a run, built here from its analysis and compiled program (not buildExportInput). */
function exportInput(run: TrainingRun, project: ProjectDoc): ModelExportInput {
  const state = run.session.program.params.map((p) => ({ key: p.key, shape: [...p.shape], kind: p.learnable ? ('param' as const) : ('buffer' as const), dtype: p.dtype }));
  return { project, analysis: run.job.analysis, state };
}

function analyzeForTrainingOf(p: ProjectDoc) {
  return analyzeForTraining(p.graph, p.name, { batchSize: p.training.batch_size });
}

/** The state entries of an analysed graph, from the compiled program (forward only). */
function stateOf(analysis: ReturnType<typeof analyzeForTraining>): ModelExportInput['state'] {
  const program = compileGraph(analysis, { batchSize: 2, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  return program.params.map((p) => ({ key: p.key, shape: [...p.shape], kind: p.learnable ? ('param' as const) : ('buffer' as const), dtype: p.dtype }));
}

function writeFolder(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/**
 * The first `n` test samples as the model's float32 input (pixels / 255, or the standardised CSV row); a
 * CSV's held-out split can be smaller (Iris holds out 30 rows), and training rows make up the rest.
 */
function testSamples(run: TrainingRun, n: number): Float32Array[] {
  const ds = run.job.dataset;
  const per = ds.sampleShape.reduce((a, b) => a * b, 1);
  if (ds.kind === 'tabular') {
    const rows = (x: Float32Array, count: number) => Array.from({ length: count }, (_, i) => x.slice(i * per, (i + 1) * per));
    const test = rows(ds.test.x, Math.min(n, ds.test.count));
    return [...test, ...rows(ds.train.x, Math.min(n - test.length, ds.train.count))];
  }
  return Array.from({ length: Math.min(n, ds.test.count) }, (_, i) => Float32Array.from(ds.test.images.subarray(i * per, (i + 1) * per), (v) => v / 255));
}

const TEMPLATE_NAMES = ['quickstart', 'fashion-cnn', 'lenet5', 'resnet8', 'autoencoder', 'iris-mlp'];

/**
 * A project (briefly trained by Netloom) exported: its model.py with Netloom's .pt loaded by
 * load_state_dict(strict=True) has Netloom's keys, and its eval outputs on 100 test samples are Netloom's within 1e-5.
 */
async function expectModelPyMatches(name: string, project: ProjectDoc, file: string): Promise<void> {
  // one short epoch, so the weights (and BatchNorm's running statistics) are not the initial ones
  const run = await TrainingRun.create(project, file, { epochs: 1, limitTrain: 256, limitTest: 100, threads: 2 });
  try {
    run.start();
    await run.finished();
    expect(run.state).toBe('finished');
    const input = exportInput(run, project);
    const dir = join(tmp, name);
    writeFolder(dir, exportPytorchCode(input));
    const weights = join(dir, WEIGHTS_FILE);
    await run.saveCheckpoint(weights);

    const samples = testSamples(run, 100);
    expect(samples.length).toBe(100);
    const ours = samples.map((x) => Float32Array.from(forwardOne(run.job, x)));
    const xfile = join(dir, 'x.f32');
    writeFileSync(xfile, Buffer.concat(samples.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength))));
    const outFile = join(dir, 'y.f32');
    const r = python(['-c', HARNESS, dir, modelClassName(project.name), weights, xfile, String(samples.length), outFile, JSON.stringify(run.job.dataset.sampleShape)]);
    if (r.code !== 0) throw new Error(`PyTorch could not run the exported model.py:\n${r.err}`);
    const info = JSON.parse(r.out) as { state_dict: string[]; optimizer_order: string[]; named_parameters: string[] };

    // the state dict holds Netloom's keys; its order is Netloom's, or model.py says Netloom's parameter order
    expect([...info.state_dict].sort()).toEqual(input.state.map((e) => e.key).sort());
    const learnable = input.state.filter((e) => e.kind === 'param').map((e) => e.key);
    expect(info.optimizer_order).toEqual(learnable);
    if (info.named_parameters.join() === learnable.join()) expect(info.state_dict).toEqual(input.state.map((e) => e.key));

    const theirs = new Float32Array(new Uint8Array(readFileSync(outFile)).buffer);
    const width = ours[0].length;
    expect(theirs.length).toBe(samples.length * width);
    let worst = 0;
    ours.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - theirs[i * width + j])))));
    expect(worst, `${name}: largest |Netloom - PyTorch| over ${theirs.length} outputs`).toBeLessThanOrEqual(1e-5);
  } finally {
    await run.close();
  }
}

describe('model.py loads Netloom\'s weights and computes Netloom\'s outputs', () => {
  for (const name of TEMPLATE_NAMES) {
    itTorch(`${name}: load_state_dict(strict=True), eval outputs on 100 test samples within 1e-5`, async () => {
      const { project, file } = readTemplate(name);
      await expectModelPyMatches(name, project, file);
    }, 240_000);
  }

  // groups are submodules: model.py must hold stage.<i>.block.fc for the .pt's keys to load strictly
  itTorch('a project with nested groups and a repeat x3: the same keys (stage.2.block.fc.weight) and outputs', async () => {
    const project = groupedProject();
    await expectModelPyMatches('grouped', project, join(tmp, 'grouped.netloom'));
  }, 240_000);
});

/** Imports the exported train.py and writes its load_data() splits: features float32, labels int64, for comparing. */
const LOAD_DATA = String.raw`
import sys
sys.path.insert(0, sys.argv[1])
import train
for name, split in zip(('train', 'test'), train.load_data(sys.argv[2])):
    if name not in sys.argv[4].split(','):
        continue
    x, y = split.tensors
    x.numpy().astype('<f4').tofile(f'{sys.argv[3]}/{name}-x.f32')
    y.numpy().astype('<i8').tofile(f'{sys.argv[3]}/{name}-y.i64')
`;

describe('train.py reads the data Netloom trains on', () => {
  itTorch('a CSV: the same held-out rows (Netloom\'s stratified split), class indices and standardised features, bit for bit', async () => {
    const { project, file } = readTemplate('iris-mlp');
    const run = await TrainingRun.create(project, file, { threads: 2 });
    try {
      const ds = run.job.dataset;
      if (ds.kind !== 'tabular') throw new Error('iris-mlp should be a CSV project');
      const dir = join(tmp, 'iris-data');
      writeFolder(dir, exportPytorchCode(exportInput(run, project)));
      // the project's CSV path (../samples/iris.csv) is taken inside --data, here the templates' folder
      const r = python(['-c', LOAD_DATA, dir, TEMPLATES, dir, 'train,test']);
      if (r.code !== 0) throw new Error(r.err);
      for (const [name, split] of [['train', ds.train], ['test', ds.test]] as const) {
        const x = new Float32Array(new Uint8Array(readFileSync(join(dir, `${name}-x.f32`))).buffer);
        const y = new BigInt64Array(new Uint8Array(readFileSync(join(dir, `${name}-y.i64`))).buffer);
        expect(y.length, `${name} rows`).toBe(split.count);
        expect(Array.from(y, Number), `${name} labels`).toEqual(Array.from(split.y as Uint8Array));
        expect(Buffer.from(x.buffer).equals(Buffer.from(split.x.buffer, split.x.byteOffset, split.x.byteLength)), `${name} features bit for bit`).toBe(true);
      }
    } finally {
      await run.close();
    }
  });

  itTorch('a regression CSV (semicolons, chosen features): the same random split, standardisation and float targets', async () => {
    const dir = join(tmp, 'houses');
    mkdirSync(dir, { recursive: true });
    const rng = new Rng(3);
    const rows = Array.from({ length: 53 }, (_, i) => [(50 + rng.uniform(0, 150)).toFixed(1), String(1 + (i % 5)), rng.uniform(-1, 1).toFixed(3), (rng.uniform(1, 9) * 1e5).toFixed(0)]);
    writeFileSync(join(dir, 'houses.csv'), ['area;rooms;noise;price', ...rows.map((r) => r.join(';'))].join('\n') + '\n');
    const project = ProjectSchema.parse({
      format: 'netloom-project', version: 1, name: 'Houses',
      graph: {
        nodes: [{ id: 'in', name: 'in', type: 'Input', params: { shape: [2] } }, { id: 'fc', name: 'fc', type: 'Linear', params: { out_features: 1 } }, { id: 'loss', name: 'loss', type: 'MSELoss', params: {} }],
        edges: [{ source: 'in', target: 'fc' }, { source: 'fc', target: 'loss' }],
      },
      training: { dataset: { type: 'csv', path: 'houses.csv', label: 'price', features: ['rooms', 'area'], task: 'regression', validation_fraction: 0.25 } },
    });
    const file = join(dir, 'houses.json');
    writeFileSync(file, JSON.stringify(project));
    const run = await TrainingRun.create(project, file, { threads: 2 });
    try {
      const ds = run.job.dataset;
      if (ds.kind !== 'tabular') throw new Error('a CSV project should load as tabular');
      writeFolder(dir, exportPytorchCode(exportInput(run, project)));
      const r = python(['-c', LOAD_DATA.replace("astype('<i8')", "astype('<f4')"), dir, dir, dir, 'train,test']);
      if (r.code !== 0) throw new Error(r.err);
      for (const [name, split] of [['train', ds.train], ['test', ds.test]] as const) {
        const x = readFileSync(join(dir, `${name}-x.f32`));
        const y = readFileSync(join(dir, `${name}-y.i64`));
        expect(split.count, name).toBe(name === 'test' ? 13 : 40);
        expect(x.equals(Buffer.from(split.x.buffer, split.x.byteOffset, split.x.byteLength)), `${name} features bit for bit`).toBe(true);
        expect(y.equals(Buffer.from(split.y.buffer, split.y.byteOffset, split.y.byteLength)), `${name} targets bit for bit`).toBe(true);
      }
    } finally {
      await run.close();
    }
  });

  itTorch('a built-in dataset: torchvision\'s folder layout, pixels / 255 exactly as Netloom gathers them', async () => {
    const { project, file } = readTemplate('quickstart');
    const run = await TrainingRun.create(project, file, { threads: 2 });
    try {
      const ds = run.job.dataset;
      if (ds.kind !== 'image') throw new Error('the quickstart should be an image project');
      const dir = join(tmp, 'fashion-data');
      writeFolder(dir, exportPytorchCode(exportInput(run, project)));
      const r = python(['-c', LOAD_DATA, dir, DATASETS, dir, 'test']);
      if (r.code !== 0) throw new Error(r.err);
      const x = new Float32Array(new Uint8Array(readFileSync(join(dir, 'test-x.f32'))).buffer);
      const y = new BigInt64Array(new Uint8Array(readFileSync(join(dir, 'test-y.i64'))).buffer);
      expect(y.length).toBe(ds.test.count);
      expect(Array.from(y, Number)).toEqual(Array.from(ds.test.labels));
      // the native gather divides in float32 (pixel / 255.f); so does ToTensor
      const want = Float32Array.from(ds.test.images, (v) => Math.fround(v / 255));
      expect(Buffer.from(x.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    } finally {
      await run.close();
    }
  });
});

/**
 * A graph with the layers the templates leave out, in every way a name can be awkward: "0" and "class" (no
 * attribute names), "eval" and "parameters" (nn.Module's own), "wrap.forward" nested, a numbered run that is no
 * chain, a Sequential with indices 1, 2, 3, a skip joined by Concat, a Reshape. ("training" cannot be a
 * module in PyTorch at all: the export refuses it, see test/unit/export-pytorch.test.ts.)
 */
function layerZoo(): ProjectDoc {
  const chain: Array<[string, string, Record<string, unknown>?]> = [
    ['input', 'Input', { shape: [2, 8, 8] }], ['0', 'Conv2d', { out_channels: 4, kernel_size: 3, padding: 1 }], ['class', 'BatchNorm2d', { momentum: null }],
    ['eval', 'LeakyReLU', { negative_slope: 0.2 }], ['up', 'ConvTranspose2d', { out_channels: 2, kernel_size: 3, stride: 2, padding: 1, output_padding: 1 }],
    ['pool.0', 'AvgPool2d', { kernel_size: 2, count_include_pad: false }], ['pool.1', 'ELU', { alpha: 0.5 }], ['parameters', 'Flatten'],
    ['wrap.forward', 'Linear', { out_features: 16 }], ['wrap.norm', 'LayerNorm', { eps: 1e-3 }], ['wrap.act', 'GELU', { approximate: 'tanh' }],
    ['cat', 'Concat'], ['view', 'Reshape', { shape: [2, 16] }], ['conv1d', 'Conv1d', { out_channels: 4, kernel_size: 3, dilation: 2 }],
    ['bn1d', 'BatchNorm1d'], ['drop', 'Dropout', { p: 0.3 }], ['flat2', 'Flatten'], ['id', 'Identity'], ['head', 'Linear', { out_features: 5 }],
    ['lsm', 'LogSoftmax', { dim: -1 }], ['loss', 'NLLLoss'],
  ];
  const side: Array<[string, string, Record<string, unknown>?]> = [['seq.1', 'Linear', { out_features: 16, bias: false }], ['seq.2', 'SiLU'], ['seq.3', 'Softmax']];
  const nodes = [...chain, ...side].map(([name, type, params]) => ({ id: name, name, type, params: params ?? {} }));
  const edges = chain.slice(1).map(([name], i) => ({ source: chain[i][0], target: name, ...(name === 'cat' ? { targetHandle: 'in0' } : {}) }));
  edges.push({ source: 'parameters', target: 'seq.1' }, { source: 'seq.1', target: 'seq.2' }, { source: 'seq.2', target: 'seq.3' }, { source: 'seq.3', target: 'cat', targetHandle: 'in1' });
  return ProjectSchema.parse({ format: 'netloom-project', version: 1, name: 'Layer zoo', graph: { nodes, edges } });
}

describe('the layers no template uses', () => {
  itTorch('awkward names and the remaining layers: strict load, eval outputs within 1e-5 of Netloom\'s', async () => {
    const project = layerZoo();
    const n = 16;
    const analysis = analyzeForTraining(project.graph, 'zoo', { batchSize: n });
    const program = compileGraph(analysis, { batchSize: n, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
    const session = new Session(program, 2);
    try {
      const rng = new Rng(7);
      const values = (count: number, lo: number, hi: number) => Float32Array.from({ length: count }, () => rng.uniform(lo, hi));
      for (const p of program.params) {
        const count = p.shape.reduce((a, b) => a * b, 1);
        // every tensor away from its initial value: running variances positive, a count of batches
        const data = p.key.endsWith('num_batches_tracked') ? Float32Array.of(3) : p.key.endsWith('running_var') ? values(count, 0.5, 1.5) : values(count, -0.6, 0.6);
        session.setParam(p.key, data);
      }
      const dir = join(tmp, 'zoo');
      const state = program.params.map((p) => ({ key: p.key, shape: [...p.shape], kind: p.learnable ? ('param' as const) : ('buffer' as const), dtype: p.dtype }));
      writeFolder(dir, exportPytorchCode({ project, analysis, state }));
      const weights = join(dir, WEIGHTS_FILE);
      await saveCheckpoint(weights, session);

      const x = values(n * 128, -1, 1);
      session.native.setBuffer(program.io.input, x);
      session.native.setBuffer(program.io.labels, new Int32Array(n));
      session.native.runStep(n, false);
      const ours = session.native.getBuffer(program.io.logits, n) as Float32Array;
      const xfile = join(dir, 'x.f32');
      writeFileSync(xfile, x);
      const outFile = join(dir, 'y.f32');
      const r = python(['-c', HARNESS, dir, 'LayerZooModel', weights, xfile, String(n), outFile, '[2, 8, 8]']);
      if (r.code !== 0) throw new Error(`PyTorch could not run the exported model.py:\n${r.err}\n${readFileSync(join(dir, 'model.py'), 'utf8')}`);
      const info = JSON.parse(r.out) as { state_dict: string[] };
      expect([...info.state_dict].sort()).toEqual(state.map((e) => e.key).sort());
      expect(info.state_dict).toContain('0.weight');
      expect(info.state_dict).toContain('class.running_var');
      expect(info.state_dict).toContain('wrap.forward.weight');
      const theirs = new Float32Array(new Uint8Array(readFileSync(outFile)).buffer);
      expect(theirs.length).toBe(ours.length);
      let worst = 0;
      ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - theirs[i]))));
      expect(worst, 'largest |Netloom - PyTorch|').toBeLessThanOrEqual(1e-5);
    } finally {
      session.close();
    }
  }, 120_000);
});

/**
 * For each exported folder: train.py's make_optimizer() and make_scheduler() on its model, stepped through a
 * run of EPOCHS x STEPS; prints the lr after each scheduler step, the optimizer's hyper-parameters, and whether
 * the saved scheduler state is plain data that a fresh scheduler resumes from.
 */
const OPTIM_CHECK = String.raw`
import importlib, io, json, pickle, sys, torch
out = {}
for folder in sys.argv[1:]:
    sys.path.insert(0, folder)
    for name in ('model', 'train'):
        sys.modules.pop(name, None)
    train = importlib.import_module('train')
    sys.path.pop(0)
    torch.manual_seed(0)
    model = train.Model()
    optimizer = train.make_optimizer(train.model_parameters(model), train.LEARNING_RATE)
    # before the scheduler: OneCycleLR sets the momentum (Adam's beta1) it cycles
    group = {k: v for k, v in optimizer.param_groups[0].items() if k not in ('params', 'lr')}
    scheduler = train.make_scheduler(optimizer, 4, 3)
    if scheduler is None:
        out[folder] = {'lrs': [optimizer.param_groups[0]['lr']], 'plain': True, 'resumed_tail': [], 'group': group, 'interval': train.SCHEDULER_INTERVAL}
        continue
    n = 3 if train.SCHEDULER_INTERVAL == 'epoch' else 12
    lrs = [optimizer.param_groups[0]['lr']]
    state_mid = None
    for k in range(n):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]['lr'])
        if k == n // 2:
            state_mid = train.scheduler_state(scheduler)
            optimizer_mid = optimizer.state_dict()
    data = pickle.dumps(state_mid)
    plain = b'torch' not in data and b'collections' not in data
    # as train.py's --resume: optimizer and scheduler made, then their states loaded
    resumed_optimizer = train.make_optimizer(train.model_parameters(train.Model()), train.LEARNING_RATE)
    resumed = train.make_scheduler(resumed_optimizer, 4, 3)
    resumed_optimizer.load_state_dict(optimizer_mid)
    train.load_scheduler_state(resumed, pickle.loads(data))
    tail = []
    for k in range(n // 2 + 1, n):
        resumed_optimizer.step()
        resumed.step()
        tail.append(resumed_optimizer.param_groups[0]['lr'])
    out[folder] = {'lrs': lrs, 'plain': plain, 'resumed_tail': tail, 'group': group, 'interval': train.SCHEDULER_INTERVAL}
print(json.dumps(out))
`;

describe('train.py\'s optimizer and scheduler are the project\'s', () => {
  const configs: Array<[name: string, optimizer: Record<string, unknown>, scheduler: Record<string, unknown> | null]> = [
    ['sgd-step', { type: 'SGD', lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 5e-4 }, { type: 'StepLR', step_size: 1, gamma: 0.5 }],
    ['adam-onecycle', { type: 'Adam', lr: 0.01, amsgrad: true, betas: [0.8, 0.99] }, { type: 'OneCycleLR', max_lr: 0.05 }],
    ['adamw-cosine', { type: 'AdamW', lr: 0.002 }, { type: 'CosineAnnealingLR', T_max: 3, eta_min: 1e-5 }],
    ['rmsprop-multistep', { type: 'RMSprop', lr: 0.01, momentum: 0.5, centered: true }, { type: 'MultiStepLR', milestones: [1, 2], gamma: 0.3 }],
    ['adagrad-sequential', { type: 'Adagrad', lr: 0.05, lr_decay: 0.01 }, { type: 'SequentialLR', interval: 'step', milestones: [2], schedulers: [{ type: 'LinearLR', total_iters: 2 }, { type: 'ExponentialLR', gamma: 0.9 }] }],
    ['sgd-sequential-onecycle', { type: 'SGD', lr: 0.1, momentum: 0.9 }, { type: 'SequentialLR', interval: 'step', milestones: [4], schedulers: [{ type: 'LinearLR', total_iters: 4 }, { type: 'OneCycleLR', max_lr: 0.2, three_phase: true }] }],
    ['adam-constant', { type: 'Adam', lr: 0.003, weight_decay: 0.1 }, null],
  ];

  itTorch('every optimizer with its hyper-parameters; every scheduler\'s lr sequence equals Netloom\'s, and resumes from its saved state', () => {
    const { project: iris } = readTemplate('iris-mlp');
    const folders = configs.map(([name, optimizer, scheduler]) => {
      const p = ProjectSchema.parse({ ...iris, training: { ...iris.training, epochs: 3, optimizer, scheduler } });
      const analysis = analyzeForTrainingOf(p);
      const dir = join(tmp, `optim-${name}`);
      writeFolder(dir, exportPytorchCode({ project: p, analysis, state: stateOf(analysis) }));
      return { dir, p };
    });
    const r = python(['-c', OPTIM_CHECK, ...folders.map((f) => f.dir)]);
    if (r.code !== 0) throw new Error(r.err);
    const got = JSON.parse(r.out) as Record<string, { lrs: number[]; plain: boolean; resumed_tail: number[]; group: Record<string, unknown>; interval: string | null }>;
    for (const { dir, p } of folders) {
      const t = p.training;
      const g = got[dir];
      // every hyper-parameter the project sets (or leaves to torch's default) is the optimizer's
      for (const [k, v] of Object.entries(t.optimizer)) if (k !== 'type' && k !== 'lr') expect(g.group[k], `${dir}: ${k}`).toEqual(v);
      if (t.optimizer.type === 'AdamW' && !('weight_decay' in t.optimizer)) expect(g.group.weight_decay).toBe(0.01);
      if (!t.scheduler) {
        expect([g.lrs, g.interval]).toEqual([[t.optimizer.lr], null]);
        continue;
      }
      expect(g.interval).toBe(t.scheduler.interval);
      const { scheduler } = validateScheduler(t.scheduler, { epochs: 3, stepsPerEpoch: 4, optimizer: t.optimizer.type });
      const ours = lrSchedule(scheduler, t.optimizer.lr, baseMomentum(t.optimizer));
      g.lrs.forEach((lr, k) => expect(Math.abs(lr - ours.lrAt(k)), `${dir}: lr after ${k} scheduler steps`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(lr))));
      expect(g.plain, `${dir}: the saved scheduler state is plain data`).toBe(true);
      expect(g.resumed_tail, `${dir}: a scheduler restored mid-run goes on as the original`).toEqual(g.lrs.slice(g.lrs.length - g.resumed_tail.length));
    }
  }, 120_000);
});

/** The quickstart's "Accuracy: 9.0%" lines, in order. */
const accuracies = (text: string) => [...text.matchAll(/Accuracy: ([\d.]+)%/g)].map((m) => m[1]);

/** Checks a layout-2 checkpoint in Python: its keys, model_state_dict's keys and shapes, the optimizer's param groups. */
const CHECKPOINT_INFO = String.raw`
import json, sys, torch
c = torch.load(sys.argv[1], map_location='cpu')
print(json.dumps({'keys': list(c), 'epoch': c['epoch'], 'batch': c['batch'],
                  'model': {k: list(v.shape) for k, v in c['model_state_dict'].items()},
                  'dtypes': {k: str(v.dtype) for k, v in c['model_state_dict'].items()},
                  'params': c['optimizer_state_dict']['param_groups'][0]['params']}))
`;

describe('train.py', () => {
  itTorch('torchrun --nproc_per_node=2 (gloo, CPU) trains the quickstart, prints the test accuracy and saves Netloom\'s keys', async () => {
    const { project, file } = readTemplate('quickstart');
    const run = await TrainingRun.create(project, file, { limitTest: 500, threads: 2 });
    const input = exportInput(run, project);
    await run.close();
    const dir = join(tmp, 'ddp');
    writeFolder(dir, exportPytorchCode(input));
    // --redirects 2 --tee 2: Debian's torch 1.13 on Python 3.11 reads torchrun's default "0" as None and stops
    // (see the exported README); with them stderr is teed, stdout stays as train.py prints it
    const r = spawnSync(TORCHRUN, ['--redirects', '2', '--tee', '2', '--nproc_per_node=2', 'train.py', '--epochs', '1', '--limit-train', '2000', '--limit-test', '500', '--data', DATASETS],
      { cwd: dir, encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`torchrun failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const printed = accuracies(r.stdout);
    expect(printed, r.stdout).toHaveLength(1); // rank 0 alone prints
    expect(r.stdout).toMatch(/loss: \d+\.\d{6} {2}\[ {2}128\/ 2000\]/);
    expect(r.stdout.trimEnd().endsWith('Done!')).toBe(true);

    const last = join(dir, 'checkpoints', 'last.pt');
    const c = python(['-c', CHECKPOINT_INFO, last]);
    if (c.code !== 0) throw new Error(c.err);
    const info = JSON.parse(c.out) as { keys: string[]; epoch: number; batch: number; model: Record<string, number[]>; dtypes: Record<string, string>; params: number[] };
    expect(info.keys).toEqual(['model_state_dict', 'optimizer_state_dict', 'epoch', 'batch', 'step']);
    expect([info.epoch, info.batch]).toEqual([1, 0]);
    expect(info.model).toEqual(Object.fromEntries(input.state.map((e) => [e.key, [...e.shape]])));
    expect(info.params).toEqual(input.state.filter((e) => e.kind === 'param').map((_, i) => i));

    const evaluated = await TrainingRun.create(project, file, { limitTest: 500, threads: 2, weights: last });
    try {
      const report = await evaluated.test();
      expect((100 * report.accuracy).toFixed(1)).toBe(printed[0]);
    } finally {
      await evaluated.close();
    }
  }, 360_000);

  itTorch('--resume from its own epoch-1 checkpoint continues with epoch 2 as an uninterrupted run does', async () => {
    // LeNet-5: shuffled batches, Adam and a OneCycleLR stepped every batch: all of it must be restored
    const { project, file } = readTemplate('lenet5');
    const run = await TrainingRun.create(project, file, { limitTest: 100, threads: 2 });
    const input = exportInput(run, project);
    await run.close();
    const dir = join(tmp, 'resume');
    writeFolder(dir, exportPytorchCode(input));
    const common = ['train.py', '--epochs', '2', '--limit-train', '640', '--limit-test', '200', '--data', DATASETS];
    const full = python([...common, '--checkpoint-dir', 'full'], dir);
    if (full.code !== 0) throw new Error(full.err);
    const resumed = python([...common, '--checkpoint-dir', 'resumed', '--resume', join('full', 'epoch_1.pt')], dir);
    if (resumed.code !== 0) throw new Error(resumed.err);
    const epoch2 = (text: string) => text.slice(text.indexOf('Epoch 2'));
    expect(resumed.out).toMatch(/^Resuming from full.epoch_1\.pt: 1 epoch\(s\) done\nEpoch 2\n/);
    expect(epoch2(resumed.out)).toBe(epoch2(full.out));
    expect(resumed.out).not.toContain('Epoch 1\n');

    // and the final weights agree bit for bit
    const same = python(['-c', String.raw`
import sys, torch
a, b = (torch.load(p, map_location='cpu') for p in sys.argv[1:3])
assert a['epoch'] == b['epoch'] == 2 and a['step'] == b['step'], (a['epoch'], b['epoch'], a['step'], b['step'])
assert all(torch.equal(a['model_state_dict'][k], b['model_state_dict'][k]) for k in a['model_state_dict'])
assert a['scheduler_state_dict']['last_epoch'] == b['scheduler_state_dict']['last_epoch']
print('same')`, join(dir, 'full', 'last.pt'), join(dir, 'resumed', 'last.pt')]);
    expect(same.out.trim(), same.err).toBe('same');
  }, 240_000);

  itTorch('a checkpoint saved mid-epoch (batch > 0) resumes after the batches it had done when the order is fixed', async () => {
    const { project, file } = readTemplate('quickstart'); // shuffle off
    const run = await TrainingRun.create(project, file, { limitTest: 100, threads: 2 });
    const input = exportInput(run, project);
    await run.close();
    const dir = join(tmp, 'mid-epoch');
    writeFolder(dir, exportPytorchCode(input));
    // 640 samples: 10 batches an epoch
    const common = ['train.py', '--epochs', '2', '--limit-train', '640', '--limit-test', '64', '--data', DATASETS];
    expect(python([...common, '--epochs', '1'], dir).code).toBe(0);
    const made = python(['-c', String.raw`
import torch
c = torch.load('checkpoints/epoch_1.pt')
for done in (4, 10):
    c['batch'] = done
    torch.save(c, f'done{done}.pt')`], dir);
    expect(made.code, made.err).toBe(0);
    const steps = (f: string) => python(['-c', `import torch; c = torch.load('${f}'); print(c['epoch'], c['batch'], c['step'])`], dir).out.trim();
    const resumed = python([...common, '--resume', 'done4.pt', '--checkpoint-dir', 'after4'], dir);
    expect(resumed.out, resumed.err).toContain('Resuming from done4.pt: 1 epoch(s) done, 4 batches into the next');
    expect(steps('after4/last.pt')).toBe('2 0 16'); // 10 steps of epoch 1 and the 6 batches left of epoch 2
    expect(python([...common, '--resume', 'done10.pt', '--checkpoint-dir', 'after10'], dir).code).toBe(0);
    expect(steps('after10/last.pt')).toBe('2 0 10');
    const same = python(['-c', String.raw`
import torch
a, b = torch.load('checkpoints/epoch_1.pt'), torch.load('after10/last.pt')
print(all(torch.equal(a['model_state_dict'][k], b['model_state_dict'][k]) for k in a['model_state_dict']))`], dir);
    expect(same.out.trim(), 'nothing left to train in epoch 2: the weights are epoch 1\'s').toBe('True');
  }, 240_000);

  itTorch('refuses to resume mid-epoch when the batches are shuffled, and a file that is no resumable checkpoint', async () => {
    const { project, file } = readTemplate('lenet5');
    const run = await TrainingRun.create(project, file, { limitTest: 100, threads: 2 });
    const input = exportInput(run, project);
    await run.close();
    const dir = join(tmp, 'refuse');
    writeFolder(dir, exportPytorchCode(input));
    const common = ['train.py', '--epochs', '1', '--limit-train', '128', '--limit-test', '64', '--data', DATASETS];
    expect(python(common, dir).code).toBe(0);
    const made = python(['-c', String.raw`
import torch
c = torch.load('checkpoints/last.pt')
c['batch'] = 1
torch.save(c, 'mid.pt')
torch.save(c['model_state_dict'], 'plain.pt')`], dir);
    expect(made.code, made.err).toBe(0);
    const mid = python([...common, '--resume', 'mid.pt'], dir);
    expect(mid.code).toBe(1);
    expect(mid.err).toContain('mid.pt was saved 1 batches into epoch 2: resuming mid-epoch needs the same batches in the same order');
    const plain = python([...common, '--resume', 'plain.pt'], dir);
    expect(plain.code).toBe(1);
    expect(plain.err).toContain('plain.pt is not a resumable checkpoint: it has no model_state_dict, optimizer_state_dict, epoch');
  }, 240_000);
});
