/**
 * The canvas's issue-13 logic without a browser: which deletions reconnect the chain (and
 * with which edge), where the minimap may sit, what a screen reader hears for an edge, and
 * the one-line text of a node's problem.
 */
import { describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';
import type { LayerDto } from '../../engine/contract/api.js';
import { planDeletion } from '../../renderer/canvas/deletion.js';
import { edgeAriaLabel } from '../../renderer/canvas/edgeAria.js';
import { shortMessage } from '../../renderer/canvas/issueText.js';
import { chooseCorner, cornerRect, type Rect } from '../../renderer/canvas/minimapCorner.js';
import { applyChanges, invertChanges, toFlowEdge, toFlowNode, type GraphEdge, type LayerNode } from '../../renderer/state/graph.js';

const catalog: LayerDto[] = await new EngineService().getCatalog({});
const catalogByType = Object.fromEntries(catalog.map((l) => [l.type, l]));

/** a graph from "a>b" edge strings; nodes are named by their ids, typed by `types` (default ReLU) */
function graph(edges: string[], selected: string[], types: Record<string, string> = {}, handles: Record<string, string> = {}) {
  const ids = [...new Set(edges.flatMap((e) => e.split('>')))];
  const nodes: LayerNode[] = ids.map((id, i) => toFlowNode({ id, name: id, type: types[id] ?? 'ReLU', params: {}, position: { x: 0, y: i * 100 } }, selected.includes(id)));
  const flowEdges: GraphEdge[] = edges.map((e) => {
    const [source, target] = e.split('>');
    return toFlowEdge({ id: `e_${source}_${target}`, source, target, targetHandle: handles[e] ?? 'input' });
  });
  return { nodes, edges: flowEdges, catalogByType };
}

const ids = () => {
  let n = 0;
  return () => `new${++n}`;
};
const pairs = (es: readonly { source: string; target: string }[]) => es.map((e) => `${e.source}>${e.target}`).sort();

describe('delete and reconnect', () => {
  it('bridges a node in the middle of a chain, and one undo restores the chain', () => {
    const s = graph(['a>b', 'b>c', 'c>d'], ['b']);
    const plan = planDeletion(s, true, ids());
    expect(plan.deleted).toEqual(['b']);
    expect(plan.bridges.map((b) => `${b.from}>${b.to}`)).toEqual(['a>c']);
    const after = applyChanges(s.nodes, s.edges, plan.changes);
    expect(after.nodes.map((n) => n.id)).toEqual(['a', 'c', 'd']);
    expect(pairs(after.edges)).toEqual(['a>c', 'c>d']);
    const undone = applyChanges(after.nodes, after.edges, invertChanges(plan.changes));
    expect(pairs(undone.edges)).toEqual(['a>b', 'b>c', 'c>d']);
  });

  it('bridges a selected run of nodes as one, and leaves ends and branches broken', () => {
    const run = planDeletion(graph(['a>b', 'b>c', 'c>d', 'd>e'], ['b', 'c', 'd']), true, ids());
    expect(run.bridges.map((b) => `${b.from}>${b.to}`)).toEqual(['a>e']);
    // the first and the last node of a chain have nothing on one side
    expect(planDeletion(graph(['a>b', 'b>c'], ['a']), true, ids()).bridges).toEqual([]);
    expect(planDeletion(graph(['a>b', 'b>c'], ['c']), true, ids()).bridges).toEqual([]);
    // a node feeding two branches: which one would the input go to? none
    expect(planDeletion(graph(['a>b', 'b>c', 'b>d'], ['b']), true, ids()).bridges).toEqual([]);
    // two separate middle nodes: each bridged
    expect(planDeletion(graph(['a>b', 'b>c', 'c>d', 'd>e'], ['b', 'd']), true, ids()).bridges.map((b) => `${b.from}>${b.to}`)).toEqual(['a>c', 'c>e']);
  });

  it('keeps the target port, refuses nothing the canvas accepts, and reconnects nothing when asked not to', () => {
    const s = graph(['x>fc', 'fc>loss'], ['fc'], { x: 'Input', fc: 'Linear', loss: 'CrossEntropyLoss' });
    const plan = planDeletion(s, true, ids());
    expect(plan.bridges.map((b) => b.edge)).toEqual([{ id: 'new1', source: 'x', target: 'loss', targetHandle: 'input' }]);
    const plain = planDeletion(s, false, ids());
    expect(plain.bridges).toEqual([]);
    expect(plain.changes.every((c) => c.kind !== 'addEdge')).toBe(true);
    // a bridge into a port the canvas would refuse (already connected) is not made
    const busy = graph(['a>b', 'b>add', 'a>add'], ['b'], { add: 'Add' }, { 'b>add': 'in0', 'a>add': 'in1' });
    expect(planDeletion(busy, true, ids()).bridges.map((b) => b.edge.targetHandle)).toEqual(['in0']);
  });
});

describe('minimap corner', () => {
  const pane: Rect = { left: 0, top: 0, right: 800, bottom: 500 };
  const inside = (r: Rect): Rect => ({ left: r.left + 10, top: r.top + 10, right: r.left + 60, bottom: r.top + 30 });
  it('stays put while free, moves only onto empty corners, and hides when none will do', () => {
    expect(chooseCorner(pane, [], [], 'bottom-right')).toBe('bottom-right');
    expect(chooseCorner(pane, [], [], 'top-left')).toBe('top-left');
    const br = inside(cornerRect(pane, 'bottom-right'));
    const tr = inside(cornerRect(pane, 'top-right'));
    const tl = inside(cornerRect(pane, 'top-left'));
    expect(chooseCorner(pane, [br], [br], 'bottom-right')).toBe('top-right');
    expect(chooseCorner(pane, [br, tr], [br, tr], 'bottom-right')).toBe('top-left');
    expect(chooseCorner(pane, [br, tr, tl], [], 'bottom-right')).toBeNull();
    // a node (without a callout) in a corner: the minimap does not jump onto it
    expect(chooseCorner(pane, [br], [br, tr, tl], 'bottom-right')).toBeNull();
    // where it already is, or back home, nodes under it are fine (it is an overlay)
    expect(chooseCorner(pane, [], [tl], 'top-left')).toBe('top-left');
    expect(chooseCorner(pane, [tl], [tl, br], 'top-left')).toBe('bottom-right');
    expect(chooseCorner(pane, [], [br], null)).toBe('bottom-right');
  });
  it('places the corners inside the pane, 15 px from its edges', () => {
    expect(cornerRect(pane, 'bottom-right')).toEqual({ left: 583, top: 333, right: 785, bottom: 485 });
    expect(cornerRect(pane, 'top-left')).toEqual({ left: 15, top: 15, right: 217, bottom: 167 });
  });
});

describe('edge names for screen readers', () => {
  it('names the layers, their types, the port where it matters and the shape', () => {
    const a = { name: 'linear_relu_stack.0', type: 'Linear' };
    const b = { name: 'linear_relu_stack.1', type: 'ReLU' };
    expect(edgeAriaLabel({ source: a, target: b, targetHandle: 'input', shape: [64, 512] })).toBe('linear_relu_stack.0 (Linear) to linear_relu_stack.1 (ReLU), 64×512');
    expect(edgeAriaLabel({ source: a, target: { name: 'loss_fn', type: 'CrossEntropyLoss' }, targetHandle: 'target', shape: null, problem: 'bad' })).toBe(
      'linear_relu_stack.0 (Linear) to loss_fn (CrossEntropyLoss) port target; problem: bad',
    );
  });
});

describe('one-line problem text on a node', () => {
  it('drops the "Type at node name" prefix the node already shows', () => {
    expect(shortMessage('ReLU at node relu1 does not lead to the loss loss_fn')).toBe('does not lead to the loss loss_fn');
    expect(shortMessage('Conv2d at node features.0: expects an image input')).toBe('expects an image input');
    expect(shortMessage('Something else')).toBe('Something else');
  });
});
