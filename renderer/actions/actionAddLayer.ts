import { freshId, newName, type DocNode, type GraphChange, type Position } from '../state/graph';
import { register } from './registry';

export interface AddLayerArg {
  type: string;
  /** flow coordinates of the node's top-left corner */
  position: Position;
  /** also connect this node's output to the new layer's first input */
  connectFrom?: string;
}

/**
 * Adds a catalog layer: required parameters only (the catalog's defaults for them), a fresh id
 * and a unique PyTorch-style name. The new node becomes the selection.
 */
export const actionAddLayer = register<AddLayerArg>({
  name: 'addLayer',
  label: 'Add layer',
  category: 'Canvas',
  perform(ctx, { type, position, connectFrom }) {
    const s = ctx.state();
    const layer = s.catalogByType[type];
    if (!layer) throw new Error(`unknown layer type "${type}"`);
    const required = new Set((layer.paramsSchema.required as string[] | undefined) ?? []);
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(layer.defaults)) if (required.has(k)) params[k] = v;
    // Input starts with its shape written down: it is the one thing a user must check.
    if (type === 'Input' && layer.defaults.shape !== undefined) params.shape = layer.defaults.shape;
    const node: DocNode = {
      id: freshId('n'),
      type,
      name: newName(type, layer.isLoss, new Set(s.nodes.map((n) => n.data.name))),
      params,
      position: { x: Math.round(position.x), y: Math.round(position.y) },
    };
    const changes: GraphChange[] = [{ kind: 'addNode', node }];
    const from = connectFrom ? s.nodes.find((n) => n.id === connectFrom) : undefined;
    if (from && layer.arity.max > 0) {
      const handle = layer.arity.max > 1 && layer.ports.length === 1 ? 'in0' : 'input';
      changes.push({ kind: 'addEdge', edge: { id: freshId('e'), source: from.id, target: node.id, targetHandle: handle } });
    }
    s.commit(changes, `Add ${type}`, { selectAdded: true });
  },
});
