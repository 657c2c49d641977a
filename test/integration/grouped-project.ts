/**
 * A project with nested groups and a repeat x3 (engine/graph/groups.ts), for the integration tests: an MLP on
 * FashionMNIST whose middle is `stage`, an nn.Sequential of 3 residual blocks, each holding the submodule
 * `block` (Linear, BatchNorm1d, ReLU) and an Add of its output with the stage input:
 *   input -> flatten -> fc_in -> stage.{0,1,2}.(block.fc -> block.bn -> block.act, add) -> head -> loss_fn
 * State-dict keys: fc_in.*, stage.<i>.block.fc.*, stage.<i>.block.bn.* (buffers too), head.*.
 */
import { parseProject, type ProjectDoc } from '../../engine/graph/document.js';

export const GROUPED_WIDTH = 16;
export const GROUPED_REPEAT = 3;

export function groupedProject(): ProjectDoc {
  const n = (id: string, type: string, params: Record<string, unknown> = {}, group?: string, name = id) => ({ id, type, name, params, ...(group ? { group } : {}) });
  const e = (id: string, source: string, target: string) => ({ id, source, target });
  return parseProject({
    format: 'netloom-project',
    version: 1,
    name: 'Grouped MLP',
    graph: {
      nodes: [
        n('input', 'Input', { shape: [1, 28, 28] }),
        n('flatten', 'Flatten'),
        n('fc_in', 'Linear', { out_features: GROUPED_WIDTH }),
        n('fc', 'Linear', { out_features: GROUPED_WIDTH }, 'block'),
        n('bn', 'BatchNorm1d', {}, 'block'),
        n('act', 'ReLU', {}, 'block'),
        n('add', 'Add', {}, 'stage'),
        n('head', 'Linear', { out_features: 10 }),
        n('loss', 'CrossEntropyLoss', {}, undefined, 'loss_fn'),
      ],
      edges: [
        e('e1', 'input', 'flatten'), e('e2', 'flatten', 'fc_in'), e('e3', 'fc_in', 'fc'), e('e4', 'fc', 'bn'), e('e5', 'bn', 'act'),
        e('e6', 'act', 'add'), e('skip', 'fc_in', 'add'), e('e7', 'add', 'head'), e('e8', 'head', 'loss'),
      ],
      groups: [
        { id: 'stage', name: 'stage', repeat: GROUPED_REPEAT, collapsed: false },
        { id: 'block', name: 'block', parent: 'stage', collapsed: true, position: { x: 10, y: 20 } },
      ],
    },
    training: { dataset: 'fashion-mnist', batch_size: 32, epochs: 1, seed: 3, optimizer: { type: 'Adam', lr: 0.001 } },
  }, 'the grouped test project');
}

/** The state-dict keys the grouped project must have (learnable ones and BatchNorm's buffers). */
export function groupedKeys(): string[] {
  const keys = ['fc_in.weight', 'fc_in.bias', 'head.weight', 'head.bias'];
  for (let i = 0; i < GROUPED_REPEAT; i++)
    keys.push(...['fc.weight', 'fc.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked'].map((k) => `stage.${i}.block.${k}`));
  return keys;
}
