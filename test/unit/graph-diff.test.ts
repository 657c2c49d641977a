/**
 * The graph diff (engine/graph/diff.ts) and the diffGraph API method: each layer status, renames, params compared
 * after defaults, connections, and a checkpoint compared by state-dict keys and shapes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METHODS, checkRequest } from '../../engine/contract/api.js';
import type { GraphDoc, NodeDoc } from '../../engine/graph/document.js';
import { CHECKPOINT_NOTE, diffCheckpoint, diffGraphs, type GraphDiff } from '../../engine/graph/diff.js';
import { flattenGroups } from '../../engine/graph/groups.js';
import { EngineService } from '../../engine/host/service.js';
import { saveSafetensors } from '../../engine/io/safetensors.js';
import { refusal } from '../support/rejection.js';
import { changeText, marksOf, runGraph, summaryText } from '../../renderer/state/diff';
import { makeRunRecord } from '../../renderer/state/runs';

const quickstart = (): GraphDoc => JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8')).graph;
const node = (g: GraphDoc, name: string): NodeDoc => g.nodes.find((n) => n.name === name)!;
const layer = (d: GraphDiff, name: string) => d.layers.find((l) => l.name === name)!;
const statusOf = (d: GraphDiff) => Object.fromEntries(d.layers.map((l) => [l.name, l.status]));

/** Removes a node and joins its input to its outputs, as a user deleting a middle layer and reconnecting would. */
function cut(g: GraphDoc, id: string): void {
  const src = g.edges.find((e) => e.target === id)!.source;
  g.edges = g.edges.filter((e) => e.target !== id).map((e) => (e.source === id ? { ...e, source: src } : e));
  g.nodes = g.nodes.filter((n) => n.id !== id);
}

describe('diffGraphs', () => {
  it('a graph against itself: every layer the same, no edge changes', () => {
    const d = diffGraphs(quickstart(), quickstart());
    expect(d.summary).toEqual({ added: 0, removed: 0, changed: 0, renamed: 0, same: 8 });
    expect(d.edges).toEqual({ added: [], removed: [] });
    expect(d.layers.every((l) => l.changes.length === 0 && l.nodeId !== undefined)).toBe(true);
  });

  it('a changed parameter is listed reference -> current, and what it resolves downstream too', () => {
    const cur = quickstart();
    node(cur, 'linear_relu_stack.0').params.out_features = 256;
    const d = diffGraphs(cur, quickstart());
    expect(layer(d, 'linear_relu_stack.0')).toMatchObject({ status: 'changed', nodeId: 'fc1', type: 'Linear', changes: [{ param: 'out_features', from: 512, to: 256 }] });
    // in_features "auto" resolves to the new width: the next layer's weight shape changes with it
    expect(layer(d, 'linear_relu_stack.2').changes).toEqual([{ param: 'in_features', from: 512, to: 256 }]);
    expect(d.summary).toMatchObject({ changed: 2, same: 6 });
  });

  it('compares params after defaults: written-out defaults and "auto" that resolves to the same number are no change', () => {
    const cur = quickstart();
    Object.assign(node(cur, 'linear_relu_stack.0').params, { bias: true, in_features: 784 });
    expect(diffGraphs(cur, quickstart()).summary.changed).toBe(0);
    node(cur, 'linear_relu_stack.0').params.bias = false;
    expect(layer(diffGraphs(cur, quickstart()), 'linear_relu_stack.0').changes).toEqual([{ param: 'bias', from: true, to: false }]);
  });

  it('added and removed layers, and the connections that changed with them', () => {
    const cur = quickstart();
    cut(cur, 'relu2');
    cur.nodes.push({ id: 'drop', type: 'Dropout', name: 'dropout', params: { p: 0.2 } });
    cur.edges = cur.edges.map((e) => (e.source === 'relu1' ? { ...e, source: 'drop' } : e));
    cur.edges.push({ id: 'e-drop', source: 'relu1', target: 'drop' });
    const d = diffGraphs(cur, quickstart());
    expect(statusOf(d)).toMatchObject({ dropout: 'added', 'linear_relu_stack.3': 'removed' });
    expect(layer(d, 'linear_relu_stack.3').position).toEqual({ x: 0, y: 500 }); // where its ghost goes
    expect(layer(d, 'dropout').nodeId).toBe('drop');
    expect(layer(d, 'linear_relu_stack.3').nodeId).toBeUndefined();
    expect(layer(d, 'linear_relu_stack.2').changes).toEqual([{ param: 'inputs', from: 'linear_relu_stack.1', to: 'dropout' }]);
    expect(layer(d, 'linear_relu_stack.4').changes).toEqual([{ param: 'inputs', from: 'linear_relu_stack.3', to: 'linear_relu_stack.2' }]);
    expect(d.edges.added).toEqual(expect.arrayContaining([{ source: 'linear_relu_stack.1', target: 'dropout' }, { source: 'dropout', target: 'linear_relu_stack.2' }, { source: 'linear_relu_stack.2', target: 'linear_relu_stack.4' }]));
    expect(d.edges.added).toHaveLength(3);
    expect(d.edges.removed).toEqual(expect.arrayContaining([{ source: 'linear_relu_stack.1', target: 'linear_relu_stack.2' }, { source: 'linear_relu_stack.2', target: 'linear_relu_stack.3' }, { source: 'linear_relu_stack.3', target: 'linear_relu_stack.4' }]));
    expect(d.edges.removed).toHaveLength(3);
    expect(d.summary).toEqual({ added: 1, removed: 1, changed: 2, renamed: 0, same: 5 });
  });

  it('a rename (same node id, new name) is "renamed a -> b", and its neighbours\' connections do not change', () => {
    const cur = quickstart();
    node(cur, 'linear_relu_stack.0').name = 'fc1';
    const d = diffGraphs(cur, quickstart());
    expect(layer(d, 'fc1')).toMatchObject({ status: 'renamed', baseName: 'linear_relu_stack.0', nodeId: 'fc1', changes: [] });
    expect(d.summary).toEqual({ added: 0, removed: 0, changed: 0, renamed: 1, same: 7 });
    expect(d.edges).toEqual({ added: [], removed: [] });
  });

  it('a renamed layer whose parameters changed too lists both', () => {
    const cur = quickstart();
    Object.assign(node(cur, 'linear_relu_stack.4'), { name: 'head' });
    node(cur, 'head').params.out_features = 5;
    expect(layer(diffGraphs(cur, quickstart()), 'head')).toMatchObject({ status: 'renamed', changes: [{ param: 'out_features', from: 10, to: 5 }] });
  });

  it('names match before ids: a new layer under an old name is compared with it (a state dict would load into it)', () => {
    const cur = quickstart();
    const old = node(cur, 'linear_relu_stack.4');
    old.id = 'fresh';
    old.type = 'Dropout';
    cur.edges = cur.edges.map((e) => ({ ...e, source: e.source === 'fc3' ? 'fresh' : e.source, target: e.target === 'fc3' ? 'fresh' : e.target }));
    const d = diffGraphs(cur, quickstart());
    expect(layer(d, 'linear_relu_stack.4')).toMatchObject({ status: 'changed', nodeId: 'fresh' });
    expect(layer(d, 'linear_relu_stack.4').changes[0]).toEqual({ param: 'type', from: 'Linear', to: 'Dropout' });
  });

  it('a changed port order on a multi-input layer is a connection change', () => {
    const g = (swap: boolean): GraphDoc => ({
      nodes: [
        { id: 'i', type: 'Input', name: 'input', params: { shape: [4] } },
        { id: 'a', type: 'Linear', name: 'a', params: { out_features: 3 } },
        { id: 'b', type: 'Linear', name: 'b', params: { out_features: 3 } },
        { id: 'c', type: 'Concat', name: 'cat', params: {} },
      ],
      edges: [
        { source: 'i', target: 'a' },
        { source: 'i', target: 'b' },
        { source: swap ? 'b' : 'a', target: 'c', targetHandle: 'in0' },
        { source: swap ? 'a' : 'b', target: 'c', targetHandle: 'in1' },
      ],
    });
    const d = diffGraphs(g(true), g(false));
    expect(layer(d, 'cat').changes).toEqual([{ param: 'inputs', from: 'a -> in0, b -> in1', to: 'a -> in1, b -> in0' }]);
    expect(d.edges.added).toEqual([{ source: 'b', target: 'cat', port: 'in0' }, { source: 'a', target: 'cat', port: 'in1' }]);
  });

  it('a node that does not parse is compared as written, not thrown on', () => {
    const cur = quickstart();
    node(cur, 'linear_relu_stack.0').params.out_features = -3;
    expect(layer(diffGraphs(cur, quickstart()), 'linear_relu_stack.0').changes).toContainEqual({ param: 'out_features', from: 512, to: -3 });
  });
});

describe('diffCheckpoint', () => {
  const report = {
    nodes: [
      { nodeId: 'fc1', name: 'fc1', type: 'Linear', keys: ['fc1.weight', 'fc1.bias'], missing: [], unexpected: [], mismatched: [] },
      { nodeId: 'relu', name: 'relu', type: 'ReLU', keys: [], missing: [], unexpected: [], mismatched: [] },
      { nodeId: 'fc2', name: 'fc2', type: 'Linear', keys: ['fc2.weight', 'fc2.bias'], missing: [], unexpected: [], mismatched: [{ key: 'fc2.weight', fileShape: [10, 512], modelShape: [10, 256] }] },
      { nodeId: 'new', name: 'new', type: 'Linear', keys: ['new.weight', 'new.bias'], missing: ['new.weight', 'new.bias'], unexpected: [], mismatched: [] },
      { nodeId: 'bn', name: 'bn', type: 'BatchNorm1d', keys: ['bn.weight'], missing: ['bn.weight'], unexpected: ['bn.extra'], mismatched: [] },
    ],
    unassigned: ['old.weight', 'old.bias'],
  };
  const shapes = { 'old.weight': { shape: [3, 4] }, 'old.bias': { shape: [3] }, 'bn.extra': { shape: [7] } };
  const model = new Map<string, number[]>([['bn.weight', [5]], ['new.weight', [2, 2]], ['new.bias', [2]]]);

  it('per layer with weights: same, changed (by key, file shape -> model shape), added, removed; layers without weights left out', () => {
    const d = diffCheckpoint(report, shapes, model);
    expect(d.kind).toBe('checkpoint');
    expect(statusOf(d)).toEqual({ fc1: 'same', fc2: 'changed', new: 'added', bn: 'changed', old: 'removed' });
    expect(layer(d, 'fc2').changes).toEqual([{ param: 'fc2.weight', from: [10, 512], to: [10, 256] }]);
    expect(layer(d, 'bn').changes).toEqual([{ param: 'bn.weight', from: null, to: [5] }, { param: 'bn.extra', from: [7], to: null }]);
    expect(layer(d, 'old')).toMatchObject({ type: '', changes: [{ param: 'old.weight', from: [3, 4], to: null }, { param: 'old.bias', from: [3], to: null }] });
    expect(layer(d, 'old').nodeId).toBeUndefined();
    expect(d.summary).toEqual({ added: 1, removed: 1, changed: 2, renamed: 0, same: 1 });
    expect(d.notes).toEqual([CHECKPOINT_NOTE]);
  });
});

describe('diffGraph (API)', () => {
  const service = new EngineService();
  const tmp = () => mkdtempSync(join(tmpdir(), 'netloom-diff-'));
  const valid = (r: unknown) => {
    const p = METHODS.diffGraph.result.safeParse(r);
    expect(p.success, p.success ? '' : p.error.message).toBe(true);
  };

  it('against a saved project file: the file as Open reads it', async () => {
    const project = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
    const file = join(tmp(), 'saved.netloom');
    writeFileSync(file, JSON.stringify(project));
    const cur = quickstart();
    node(cur, 'linear_relu_stack.2').params.out_features = 128;
    const d = await service.diffGraph({ graph: cur, against: { kind: 'project', path: file } });
    valid(d);
    expect(layer(d, 'linear_relu_stack.2').changes).toEqual([{ param: 'out_features', from: 512, to: 128 }]);
  });

  it('against a graph (a run\'s snapshot)', async () => {
    const cur = quickstart();
    cut(cur, 'relu1');
    const d = await service.diffGraph({ graph: cur, against: { kind: 'graph', graph: quickstart() } });
    valid(d);
    expect(d.summary.removed).toBe(1);
  });

  it('against a checkpoint of another graph: the keys and shapes that differ, per layer', async () => {
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const file = join(tmp(), 'other.safetensors');
    await saveSafetensors(file, {
      'linear_relu_stack.0.weight': t([512, 784]), 'linear_relu_stack.0.bias': t([512]),
      'linear_relu_stack.2.weight': t([256, 512]), 'linear_relu_stack.2.bias': t([256]),
      'classifier.weight': t([10, 256]), 'classifier.bias': t([10]),
    });
    const d = await service.diffGraph({ graph: quickstart(), against: { kind: 'checkpoint', path: file } });
    valid(d);
    expect(statusOf(d)).toEqual({ 'linear_relu_stack.0': 'same', 'linear_relu_stack.2': 'changed', 'linear_relu_stack.4': 'added', classifier: 'removed' });
    expect(layer(d, 'linear_relu_stack.2').changes).toEqual([
      { param: 'linear_relu_stack.2.weight', from: [256, 512], to: [512, 512] },
      { param: 'linear_relu_stack.2.bias', from: [256], to: [512] },
    ]);
  });

  it('a file that is not a project or checkpoint is refused with a hint; a bad request is refused by the contract', async () => {
    const e = await refusal(service.diffGraph({ graph: quickstart(), against: { kind: 'project', path: join(tmp(), 'x.safetensors') } }));
    expect(e.code).toBe('NL_UNSUPPORTED');
    expect(e.hint).toBeTruthy();
    expect(checkRequest('diffGraph', { graph: quickstart(), against: { kind: 'folder', path: '/' } }).ok).toBe(false);
  });
});

describe('the diff in the app (renderer/state/diff.ts, runs.ts)', () => {
  const sample = () => {
    const cur = quickstart();
    node(cur, 'linear_relu_stack.0').params.out_features = 256;
    node(cur, 'linear_relu_stack.4').name = 'head';
    cut(cur, 'relu2');
    return diffGraphs(cur, quickstart());
  };

  it('marks added, changed and renamed nodes by id; removed and unchanged layers get no mark', () => {
    expect(marksOf(sample())).toEqual({ fc1: 'changed', fc2: 'changed', fc3: 'renamed' });
  });

  it('words a change and the counts as the panel shows them', () => {
    expect(changeText({ param: 'out_features', from: 512, to: 256 })).toBe('out_features 512 → 256');
    expect(changeText({ param: 'fc1.weight', from: null, to: [10, 512] })).toBe('fc1.weight absent → [10, 512]');
    expect(summaryText(sample())).toBe('1 removed · 2 changed · 1 renamed · 3 connections changed');
    expect(summaryText(diffGraphs(quickstart(), quickstart()))).toBe('no differences');
  });

  it('a stored run keeps a copy of the graph it trained; a run stored before that has none', () => {
    const g = quickstart();
    const rec = makeRunRecord({
      runId: 'r', index: 1, startedAt: 0, state: 'finished', epochs: [], loss: [], changes: [], graph: g,
      settings: { dataset: 'mnist', epochs: 1, batchSize: 1, optimizer: 'sgd', lr: 0.001, limitTrain: null },
    });
    expect(runGraph(rec)!.nodes.map((n) => n.name)).toEqual(g.nodes.map((n) => n.name));
    expect(rec.graph).toEqual({ nodes: g.nodes, edges: g.edges });
    expect(rec.graph!.nodes[0]).not.toBe(g.nodes[0]);
    expect(diffGraphs(g, rec.graph as GraphDoc).summary.same).toBe(8);
    const { graph: _g, ...old } = rec;
    expect(runGraph(old as { graph?: unknown })).toBeNull();
    expect(runGraph({ graph: { nodes: 'x' } })).toBeNull();
  });
});

/** flattenGroups is another change landing beside this one: until it has, the group cases are skipped (not passed). */
const groupsLanded = (() => {
  try {
    flattenGroups({ nodes: [], edges: [], groups: [] });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!groupsLanded)('diffGraphs with groups', () => {
  /** The quickstart with its three Linear layers' middle part in a group `block` (names relative to it). */
  const grouped = (): GraphDoc => {
    const g = quickstart();
    g.groups = [{ id: 'gb', name: 'block', collapsed: false }];
    for (const n of g.nodes)
      if (n.id === 'fc2' || n.id === 'relu2') Object.assign(n, { group: 'gb', name: n.id === 'fc2' ? 'fc' : 'act' });
    return g;
  };

  it('compares full module paths: a group-free graph against its grouped version renames nothing away silently', () => {
    const d = diffGraphs(grouped(), quickstart());
    // the same nodes (ids) under new full names: renamed, with the canvas ids of the drawn nodes
    expect(layer(d, 'block.fc')).toMatchObject({ status: 'renamed', baseName: 'linear_relu_stack.2', nodeId: 'fc2' });
    expect(layer(d, 'block.act')).toMatchObject({ status: 'renamed', baseName: 'linear_relu_stack.3', nodeId: 'relu2' });
    expect(d.edges).toEqual({ added: [], removed: [] });
  });

  it('a repeated group: each copy is a layer of its own (block.0.fc, block.1.fc), its copies marked on the drawn node', () => {
    const cur = grouped();
    cur.groups![0].repeat = 2;
    node(cur, 'fc').params.out_features = 512;
    const d = diffGraphs(cur, grouped());
    expect(layer(d, 'block.1.fc')).toMatchObject({ status: 'added', nodeId: 'fc2' });
    expect(layer(d, 'block.0.fc')).toMatchObject({ status: 'renamed', baseName: 'block.fc', nodeId: 'fc2' });
  });
});
