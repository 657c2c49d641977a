/**
 * The canvas's pure logic, without a browser: the parameter form parser against every field of
 * the real catalog, undo/redo from change lists, project <-> canvas conversion and the
 * connection rules, and the training panel's settings, run request and metric buffers.
 */
import { describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';
import type { LayerDto } from '../../engine/contract/api.js';
import { fieldSpecs, formatValue, parseText } from '../../renderer/panels/paramSchema.js';
import { applyChanges, fromGraphDto, newName, toFlowEdge, toFlowNode, toGraphDto, uniqueName, wouldCycle } from '../../renderer/state/graph.js';
import { emptyHistory, record, redo, undo } from '../../renderer/state/history.js';
import { connectionProblem } from '../../renderer/canvas/isValidConnection.js';
import { RunOverridesDto, ProjectDto } from '../../engine/contract/api.js';
import { effectiveSettings, fmtEta, runRequest, sampleToRgba } from '../../renderer/state/training.js';
import { PointBuffer, metrics } from '../../renderer/charts/useMetricSeries.js';

const catalog: LayerDto[] = await new EngineService().getCatalog({});
const byType = Object.fromEntries(catalog.map((l) => [l.type, l]));
const field = (type: string, name: string) => fieldSpecs(byType[type].paramsSchema).find((f) => f.name === name)!;

describe('parameter form from paramsSchema', () => {
  it('classifies every catalog field into a control', () => {
    for (const l of catalog)
      for (const f of fieldSpecs(l.paramsSchema)) {
        const kinds = [f.boolean, !!f.enumValues, f.consts.length > 0, f.nullable, !!f.number, !!f.pair, !!f.list].filter(Boolean).length;
        expect(kinds, `${l.type}.${f.name}`).toBeGreaterThan(0);
      }
  });

  it('round-trips every default through the text box', () => {
    for (const l of catalog)
      for (const f of fieldSpecs(l.paramsSchema)) {
        const d = f.default;
        if (d === undefined || d === null || typeof d === 'boolean' || typeof d === 'string') continue;
        const r = parseText(formatValue(d), f);
        expect(r, `${l.type}.${f.name}`).toEqual({ ok: true, value: d });
      }
  });

  it('parses int-or-pair, lists, none and bounds like PyTorch users type them', () => {
    expect(parseText('3', field('Conv2d', 'kernel_size'))).toEqual({ ok: true, value: 3 });
    expect(parseText('3, 5', field('Conv2d', 'kernel_size'))).toEqual({ ok: true, value: [3, 5] });
    expect(parseText('(2, 2)', field('MaxPool2d', 'stride'))).toEqual({ ok: true, value: [2, 2] });
    expect(parseText('1, 28, 28', field('Input', 'shape'))).toEqual({ ok: true, value: [1, 28, 28] });
    expect(parseText('7, none', field('AdaptiveAvgPool2d', 'output_size'))).toEqual({ ok: true, value: [7, null] });
    expect(parseText('0', field('Linear', 'out_features')).ok).toBe(false);
    expect(parseText('1.5', field('Linear', 'out_features')).ok).toBe(false);
    expect(parseText('abc', field('Dropout', 'p')).ok).toBe(false);
    expect(parseText('', field('Linear', 'out_features')).ok).toBe(false);
    expect(parseText('', field('Dropout', 'p'))).toEqual({ ok: true, value: undefined });
    expect(field('Linear', 'in_features').consts).toEqual(['auto']);
    expect(field('CrossEntropyLoss', 'weight').nullable).toBe(true);
  });
});

describe('undo/redo from change lists', () => {
  it('undoes and redoes an add, an edit and a delete', () => {
    const a = { id: 'a', type: 'Input', name: 'input', params: {}, position: { x: 0, y: 0 } };
    const b = { id: 'b', type: 'ReLU', name: 'relu1', params: {}, position: { x: 0, y: 100 } };
    let nodes = [toFlowNode(a)];
    let edges = [] as ReturnType<typeof toFlowEdge>[];
    let h = emptyHistory();
    const steps = [
      [{ kind: 'addNode', node: b }, { kind: 'addEdge', edge: { id: 'e', source: 'a', target: 'b', targetHandle: 'input' } }],
      [{ kind: 'updateNode', id: 'b', before: { name: 'relu1' }, after: { name: 'act' } }],
    ] as const;
    for (const c of steps) {
      ({ nodes, edges } = applyChanges(nodes, edges, c as never));
      h = record(h, { label: 'x', changes: c as never, at: 0 });
    }
    expect(nodes.map((n) => n.data.name)).toEqual(['input', 'act']);
    let u = undo(h)!;
    ({ nodes, edges } = applyChanges(nodes, edges, u.changes));
    expect(nodes[1].data.name).toBe('relu1');
    u = undo(u.history)!;
    ({ nodes, edges } = applyChanges(nodes, edges, u.changes));
    expect(nodes.length).toBe(1);
    expect(edges.length).toBe(0);
    const r = redo(u.history)!;
    ({ nodes, edges } = applyChanges(nodes, edges, r.changes));
    expect(nodes.length).toBe(2);
    expect(edges.length).toBe(1);
  });

  it('merges consecutive edits of one field into one step', () => {
    let h = emptyHistory();
    h = record(h, { label: 'p', changes: [{ kind: 'updateNode', id: 'n', before: { params: {} }, after: { params: { p: 1 } } }], mergeKey: 'k', at: 1 });
    h = record(h, { label: 'p', changes: [{ kind: 'updateNode', id: 'n', before: { params: { p: 1 } }, after: { params: { p: 12 } } }], mergeKey: 'k', at: 2 });
    expect(h.past.length).toBe(1);
    expect(undo(h)!.changes[0]).toMatchObject({ after: { params: {} } });
  });
});

describe('project <-> canvas', () => {
  it('numbers Add inputs in document order and writes only non-default handles back', () => {
    const g = {
      nodes: [
        { id: 'i', type: 'Input', name: 'input', params: {} },
        { id: 'r', type: 'ReLU', name: 'relu', params: {} },
        { id: 'add', type: 'Add', name: 'add', params: {} },
      ],
      edges: [
        { source: 'i', target: 'r' },
        { source: 'i', target: 'add' },
        { source: 'r', target: 'add' },
      ],
    };
    const { nodes, edges, hadPositions } = fromGraphDto(g, byType);
    expect(hadPositions).toBe(false);
    expect(edges.map((e) => e.targetHandle)).toEqual(['input', 'in0', 'in1']);
    const back = toGraphDto(nodes.map((n) => toFlowNode(n)), edges.map((e) => toFlowEdge(e)));
    expect(back.edges.map((e) => e.targetHandle)).toEqual([undefined, 'in0', 'in1']);
    expect(back.nodes.every((n) => n.position)).toBe(true);
  });

  it('names new and pasted layers uniquely', () => {
    expect(newName('Linear', false, new Set(['fc1']))).toBe('fc2');
    expect(newName('CrossEntropyLoss', true, new Set())).toBe('loss_fn');
    expect(uniqueName('linear_relu_stack.0', new Set(['linear_relu_stack.0', 'linear_relu_stack.1']))).toBe('linear_relu_stack.2');
    expect(uniqueName('relu', new Set(['relu']))).toBe('relu_1');
  });
});

describe('connection rules', () => {
  const s = {
    catalogByType: byType,
    nodes: [
      toFlowNode({ id: 'i', type: 'Input', name: 'input', params: {}, position: { x: 0, y: 0 } }),
      toFlowNode({ id: 'r', type: 'ReLU', name: 'relu1', params: {}, position: { x: 0, y: 0 } }),
      toFlowNode({ id: 't', type: 'Tanh', name: 'tanh1', params: {}, position: { x: 0, y: 0 } }),
      toFlowNode({ id: 'l', type: 'MSELoss', name: 'loss_fn', params: {}, position: { x: 0, y: 0 } }),
    ],
    edges: [toFlowEdge({ id: 'e1', source: 'i', target: 'r', targetHandle: 'input' }), toFlowEdge({ id: 'e2', source: 'r', target: 't', targetHandle: 'input' })],
  };
  const c = (source: string, target: string, targetHandle = 'input') => connectionProblem(s, { source, target, sourceHandle: 'out', targetHandle });
  it('refuses cycles, busy ports, inputs into Input and outputs of losses', () => {
    expect(wouldCycle(s.edges, 't', 'i')).toBe(true);
    expect(wouldCycle(s.edges, 'i', 't')).toBe(false);
    expect(c('t', 'r')).toMatch(/takes one input/);
    expect(c('r', 'i')).toMatch(/takes no inputs/);
    expect(c('l', 't')).toMatch(/loss/);
    expect(c('t', 't')).toMatch(/cycle/);
    expect(c('t', 'l')).toBeNull();
    expect(c('i', 'l', 'target')).toBeNull();
  });
  it('refuses a cycle through a free port', () => {
    const s2 = { ...s, edges: [toFlowEdge({ id: 'e2', source: 'r', target: 't', targetHandle: 'input' })] };
    expect(connectionProblem(s2, { source: 't', target: 'r', sourceHandle: 'out', targetHandle: 'input' })).toBe('That would make a cycle');
  });
});

const quickstart = await new EngineService().getTemplate({ id: 'quickstart' });

describe('training panel logic', () => {
  it("reads the project's training section and sends only run-only overrides", () => {
    const eff = effectiveSettings(quickstart.training, { limitTrain: null });
    expect(eff).toMatchObject({ dataset: 'fashion-mnist', epochs: 5, batchSize: 64, optimizer: 'sgd', lr: 1e-3, limitTrain: null });
    const training = { ...quickstart.training, dataset: 'cifar10', epochs: 1, optimizer: { type: 'Adam' } };
    expect(effectiveSettings(training, { limitTrain: 6000 })).toMatchObject({ dataset: 'cifar10', epochs: 1, optimizer: 'adam', lr: 1e-3, limitTrain: 6000 });
    const req = runRequest({ ...quickstart, training }, { limitTrain: 6000 });
    expect(req.project.training).toEqual(training); // the settings travel in the project
    expect(ProjectDto.parse(req.project).graph).toEqual(quickstart.graph);
    expect(RunOverridesDto.parse(req.overrides)).toEqual({ limitTrain: 6000, eventIntervalMs: 50 });
  });

  it('bounds the point buffers and tracks steps, EMA and epochs', () => {
    const b = new PointBuffer(100);
    for (let i = 0; i < 1000; i++) b.push(i, i);
    expect(b.length).toBeLessThanOrEqual(100);
    expect(b.points.at(-1)).toEqual({ x: 999, y: 999 });
    metrics.reset();
    const ev = (batch: number, loss: number) => ({ type: 'run.progress' as const, runId: 'r', epoch: 1, batch, batches: 10, samples: batch * 4, loss, meanLoss: loss, samplesPerSec: 1, lr: 0.1, etaSeconds: null });
    metrics.addProgress(ev(2, 2));
    metrics.addProgress(ev(2, 2)); // a repeat (after a pause) adds nothing
    metrics.addProgress(ev(5, 1));
    expect(metrics.batchLoss.points.map((p) => p.x)).toEqual([2, 5]);
    expect(metrics.batchLossEma.points[0].y).toBeCloseTo(2); // debiased
    metrics.addEpoch({ epoch: 1, trainLoss: 1.5, testLoss: 1.2, testAccuracy: 0.7 });
    expect(metrics.testLoss.points).toEqual([{ x: 10, y: 1.2 }]);
    expect(metrics.testAccuracy.points[0].y).toBeCloseTo(70);
  });

  it('lays out sample pixels and formats the ETA', () => {
    const gray = sampleToRgba(Uint8Array.from([0, 255, 10, 20]), [1, 2, 2]);
    expect([gray.width, gray.height, gray.rgba[4], gray.rgba[7]]).toEqual([2, 2, 255, 255]);
    const rgb = sampleToRgba(Uint8Array.from([1, 2, 3, 4, 5, 6]), [3, 1, 2]); // CHW
    expect([...rgb.rgba]).toEqual([1, 3, 5, 255, 2, 4, 6, 255]);
    expect([fmtEta(null), fmtEta(42), fmtEta(65)]).toEqual(['—', '42s', '1m 05s']);
  });
});
