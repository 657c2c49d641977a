/**
 * Swaps the graph's loss for another loss type (CrossEntropyLoss -> MSELoss ...): the node keeps
 * its id, name (its state-dict prefix) and edges; its parameters go back to the new type's
 * defaults (they mean different things). One undo step.
 */
import { register } from './registry';

export interface SetLossArg {
  nodeId: string;
  type: string;
}

export const actionSetLoss = register<SetLossArg>({
  name: 'setLoss',
  label: 'Change the loss',
  category: 'Train',
  perform(ctx, { nodeId, type }) {
    const s = ctx.state();
    const node = s.nodes.find((n) => n.id === nodeId);
    const layer = s.catalogByType[type];
    if (!node || !layer?.isLoss || node.data.type === type) return;
    if (!s.catalogByType[node.data.type]?.isLoss) return;
    // a target edge stays only on a loss that has a target input (the panel offers no other)
    const usesTarget = s.edges.some((e) => e.target === nodeId && e.targetHandle === 'target');
    if (usesTarget && !layer.ports.includes('target')) throw new Error(`${type} has no target input, but a target is connected to ${node.data.name}`);
    s.commit(
      [{ kind: 'updateNode', id: nodeId, before: { type: node.data.type, params: node.data.params }, after: { type, params: { ...layer.defaults } } }],
      `Loss ${type}`,
    );
  },
});
