/**
 * Regression targets from a dataset (a regression CSV) through the compiler: a point loss with no
 * target edge reads the program's `targets` buffer (PROGRAM_VERSION 3 header word), widths are checked
 * with messages naming the loss node, class losses refuse regression data; the session's float
 * dataset path; regression metrics (the memory pre-check: memory.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import type { TargetSpec } from '../../engine/compile/ir.js';
import { encodeProgram, PROGRAM_VERSION } from '../../engine/compile/program.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { Session } from '../../engine/runtime/session.js';
import { regressionMetrics } from '../../engine/train/metrics.js';
import { float32Text } from '../../engine/train/run.js';

const SGD = { type: 'SGD', lr: 0.1, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false } as const;
const PRICE: TargetSpec = { width: 1, names: ['price'], source: 'houses.csv' };

/** Input [features] -> Linear(out) -> loss (optionally with a target edge from the input, for an autoencoder-like loss). */
function graph(features: number, out: number, loss: string, targetEdge = false): GraphDoc {
  return {
    nodes: [
      { id: 'input', type: 'Input', name: 'input', params: { shape: [features] } },
      { id: 'fc', type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: out } },
      { id: 'loss', type: loss, name: 'loss', params: {} },
    ],
    edges: [
      { id: 'e1', source: 'input', target: 'fc' },
      { id: 'e2', source: 'fc', target: 'loss' },
      ...(targetEdge ? [{ id: 'e3', source: 'input', target: 'loss', targetHandle: 'target' }] : []),
    ],
  };
}
const compile = (g: GraphDoc, targets?: TargetSpec, batchSize = 8) =>
  compileGraph(analyzeForTraining(g, 'test', { batchSize }), { batchSize, optimizer: SGD, targets });

describe('lowering a point loss onto dataset targets', () => {
  it.each(['MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss'])('%s with no target edge reads the targets buffer (no labels, no one-hot)', (loss) => {
    const p = compile(graph(3, 1, loss), PRICE);
    expect(p.io.targets).toBeGreaterThanOrEqual(0);
    expect(p.buffers[p.io.targets]).toMatchObject({ dtype: 'f32', batched: true, elems: 1, role: 'targets' });
    expect(p.io.labels).toBe(-1);
    expect(p.classes).toBe(0);
    expect(p.task).toBe('regression');
    expect(p.forward.map((i) => i.op)).toEqual(['linear_forward', 'point_loss_forward']);
    expect(p.forward[1].bufs[1]).toBe(p.io.targets);
    // the targets carry no gradient: only the prediction's is computed
    const back = p.backward.find((i) => i.op === 'point_loss_backward')!;
    expect(back.bufs[3]).toBe(-1);
  });

  it('several target columns: the width must match the output', () => {
    const p = compile(graph(3, 2, 'MSELoss'), { width: 2, names: ['x', 'y'], source: 'pos.csv' });
    expect(p.buffers[p.io.targets].elems).toBe(2);
  });

  it('an output width other than the targets names the loss node, both widths, the columns and the fix', () => {
    expect(() => compile(graph(3, 3, 'MSELoss'), PRICE)).toThrow(
      expect.objectContaining({
        code: 'NL_BAD_GRAPH',
        message: 'MSELoss at node loss: the model outputs 3 values per sample but houses.csv has 1 target column (price)',
        hint: expect.stringContaining('Set out_features of the last Linear layer to 1'),
      }),
    );
  });

  it('CrossEntropyLoss / NLLLoss on regression data is refused, suggesting MSELoss or the classification task', () => {
    for (const loss of ['CrossEntropyLoss', 'NLLLoss'])
      expect(() => compile(graph(3, 4, loss), PRICE)).toThrow(
        expect.objectContaining({
          code: 'NL_BAD_GRAPH',
          message: expect.stringMatching(new RegExp(`^${loss} at node loss: houses.csv is a regression dataset .*price.* needs class labels`)),
          hint: expect.stringMatching(/MSELoss.*"classification"/),
        }),
      );
  });

  it('without targets a point loss still one-hot encodes the labels (classification data), and a target edge wins over targets', () => {
    const onehot = compile(graph(3, 4, 'MSELoss'));
    expect(onehot.io.targets).toBe(-1);
    expect(onehot.io.labels).toBeGreaterThanOrEqual(0);
    expect(onehot.classes).toBe(4);
    expect(onehot.forward.map((i) => i.op)).toContain('one_hot');
    const edge = compile(graph(3, 3, 'MSELoss', true), PRICE);
    expect(edge.io.targets).toBe(-1);
    expect(edge.io.labels).toBe(-1);
    expect(edge.forward[1].bufs[1]).toBe(edge.io.input);
  });

  it('a target width below 1 is an argument error', () => {
    expect(() => compile(graph(3, 1, 'MSELoss'), { width: 0, names: [], source: 'x.csv' })).toThrow(expect.objectContaining({ code: 'NL_INVALID_ARGUMENT' }));
  });
});

describe('the v3 program header', () => {
  it('carries the targets buffer as word 15 (-1 without), and the native side accepts both', () => {
    const reg = compile(graph(3, 1, 'MSELoss'), PRICE);
    const words = encodeProgram(reg);
    expect(PROGRAM_VERSION).toBe(3);
    expect(words[1]).toBe(3);
    expect(words[15]).toBe(reg.io.targets);
    expect(encodeProgram(compile(graph(3, 4, 'CrossEntropyLoss')))[15]).toBe(-1);
    expect(() => new Session(reg, 1)).not.toThrow();
  });

  it('the native decoder refuses a targets buffer that is not float and per-sample', () => {
    const reg = compile(graph(3, 1, 'MSELoss'), PRICE);
    const weight = reg.params.find((q) => q.key === 'fc.weight')!.buffer;
    expect(() => new Session({ ...reg, io: { ...reg.io, targets: weight } }, 1)).toThrow(
      expect.objectContaining({ code: 'NL_SHAPE_MISMATCH', message: expect.stringContaining(`program header: operand 'targets' (buffer ${weight}) must be per-sample (batched)`) }),
    );
  });
});

describe('Session.setFloatDataset', () => {
  const rows = 10;
  const x = Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i));
  const y = Float32Array.from({ length: rows }, (_, i) => i / 4);

  it('a regression program reads float targets; an eval epoch returns each output row and each batch its MSE', async () => {
    const s = new Session(compile(graph(3, 1, 'MSELoss'), PRICE, 4), 1);
    s.setParam('fc.weight', new Float32Array([0.5, -0.25, 1]));
    s.setParam('fc.bias', new Float32Array([0.125]));
    s.setFloatDataset('test', x, y, rows);
    const r = await s.runEpoch('test', { count: rows, batch: 4, dropLast: false, train: false, outputs: true, losses: true });
    const want = Array.from({ length: rows }, (_, i) => 0.5 * x[3 * i] - 0.25 * x[3 * i + 1] + x[3 * i + 2] + 0.125);
    expect(r.outputs).toHaveLength(rows);
    r.outputs!.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    let mse0 = 0;
    for (let i = 0; i < 4; i++) mse0 += (want[i] - y[i]) ** 2 / 4;
    expect(r.losses![0]).toBeCloseTo(mse0, 5);
  });

  it('the wrong kind of targets is refused with a message (class labels for regression, floats for classes)', () => {
    const reg = new Session(compile(graph(3, 1, 'MSELoss'), PRICE, 4), 1);
    expect(() => reg.setFloatDataset('train', x, new Uint8Array(rows), rows)).toThrow(expect.objectContaining({ code: 'NL_INVALID_ARGUMENT', message: expect.stringContaining('regression targets') }));
    const cls = new Session(compile(graph(3, 4, 'CrossEntropyLoss'), undefined, 4), 1);
    expect(() => cls.setFloatDataset('train', x, y, rows)).toThrow(expect.objectContaining({ code: 'NL_INVALID_ARGUMENT', message: expect.stringContaining('class labels') }));
    expect(() => cls.setFloatDataset('train', x, Uint8Array.from({ length: rows }, (_, i) => i % 5), rows)).toThrow(expect.objectContaining({ code: 'NL_BAD_LABEL' }));
    expect(() => cls.setFloatDataset('train', x, Uint8Array.from({ length: rows }, (_, i) => i % 4), rows)).not.toThrow();
  });
});

describe('regression metrics', () => {
  it('MAE, RMSE and R^2 as sklearn computes them (R^2 averaged over target columns)', () => {
    const out = [1, 2, 3, 5];
    const tgt = [1, 2, 4, 3];
    const m = regressionMetrics(out, tgt, 4, 1);
    const mean = (1 + 2 + 4 + 3) / 4;
    const ssTot = tgt.reduce((a, t) => a + (t - mean) ** 2, 0);
    expect(m.mae).toBeCloseTo((0 + 0 + 1 + 2) / 4, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt((0 + 0 + 1 + 4) / 4), 12);
    expect(m.r2).toBeCloseTo(1 - 5 / ssTot, 12);
    // two columns: the second predicted perfectly (R^2 1), the first as above
    const two = regressionMetrics([1, 7, 2, 8, 3, 9, 5, 1], [1, 7, 2, 8, 4, 9, 3, 1], 4, 2);
    expect(two.r2).toBeCloseTo((1 - 5 / ssTot + 1) / 2, 12);
    expect(regressionMetrics([1, 2], [3, 3], 2, 1).r2).toBeNull(); // constant target: undefined
    expect(regressionMetrics([], [], 0, 1)).toMatchObject({ samples: 0, r2: null });
  });
});

describe('float32Text', () => {
  it('shows a float32 value as the shortest decimal that reads back as it (the CSV text)', () => {
    for (const v of [5.1, 0.2, -3.75, 123.456, 1e-7, 6.02e23, 0]) expect(float32Text(Math.fround(v))).toBe(v);
    // 1/3 needs all 8 digits: 0.3333333 would read back as another float32
    expect(float32Text(Math.fround(1 / 3))).toBe(0.33333334);
    expect(Math.fround(0.3333333)).not.toBe(Math.fround(1 / 3));
  });
});
