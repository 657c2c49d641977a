/**
 * How groups are drawn and carried around, without a browser: frames around expanded groups, a collapsed
 * group as one node with its external edges rerouted, the summary's depth levels, copy/paste of a group,
 * and delete removing the groups it leaves empty.
 */
import { describe, expect, it } from 'vitest';
import type { AnalysisDto } from '../../engine/contract/api.js';

type SummaryRowDto = AnalysisDto['summary']['rows'][number];
import { pasteChanges, wholeGroups } from '../../renderer/actions/clipboard.js';
import { planDeletion } from '../../renderer/canvas/deletion.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import { absolutePositions, elkGraphParts } from '../../renderer/canvas/groupLayout.js';
import { collapsedId, frameId, groupView } from '../../renderer/canvas/groupView.js';
import { visibleRows } from '../../renderer/panels/summaryDepth.js';
import { applyChanges, applyGroupChanges, docNode, invertChanges, toFlowEdge, toFlowNode, type DocGroup, type GraphChange, type GraphEdge, type LayerNode } from '../../renderer/state/graph.js';
import { fullName } from '../../renderer/state/groups.js';

/** input -> a -> b -> head, with a and b in group g1 (and b also in g2 inside it) */
function fixture(collapsed: { g1?: boolean; g2?: boolean } = {}) {
  const groups: DocGroup[] = [
    { id: 'g1', name: 'enc', collapsed: !!collapsed.g1 },
    { id: 'g2', name: 'inner', parent: 'g1', collapsed: !!collapsed.g2 },
  ];
  const spec: [string, string | undefined][] = [['input', undefined], ['a', 'g1'], ['b', 'g2'], ['head', undefined]];
  const nodes = spec.map(([id, group], i) => toFlowNode({ id, name: id, type: 'Linear', params: {}, position: { x: 100, y: i * 150 }, ...(group ? { group } : {}) }));
  const edges = [['input', 'a'], ['a', 'b'], ['b', 'head']].map(([s, t]) => toFlowEdge({ id: `${s}-${t}`, source: s, target: t, targetHandle: 'input' }));
  return { nodes, edges, groups };
}

describe('groupView', () => {
  it('draws a frame around each expanded group, the outer one around the inner one', () => {
    const f = fixture();
    const v = groupView(f.nodes, f.edges, f.groups);
    const outer = v.nodes.find((n) => n.id === frameId('g1'))!;
    const inner = v.nodes.find((n) => n.id === frameId('g2'))!;
    // frames come first (drawn under the layers), outer before inner
    expect(v.nodes.slice(0, 2).map((n) => n.id)).toEqual([frameId('g1'), frameId('g2')]);
    expect(outer.position.x).toBeLessThan(inner.position.x);
    expect(outer.position.y).toBeLessThan(150); // a sits at y=150 and is inside the outer frame
    expect(inner.position.y).toBeGreaterThan(150); // the inner frame holds b only (y=300)
    expect(outer.position.y + outer.height!).toBeGreaterThanOrEqual(inner.position.y + inner.height!);
    expect(v.edges).toBe(f.edges);
  });

  it('collapses a group to one node with its external edges rerouted and its internal ones hidden', () => {
    const f = fixture({ g1: true });
    const v = groupView(f.nodes, f.edges, f.groups);
    expect(v.nodes.map((n) => n.id)).toEqual(['input', 'head', collapsedId('g1')]);
    expect(v.edges.map((e) => `${e.source}>${e.target}`)).toEqual([`input>${collapsedId('g1')}`, `${collapsedId('g1')}>head`]);
    // the edge ids stay, so the shapes they carry are still found
    expect(v.edges.map((e) => e.id)).toEqual(['input-a', 'b-head']);
    // at the group's layers' place
    expect(v.nodes.find((n) => n.id === collapsedId('g1'))!.position).toEqual({ x: 100, y: 150 });
  });

  it('draws a collapsed inner group inside its expanded parent frame', () => {
    const f = fixture({ g2: true });
    const v = groupView(f.nodes, f.edges, f.groups);
    expect(v.nodes.map((n) => n.id)).toEqual([frameId('g1'), 'input', 'a', 'head', collapsedId('g2')]);
    expect(v.edges.map((e) => `${e.source}>${e.target}`)).toEqual(['input>a', `a>${collapsedId('g2')}`, `${collapsedId('g2')}>head`]);
  });
});

describe('summary depth', () => {
  const row = (name: string, depth: number, groupId?: string): SummaryRowDto => ({ nodeId: groupId ? '' : name, name, type: groupId ? 'Module' : 'Linear', outShape: null, params: 0, flops: 0, depth, ...(groupId ? { groupId } : {}) });
  const rows = [row('input', 0), row('layer1', 0, 'g1'), row('layer1.0', 1, 'g1'), row('layer1.0.conv1', 2), row('layer1.1', 1, 'g1'), row('layer1.1.conv1', 2), row('fc', 0)];
  const names = (r: ReturnType<typeof visibleRows>) => r.map((x) => x.row.name);

  it('shows the levels a depth asks for, like torchinfo', () => {
    expect(names(visibleRows(rows, '1', new Set()))).toEqual(['input', 'layer1', 'fc']);
    expect(names(visibleRows(rows, '2', new Set()))).toEqual(['input', 'layer1', 'layer1.0', 'layer1.1', 'fc']);
    expect(names(visibleRows(rows, 'all', new Set()))).toHaveLength(7);
    // a group row has a fold toggle only when its contents can show at this depth
    expect(visibleRows(rows, '1', new Set()).find((r) => r.row.name === 'layer1')!.hasChildren).toBe(false);
    expect(visibleRows(rows, 'all', new Set()).find((r) => r.row.name === 'layer1')!.hasChildren).toBe(true);
  });

  it('hides what a folded group row holds', () => {
    expect(names(visibleRows(rows, 'all', new Set(['group:layer1.0'])))).toEqual(['input', 'layer1', 'layer1.0', 'layer1.1', 'layer1.1.conv1', 'fc']);
    expect(names(visibleRows(rows, 'all', new Set(['group:layer1'])))).toEqual(['input', 'layer1', 'fc']);
  });
});

describe('copy, paste and delete with groups', () => {
  it('pastes a copied group as a group with a unique name, its layers keeping theirs', () => {
    const f = fixture();
    const ids = new Set(['a', 'b']);
    const copied = wholeGroups(f.nodes, f.groups, ids);
    expect(copied.map((g) => g.id)).toEqual(['g1', 'g2']);
    const changes = pasteChanges({ nodes: f.nodes.filter((n) => ids.has(n.id)).map(docNode), edges: [], groups: copied }, f.nodes, 40, f.groups);
    const groups = applyGroupChanges(f.groups, changes);
    const nodes = applyChanges(f.nodes, [], changes).nodes;
    const pasted = nodes.slice(4);
    expect(pasted.map((n) => fullName(groups, n.data.group, n.data.name))).toEqual(['enc_1.a', 'enc_1.inner.b']);
    expect(groups).toHaveLength(4);
  });

  it('removes the groups a delete leaves empty, and undo brings them back', () => {
    const f = fixture();
    const nodes = f.nodes.map((n) => (n.id === 'b' ? { ...n, selected: true } : n));
    const plan = planDeletion({ nodes, edges: f.edges, catalogByType: {}, groups: f.groups }, false);
    const removed = plan.changes.filter((c): c is Extract<GraphChange, { kind: 'removeGroup' }> => c.kind === 'removeGroup');
    expect(removed.map((c) => c.group.id)).toEqual(['g2']);
    const after = applyGroupChanges(f.groups, plan.changes);
    expect(after.map((g) => g.id)).toEqual(['g1']);
    expect(applyGroupChanges(after, invertChanges(plan.changes)).map((g) => g.id).sort()).toEqual(['g1', 'g2']);
  });
});

describe('auto-layout with groups', () => {
  it('keeps a group\'s layers together: no other layer lands inside the group\'s box', async () => {
    // the graph actionAutoLayout hands ELK (its layout options with the hierarchy included)
    const elkMod = (await import('elkjs/lib/elk.bundled.js')) as unknown as { default: new () => { layout(g: ElkNode): Promise<ElkNode> } };
    const elk = new elkMod.default();
    const layoutPositions = async (ns: LayerNode[], es: GraphEdge[], gs: DocGroup[]) =>
      absolutePositions(await elk.layout({ id: 'root', layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN' }, ...elkGraphParts(ns, es, gs) }));
    // input -> a -> x -> b -> head, with a and b in one group and x outside it between them: a flat layout
    // puts x in the middle of the group's column; the group's box must keep it out
    const groups: DocGroup[] = [{ id: 'g1', name: 'enc', collapsed: false }];
    const spec: [string, string | undefined][] = [['input', undefined], ['a', 'g1'], ['b', 'g1'], ['x', undefined], ['head', undefined]];
    const nodes = spec.map(([id, group], i) => toFlowNode({ id, name: id, type: 'Linear', params: {}, position: { x: 0, y: i * 10 }, ...(group ? { group } : {}) }));
    const edges = [['input', 'a'], ['a', 'x'], ['x', 'b'], ['b', 'head']].map(([s, t]) => toFlowEdge({ id: `${s}-${t}`, source: s, target: t, targetHandle: 'input' }));
    const pos = await layoutPositions(nodes, edges, groups);
    expect([...pos.keys()].sort()).toEqual(['a', 'b', 'head', 'input', 'x']);
    const moved = nodes.map((n) => ({ ...n, position: pos.get(n.id)! }));
    const inGroup = moved.filter((n) => n.data.group === 'g1');
    const box = { x: Math.min(...inGroup.map((n) => n.position.x)), y: Math.min(...inGroup.map((n) => n.position.y)), x2: Math.max(...inGroup.map((n) => n.position.x + 220)), y2: Math.max(...inGroup.map((n) => n.position.y + 84)) };
    for (const n of moved.filter((m) => !m.data.group)) {
      const overlaps = n.position.x < box.x2 && n.position.x + 220 > box.x && n.position.y < box.y2 && n.position.y + 84 > box.y;
      expect(overlaps, `${n.id} inside the group's box`).toBe(false);
    }
    // a collapsed group is laid out as one node
    const collapsed = await layoutPositions(nodes, edges, [{ ...groups[0], collapsed: true }]);
    expect([...collapsed.keys()].sort()).toEqual(['group:g1', 'head', 'input', 'x']);
  });
});

describe('framesCrowd', () => {
  it('says when a frame drawn around its layers would cover a layer outside the group', async () => {
    const { framesCrowd } = await import('../../renderer/canvas/groupView.js');
    const at = (id: string, y: number, group?: string) => toFlowNode({ id, name: id, type: 'Linear', params: {}, position: { x: 0, y }, ...(group ? { group } : {}) });
    const groups: DocGroup[] = [{ id: 'g1', name: 'enc', collapsed: false }];
    // 100 px apart: the frame's header and padding reach the layer above
    expect(framesCrowd([at('a', 0), at('b', 100, 'g1'), at('c', 200, 'g1')], groups)).toBe(true);
    // room for the header: no layer under a frame it is not in
    expect(framesCrowd([at('a', 0), at('b', 150, 'g1'), at('c', 250, 'g1')], groups)).toBe(false);
    expect(framesCrowd([at('a', 0), at('b', 100)], [])).toBe(false);
  });
});
