/**
 * Analysis of graphs with groups (engine/graph/analyze.ts on the flat graph, group-issues.ts, group-info.ts,
 * summary-groups.ts): shapes through repeated copies, issues told on the drawn ids, group problems on the group's
 * nodes, per-group shapes and parameters, and the summary nested like torchinfo's depth levels.
 */
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../engine/graph/analyze.js';
import type { EdgeDoc, GraphDoc, GroupDoc, NodeDoc } from '../../engine/graph/document.js';
import { EngineService } from '../../engine/host/service.js';
import { METHODS } from '../../engine/contract/api.js';

const node = (id: string, type: string, params: Record<string, unknown> = {}, group?: string, name = id): NodeDoc => ({ id, type, name, params, ...(group ? { group } : {}) });
const group = (id: string, extra: Partial<GroupDoc> = {}): GroupDoc => ({ id, name: id, collapsed: false, ...extra });
const chained = (nodes: NodeDoc[], groups: GroupDoc[]): GraphDoc => ({
  nodes,
  edges: nodes.slice(1).map((n, i): EdgeDoc => ({ id: `e${i}`, source: nodes[i].id, target: n.id })),
  groups,
});

/** Input [1,8,8] -> [conv(pinned in_channels) -> relu] x repeat -> flatten -> fc -> loss */
const convStage = (repeat: number, conv: Record<string, unknown>) => chained([
  node('in', 'Input', { shape: [1, 8, 8] }),
  node('conv', 'Conv2d', { kernel_size: 3, padding: 1, ...conv }, 'L'),
  node('relu', 'ReLU', {}, 'L'),
  node('flat', 'Flatten'),
  node('fc', 'Linear', { out_features: 10 }),
  node('loss', 'CrossEntropyLoss'),
], [group('L', { name: 'layer1', repeat })]);

describe('analysis on the flat graph', () => {
  it('infers shapes through every copy; order and byId hold the copies under full names', () => {
    const a = analyzeGraph(convStage(3, { out_channels: 4 }));
    expect(a.issues).toEqual([]);
    expect(a.order.map((n) => n.doc.name)).toContain('layer1.2.conv');
    expect(a.byId.get('conv@1')!.params.in_channels).toBe(4);
    expect(a.byId.get('conv')!.params.in_channels).toBe(1);
    expect(a.byId.get('fc')!.params.in_features).toBe(4 * 8 * 8);
  });

  it('an issue of copy 1 is told on the drawn node, with "(copy 1)" after its full name', () => {
    // in_channels pinned to 1: copy 0 gets 1 channel, copy 1 gets the 4 that copy 0 makes
    const a = analyzeGraph(convStage(2, { in_channels: 1, out_channels: 4 }));
    expect(a.issues).toHaveLength(1);
    expect(a.issues[0].nodeId).toBe('conv');
    expect(a.issues[0].code).toBe('shape');
    expect(a.issues[0].message).toMatch(/^Conv2d at node layer1\.1\.conv \(copy 1\): in_channels is 1 /);
    // setting in_channels to 4 on the drawn node would break copy 0: no one-click fix
    expect(a.issues[0].fix).toBeUndefined();
  });

  it('an issue every copy repeats is told once', () => {
    const a = analyzeGraph(convStage(3, { out_channels: -4 }));
    const bad = a.issues.filter((i) => i.code === 'bad-param');
    expect(bad).toHaveLength(1);
    expect(bad[0].nodeId).toBe('conv');
    expect(bad[0].message).not.toContain('copy');
  });

  it('group problems become issues on each of the group\'s drawn nodes', () => {
    const g = convStage(2, { out_channels: 1 });
    g.edges.push({ id: 'leak', source: 'conv', target: 'loss', targetHandle: 'target' }); // conv leads out too, beside relu
    const a = analyzeGraph(g);
    const ports = a.issues.filter((i) => i.code === 'GROUP_REPEAT_PORTS');
    expect(ports.map((i) => i.nodeId)).toEqual(['conv', 'relu']);
    expect(ports[0].message).toContain('group layer1 repeats its contents 2 times');
  });

  it('a full name used twice is caught (a top-level "enc.conv" beside group enc\'s "conv")', () => {
    const g = chained([node('in', 'Input', { shape: [4] }), node('a', 'Linear', { out_features: 4 }, 'enc', 'conv'), node('b', 'Linear', { out_features: 4 }, undefined, 'enc.conv'), node('loss', 'CrossEntropyLoss')], [group('enc')]);
    const dup = analyzeGraph(g).issues.filter((i) => i.code === 'duplicate-name');
    expect(dup).toHaveLength(1);
    expect(dup[0].message).toContain('"enc.conv"');
  });

  it('a graph without groups gets exactly the issues it always got', () => {
    const g = chained([node('in', 'Input'), node('fc', 'Linear', { in_features: 700, out_features: 10 }), node('loss', 'CrossEntropyLoss')], []);
    delete g.groups;
    expect(analyzeGraph(g).issues.map((i) => [i.code, i.nodeId])).toEqual([['shape', 'fc']]);
  });
});

describe('the API: AnalysisDto.groups and the nested summary', () => {
  const service = new EngineService();

  it('each group has its path, the shapes entering and leaving it, and the parameters of every copy', async () => {
    const a = await service.analyze({ graph: convStage(3, { out_channels: 1, bias: false }), batchSize: 2 });
    expect(METHODS.analyze.result.safeParse(a).success).toBe(true);
    expect(a.groups).toEqual([{ id: 'L', path: 'layer1', inShape: [2, 1, 8, 8], outShape: [2, 1, 8, 8], paramCount: 3 * 9, copies: 3 }]);
    // a drawn node shows copy 0's values; the edge out of the repeat carries the last copy's output
    expect(a.nodes.find((n) => n.id === 'conv')!.paramCount).toBe(9);
    expect(a.edges.find((e) => e.id === 'e2')!.shape).toEqual([2, 1, 8, 8]);
  });

  it('summary rows: the Sequential at depth 0, its copies at 1, their layers at 2; totals count every copy', async () => {
    const a = await service.analyze({ graph: convStage(2, { out_channels: 1, bias: false }), batchSize: 2 });
    const rows = a.summary.rows.map((r) => `${r.depth} ${r.type} ${r.name} ${r.params}`);
    expect(rows).toEqual([
      '0 Input in 0',
      '0 Sequential layer1 18',
      '1 Module layer1.0 9',
      '2 Conv2d layer1.0.conv 9',
      '2 ReLU layer1.0.relu 0',
      '1 Module layer1.1 9',
      '2 Conv2d layer1.1.conv 9',
      '2 ReLU layer1.1.relu 0',
      '0 Flatten flat 0',
      '0 Linear fc 650',
      '0 CrossEntropyLoss loss 0',
    ]);
    const seq = a.summary.rows[1];
    expect(seq).toMatchObject({ nodeId: '', groupId: 'L', outShape: [2, 1, 8, 8] });
    expect(a.summary.totalParams).toBe(18 + 650);
  });

  it('nested plain groups: a Module row per level', async () => {
    const g = chained([node('in', 'Input', { shape: [4] }), node('a', 'Linear', { out_features: 3 }, 'blk', 'fc'), node('r', 'ReLU', {}, 'enc', 'act'), node('loss', 'CrossEntropyLoss')],
      [group('enc', { name: 'encoder' }), group('blk', { name: 'block', parent: 'enc' })]);
    const a = await service.analyze({ graph: g, batchSize: 1 });
    expect(a.summary.rows.map((r) => `${r.depth} ${r.name}`)).toEqual(['0 in', '0 encoder', '1 encoder.block', '2 encoder.block.fc', '1 encoder.act', '0 loss']);
    expect(a.groups!.map((x) => [x.path, x.paramCount, x.inShape, x.outShape])).toEqual([['encoder', 15, [1, 4], [1, 3]], ['encoder.block', 15, [1, 4], [1, 3]]]);
  });
});
