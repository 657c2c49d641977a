/**
 * Which connections the canvas accepts, and why not: cycles, ports already in use, a layer
 * that takes no (more) inputs. React Flow's isValidConnection uses the boolean; the reason
 * is shown as a toast when the user lets go.
 */
import type { Connection, Edge } from '@xyflow/react';
import { isVariadic, wouldCycle } from '../state/graph';
import type { State } from '../state/store';

export function connectionProblem(s: Pick<State, 'nodes' | 'edges' | 'catalogByType'>, c: Connection | Edge): string | null {
  const source = s.nodes.find((n) => n.id === c.source);
  const target = s.nodes.find((n) => n.id === c.target);
  // a collapsed group's node (canvas/groupView.ts) stands for layers inside it: say which to reach
  if (/^group:/.test(c.source) || /^group:/.test(c.target)) return 'That is a collapsed group: expand it (▸) and connect to a layer inside it';
  if (!source || !target) return 'That layer no longer exists';
  if (c.source === c.target) return 'That would make a cycle: a layer cannot feed itself';
  const srcLayer = s.catalogByType[source.data.type];
  const layer = s.catalogByType[target.data.type];
  if (srcLayer?.isLoss) return `${source.data.type} is a loss: it has no output to connect`;
  if (!layer) return `Unknown layer type ${target.data.type}`;
  if (layer.arity.max === 0) return `${layer.type} takes no inputs: it is where samples enter`;
  const handle = c.targetHandle ?? 'input';
  const into = s.edges.filter((e) => e.target === target.id);
  if (into.some((e) => (e.targetHandle ?? 'input') === handle)) {
    if (isVariadic(layer)) return `Input ${handle} of ${target.data.name} is already connected: use the next free one`;
    if (handle === 'target') return `The target of ${target.data.name} is already connected`;
    return `${layer.type} takes one input${layer.ports.length > 1 ? ` on its ${handle} port` : ''} (${target.data.name} already has one): delete that edge first`;
  }
  if (into.length >= layer.arity.max) return `${layer.type} takes at most ${layer.arity.max} inputs`;
  if (wouldCycle(s.edges, c.source, c.target)) return 'That would make a cycle';
  return null;
}
