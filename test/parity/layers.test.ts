/**
 * PyTorch parity per layer, per optimizer and per LR scheduler (STYLE.md item 6, "PyTorch is the
 * oracle"; tinygrad helper_test_op style: one helper, one line per case).
 *
 * Golden files: test/parity/golden_layers/, written by PyTorch 1.13. Regenerate with
 *     /usr/bin/python3 test/parity/gen_golden_layers.py
 * (its docstring describes the layout). Every case stores its Netloom graph document in the
 * manifest, so this file compiles exactly what PyTorch ran. These tests need no Python.
 *
 * Layers: forward (loss and the loss's input = io.logits), d loss / d input (compiled with
 * inputGrad), every parameter gradient, buffers after the train-mode step (BatchNorm running stats,
 * num_batches_tracked) and the eval-mode forward. Optimizers and schedulers: 10 steps on 10 fixed
 * batches, then every parameter, buffer and optimizer state tensor, the per-step losses and lrs.
 * Dropout: Netloom's masks reproduced bit-exactly in Python (gen_golden_layers.py dropout_mask),
 * plus the statistics (fraction dropped, 1/(1-p) scaling, identity in eval) checked here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { Session } from '../../engine/runtime/session.js';
import type { SchedulerInput } from '../../engine/contract/schedulers.js';
import { lrSchedule } from '../../engine/train/schedules.js';
import { compileFor, expectKeys, openSession, parityChecks, readGolden, tensor as goldenTensor, type GoldenTensor, type Tol, type Typed } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GOLDEN = path.join(HERE, 'golden_layers');
const REGEN = 'regenerate with /usr/bin/python3 test/parity/gen_golden_layers.py';
const THREADS = 2;

// ---------------------------------------------------------------------------------------------
// Golden files (same safetensors layout as golden/, see gen_golden.py)

interface LayerCase {
  graph: GraphDoc;
  batch: number;
  seed: number;
  keys: string[];
  learnable: string[];
  eval: boolean;
  /** per tensor: max|torch f32 - torch f64| / max|f64|, torch's own rounding error */
  err64: Record<string, number>;
}
interface OptRun {
  optimizer: Record<string, unknown>;
  clip_grad_norm: number | null;
  scheduler: SchedulerInput | null;
  /** torch's optimizer.state names per parameter */
  states: Record<string, string[]>;
  /** per tensor (losses, param/<key>, state/<key>/<name>): max|torch f32 - torch f64| / max|f64| after the run */
  err64: Record<string, number>;
}
interface Manifest {
  files: { layers: string; optim: string };
  cases: Record<string, LayerCase>;
  optim: { graph: GraphDoc; batch: number; steps: number; epoch_steps: number; keys: string[]; learnable: string[]; runs: Record<string, OptRun> };
}

const manifest = JSON.parse(readFileSync(path.join(GOLDEN, 'manifest.json'), 'utf8')) as Manifest;

const layersGolden = readGolden(GOLDEN, manifest.files.layers);
const optimGolden = readGolden(GOLDEN, manifest.files.optim);
const tensor = (g: Map<string, GoldenTensor>, name: string) => goldenTensor(g, name, REGEN);

// ---------------------------------------------------------------------------------------------
// Comparison

/**
 * Forward values and gradients. torch's own float32 error against float64 on these cases is at most
 * ~1e-6 of the tensor scale (manifest err64; worst: softmax/BatchNorm input gradients); a different
 * summation order may double that, so atol = 2e-6 x scale (or 4 x err64 where torch's own error is
 * larger), rtol 1e-5.
 */
const FWD: Tol = { rtol: 1e-5, atol: 2e-6 };
/**
 * After 10 optimizer steps: 1e-5 of the tensor's scale, or 4x torch's own float32-vs-float64 drift on
 * that tensor where rounding errors compound more (manifest err64; seen up to 2.6e-5 for RMSprop
 * momentum buffers, whose 1/sqrt(square_avg) amplifies the gradients' rounding error).
 */
const OPT: Tol = { rtol: 1e-5, atol: 1e-5 };

const { expectClose: expectCloseAt } = parityChecks('layer parity');
const expectClose = (what: string, kind: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol) =>
  expectCloseAt(what, kind, got, want, tol, { lengthHint: `${REGEN} if the graph changed` });

const floats = (a: Typed) => (a instanceof Float32Array ? a : Float32Array.from(a));
const runStep = (s: Session, rows: number, train: boolean, update?: boolean, lr?: number) => s.native.runStep(rows, train, update, lr);

// ---------------------------------------------------------------------------------------------
// 1. Per-layer parity

/**
 * The one helper (helper_test_op): compiles the case's graph with inputGrad, loads torch's initial
 * state dict, runs one train-mode forward + backward (no update) and compares the loss, io.logits,
 * the input gradient, every parameter gradient and every buffer; then, for cases with BatchNorm,
 * one eval-mode forward.
 */
function helperTestLayer(name: string, threads = THREADS): void {
  const c = manifest.cases[name];
  if (!c) throw new Error(`no case ${name} in golden_layers/manifest.json: ${REGEN}`);
  const g = layersGolden;
  const at = (k: string) => tensor(g, `${name}/${k}`);
  const n = c.batch;
  const program = compileFor(c.graph, name, n, { optimizer: OptimizerSchema.parse({ type: 'SGD' }), inputGrad: true });
  expectKeys(program, c.keys, `${name}: state-dict keys`);
  expect(program.params.filter((p) => p.learnable).map((p) => p.key).sort(), `${name}: learnable keys`).toEqual([...c.learnable].sort());
  expect(program.inputGrad, `${name}: input gradient buffer`).toBeGreaterThanOrEqual(0);
  const s = openSession(program, threads, (p) => floats(at(`init/${p.key}`)), c.seed);
  s.native.setBuffer(program.io.input, at('x') as Float32Array);
  if (program.io.labels >= 0) s.native.setBuffer(program.io.labels, at('labels') as Int32Array);

  const tol = (k: string): Tol => ({ rtol: FWD.rtol, atol: Math.max(FWD.atol, 4 * (c.err64[k] ?? 0)) });
  runStep(s, n, true, false);
  expectClose(`${name} loss`, 'loss', s.native.getBuffer(program.io.loss), at('loss'), tol('loss'));
  expectClose(`${name} logits`, 'logits', s.native.getBuffer(program.io.logits, n), at('logits'), tol('logits'));
  expectClose(`${name} grad/input`, 'grad input', s.native.getBuffer(program.inputGrad, n), at('grad/input'), tol('grad/input'));
  for (const p of program.params) {
    if (p.learnable) expectClose(`${name} grad/${p.key}`, 'grad param', s.native.getBuffer(p.grad), at(`grad/${p.key}`), tol(`grad/${p.key}`));
    else if (p.dtype === 'i64') expect(Array.from(s.native.getBuffer(p.buffer)), `${name} ${p.key} after the step`).toEqual(Array.from(at(`after/${p.key}`)));
    else expectClose(`${name} after/${p.key}`, 'buffers', s.native.getBuffer(p.buffer), at(`after/${p.key}`), tol(`after/${p.key}`));
  }
  if (c.eval) {
    runStep(s, n, false);
    expectClose(`${name} eval/loss`, 'eval loss', s.native.getBuffer(program.io.loss), at('eval/loss'), tol('eval/loss'));
    expectClose(`${name} eval/logits`, 'eval logits', s.native.getBuffer(program.io.logits, n), at('eval/logits'), tol('eval/logits'));
  }
}

const CASES = Object.keys(manifest.cases);
const group = (re: RegExp) => CASES.filter((k) => re.test(k));

describe('PyTorch 1.13 parity per layer (forward, input grad, param grads, buffers, eval)', () => {
  it.each(group(/^linear/))('Linear: %s', (k) => helperTestLayer(k));
  it.each(group(/^conv2d/))('Conv2d: %s', (k) => helperTestLayer(k));
  it.each(group(/^conv1d/))('Conv1d: %s', (k) => helperTestLayer(k));
  it.each(group(/^convT/))('ConvTranspose2d: %s', (k) => helperTestLayer(k));
  it.each(group(/^(max|avg|adaptive)/))('pooling: %s', (k) => helperTestLayer(k));
  it.each(group(/^(bn|layernorm)/))('normalization: %s', (k) => helperTestLayer(k));
  it.each(group(/^(relu|leakyrelu|elu|gelu|silu|sigmoid|tanh|softmax|logsoftmax)/))('activation: %s', (k) => helperTestLayer(k));
  it.each(group(/^(flatten|reshape|identity|add|concat)/))('structure: %s', (k) => helperTestLayer(k));
  it.each(group(/^(ce|nll|mse|l1|smoothl1|bcewithlogits)/))('loss: %s', (k) => helperTestLayer(k));
  it.each(group(/^dropout/))('Dropout with Netloom masks (bit-exact Python port of the hash): %s', (k) => helperTestLayer(k));
  it('every case is run by one of the groups above', () => {
    const covered = /^(linear|conv2d|conv1d|convT|max|avg|adaptive|bn|layernorm|relu|leakyrelu|elu|gelu|silu|sigmoid|tanh|softmax|logsoftmax|flatten|reshape|identity|add|concat|ce|nll|mse|l1|smoothl1|bcewithlogits|dropout)/;
    expect(CASES.filter((k) => !covered.test(k))).toEqual([]);
  });
  it('a conv case and a BatchNorm case give the same numbers with 1 and 5 threads', () => {
    helperTestLayer('conv2d_groups2', 1);
    helperTestLayer('conv2d_groups2', 5);
    helperTestLayer('bn2d_momentum_none', 1);
    helperTestLayer('bn2d_momentum_none', 5);
  });
});

// ---------------------------------------------------------------------------------------------
// Dropout statistics (torch's Bernoulli stream is not reproduced, only its distribution)

function dropoutSession(p: number, features: number, rows: number, threads = THREADS) {
  const graph: GraphDoc = {
    nodes: [
      { id: 'in', type: 'Input', name: 'input', params: { shape: [features] } },
      { id: 'd', type: 'Dropout', name: 'drop', params: { p } },
      { id: 'l', type: 'CrossEntropyLoss', name: 'loss_fn', params: {} },
    ],
    edges: [{ source: 'in', target: 'd' }, { source: 'd', target: 'l' }],
  };
  const program = compileGraph(analyzeForTraining(graph, 'dropout'), { batchSize: rows, optimizer: OptimizerSchema.parse({ type: 'SGD' }), inputGrad: true });
  const s = new Session(program, threads);
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) x[i] = 1 + (i % 7) * 0.25;
  s.native.setBuffer(program.io.input, x);
  s.native.setBuffer(program.io.labels, new Int32Array(rows));
  return { s, program, x };
}

describe('Dropout: statistics in train mode, identity in eval mode', () => {
  it.each([0.1, 0.25, 0.5, 0.9])('p=%s: fraction dropped within 5 sigma, survivors scaled by exactly 1/(1-p), grad uses the same mask', (p) => {
    const rows = 4;
    const features = 5000;
    const { s, program, x } = dropoutSession(p, features, rows);
    s.native.seed = 42;
    runStep(s, rows, true, false);
    const y = s.native.getBuffer(program.io.logits, rows);
    const dx = s.native.getBuffer(program.inputGrad, rows);
    const scale = Math.fround(1 / Math.fround(1 - Math.fround(p)));
    let dropped = 0;
    for (let i = 0; i < y.length; i++) {
      if (y[i] === 0) {
        dropped++;
        expect(dx[i] === 0, `grad of dropped element ${i}`).toBe(true);
      } else {
        expect(y[i]).toBe(Math.fround(x[i] * scale));
      }
    }
    const N = y.length;
    const sigma = Math.sqrt((p * (1 - p)) / N);
    expect(Math.abs(dropped / N - p), `dropped ${dropped} of ${N}`).toBeLessThan(5 * sigma);
    // the mask is a function of (seed, node, steps counter): update=false left the counter at 0, so
    // the next step draws the same mask; the one after (counter 1) a different one
    expect(s.native.steps).toBe(0);
    runStep(s, rows, true, true);
    expect(Array.from(s.native.getBuffer(program.io.logits, rows))).toEqual(Array.from(y));
    runStep(s, rows, true, true);
    expect(s.native.steps).toBe(2);
    const y2 = s.native.getBuffer(program.io.logits, rows);
    let same = 0;
    for (let i = 0; i < N; i++) if ((y[i] === 0) === (y2[i] === 0)) same++;
    expect(same / N).toBeLessThan(1 - 0.5 * 2 * p * (1 - p));
    runStep(s, rows, false);
    expect(Array.from(s.native.getBuffer(program.io.logits, rows))).toEqual(Array.from(x));
  });
  it('p=0 keeps everything, p=1 drops everything (no 1/0), and the mask does not depend on the thread count', () => {
    for (const p of [0, 1]) {
      const { s, program, x } = dropoutSession(p, 100, 3);
      runStep(s, 3, true, false);
      const y = Array.from(s.native.getBuffer(program.io.logits, 3));
      expect(y).toEqual(p === 0 ? Array.from(x) : new Array(300).fill(0));
    }
    const a = dropoutSession(0.4, 1000, 3, 1);
    const b = dropoutSession(0.4, 1000, 3, 7);
    a.s.native.seed = b.s.native.seed = 7;
    runStep(a.s, 3, true, false);
    runStep(b.s, 3, true, false);
    expect(Array.from(b.s.native.getBuffer(b.program.io.logits, 3))).toEqual(Array.from(a.s.native.getBuffer(a.program.io.logits, 3)));
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Optimizers, clip_grad_norm and LR schedulers: 10 steps on 10 fixed batches

function helperTestOptim(run: string): void {
  const m = manifest.optim;
  const r = m.runs[run];
  const g = optimGolden;
  const optimizer = OptimizerSchema.parse(r.optimizer);
  const n = m.batch;
  const program = compileFor(m.graph, run, n, { optimizer, clipGradNorm: r.clip_grad_norm });
  expectKeys(program, m.keys);
  const s = openSession(program, THREADS, (p) => floats(tensor(g, `opt/init/${p.key}`)));
  const xs = tensor(g, 'opt/x') as Float32Array;
  const ys = tensor(g, 'opt/labels') as Int32Array;
  const per = xs.length / m.steps;
  const sched = r.scheduler ? lrSchedule(r.scheduler, optimizer.lr) : undefined;
  const wantLrs = tensor(g, `${run}/lrs`);
  const losses: number[] = [];
  for (let k = 0; k < m.steps; k++) {
    s.native.setBuffer(program.io.input, xs.subarray(k * per, (k + 1) * per));
    s.native.setBuffer(program.io.labels, ys.subarray(k * n, (k + 1) * n));
    const lr = sched ? sched.lrFor(Math.floor(k / m.epoch_steps), k % m.epoch_steps, m.epoch_steps) : optimizer.lr;
    expect(Math.abs(lr - wantLrs[k]), `${run}: lr of step ${k} is ${lr}, torch ${wantLrs[k]}`).toBeLessThanOrEqual(1e-12 * Math.abs(wantLrs[k]));
    runStep(s, n, true, true, sched ? lr : undefined);
    losses.push(s.native.getBuffer(program.io.loss)[0]);
  }
  expect(s.native.steps).toBe(m.steps);
  const tol = (k: string): Tol => ({ rtol: OPT.rtol, atol: Math.max(OPT.atol, 4 * (r.err64[k] ?? 0)) });
  expectClose(`${run} losses`, 'opt losses', losses, tensor(g, `${run}/losses`), tol('losses'));
  for (const p of program.params) {
    const want = tensor(g, `${run}/param/${p.key}`);
    if (p.dtype === 'i64') expect(Array.from(s.native.getBuffer(p.buffer)), `${run} ${p.key}`).toEqual(Array.from(want));
    else expectClose(`${run} ${p.key} after ${m.steps} steps`, 'opt params', s.native.getBuffer(p.buffer), want, tol(`param/${p.key}`));
  }
  // every state torch keeps (momentum_buffer, exp_avg, ...) exists in Netloom and agrees
  for (const [param, names] of Object.entries(r.states)) {
    const ours = program.states.filter((st) => st.param === param);
    expect(ours.map((st) => st.key).sort(), `${run} ${param}: optimizer state names`).toEqual(expect.arrayContaining([...names].sort()));
    for (const st of ours) {
      if (!names.includes(st.key)) continue;
      expectClose(`${run} ${param} state ${st.key}`, 'opt states', s.native.getBuffer(st.buffer), tensor(g, `${run}/state/${param}/${st.key}`), tol(`state/${param}/${st.key}`));
    }
  }
}

describe('PyTorch 1.13 parity: optimizers, clip_grad_norm, LR schedulers (10 steps, params + optimizer states)', () => {
  const runs = Object.keys(manifest.optim.runs);
  it.each(runs.filter((r) => !r.startsWith('sched_') && !r.endsWith('_clip')))('%s', (r) => helperTestOptim(r));
  it.each(runs.filter((r) => r.endsWith('_clip')))('clip_grad_norm: %s', (r) => helperTestOptim(r));
  it.each(runs.filter((r) => r.startsWith('sched_')))('scheduler: %s', (r) => helperTestOptim(r));
});
