/**
 * The layer catalog's shape rules and validation: every bad configuration is caught before
 * training, on the node, with its name and the fix; good ones infer PyTorch's shapes.
 */
import { describe, expect, it } from 'vitest';
import { analyzeGraph, type GraphIssue } from '../../engine/graph/analyze.js';
import { CATALOG } from '../../engine/graph/catalog.js';
import type { EdgeDoc, GraphDoc, NodeDoc } from '../../engine/graph/document.js';

const node = (id: string, type: string, params: Record<string, unknown> = {}): NodeDoc => ({ id, type, name: id, params });

/** Input(shape) -> layers... -> loss (CrossEntropyLoss unless given), as a chain. */
function chain(shape: number[], layers: NodeDoc[], loss: NodeDoc = node('loss', 'CrossEntropyLoss')): GraphDoc {
  const nodes = [node('in', 'Input', { shape }), ...layers, loss];
  return { nodes, edges: nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id })) };
}
const shapes = (g: GraphDoc, batch = 64) => {
  const a = analyzeGraph(g, { batchSize: batch });
  return { issues: a.issues, shape: (id: string) => a.byId.get(id)?.outShape };
};
const issueOn = (g: GraphDoc, id: string): GraphIssue => {
  const i = analyzeGraph(g, { batchSize: 64 }).issues.find((x) => x.nodeId === id);
  expect(i, `an issue on ${id}`).toBeDefined();
  return i!;
};
const head = [node('flat', 'Flatten'), node('fc', 'Linear', { out_features: 10 })];

describe('convolution and pooling shapes follow PyTorch', () => {
  it('Conv2d with stride, padding, dilation; "same" with an even kernel', () => {
    const { issues, shape } = shapes(chain([3, 32, 30], [
      node('c1', 'Conv2d', { out_channels: 8, kernel_size: [3, 5], stride: 2, padding: [1, 2] }),
      node('c2', 'Conv2d', { out_channels: 8, kernel_size: 3, dilation: 2 }),
      node('c3', 'Conv2d', { out_channels: 4, kernel_size: 4, padding: 'same' }),
      ...head,
    ]));
    expect(issues).toEqual([]);
    expect(shape('c1')).toEqual([8, 16, 15]);
    expect(shape('c2')).toEqual([8, 12, 11]);
    expect(shape('c3')).toEqual([4, 12, 11]);
  });

  it('ConvTranspose2d doubles with stride 2 and output_padding 1', () => {
    const { shape } = shapes(chain([4, 7, 7], [node('t', 'ConvTranspose2d', { out_channels: 2, kernel_size: 3, stride: 2, padding: 1, output_padding: 1 }), ...head]));
    expect(shape('t')).toEqual([2, 14, 14]);
  });

  it('pools with ceil_mode, and adaptive pooling to 1x1', () => {
    const { shape } = shapes(chain([2, 7, 7], [
      node('p1', 'MaxPool2d', { kernel_size: 2, ceil_mode: true }),
      node('p2', 'AvgPool2d', { kernel_size: 3, stride: 1, padding: 1 }),
      node('p3', 'AdaptiveAvgPool2d', { output_size: 1 }),
      ...head,
    ]));
    expect(shape('p1')).toEqual([2, 4, 4]);
    expect(shape('p2')).toEqual([2, 4, 4]);
    expect(shape('p3')).toEqual([2, 1, 1]);
  });

  it('Conv1d over [channels, length]', () => {
    expect(shapes(chain([3, 50], [node('c', 'Conv1d', { out_channels: 6, kernel_size: 5, stride: 3 }), ...head])).shape('c')).toEqual([6, 16]);
  });
});

describe('bad configurations are caught at validation time with the node name and a fix', () => {
  it('kernel larger than the padded input', () => {
    const i = issueOn(chain([1, 4, 4], [node('c', 'Conv2d', { out_channels: 2, kernel_size: 5 }), ...head]), 'c');
    expect(i.message).toBe('Conv2d at node c: kernel 5x5 is larger than the padded input 4x4');
    expect(i.hint).toMatch(/padding/);
  });

  it('groups that do not divide the channels', () => {
    const i = issueOn(chain([6, 8, 8], [node('c', 'Conv2d', { out_channels: 8, kernel_size: 3, groups: 4 }), ...head]), 'c');
    expect(i.message).toBe('Conv2d at node c: groups=4 must divide both in_channels=6 and out_channels=8');
    expect(i.fix).toEqual({ param: 'groups', value: 1 });
  });

  it('Concat of mismatched dimensions', () => {
    const g: GraphDoc = {
      nodes: [node('in', 'Input', { shape: [1, 8, 8] }), node('a', 'Conv2d', { out_channels: 4, kernel_size: 3, padding: 1 }), node('b', 'Conv2d', { out_channels: 4, kernel_size: 3 }), node('cat', 'Concat'), ...head, node('loss', 'CrossEntropyLoss')],
      edges: [['in', 'a'], ['in', 'b'], ['a', 'cat'], ['b', 'cat'], ['cat', 'flat'], ['flat', 'fc'], ['fc', 'loss']].map(([source, target]) => ({ source, target }) as EdgeDoc),
    };
    expect(issueOn(g, 'cat').message).toBe('Concat at node cat: cannot concatenate [64,4,8,8] and [64,4,6,6] along dim 1: the other dimensions differ');
  });

  it('Add of branches with different shapes names both shapes', () => {
    const g: GraphDoc = {
      nodes: [node('in', 'Input', { shape: [32, 14, 14] }), node('conv', 'Conv2d', { out_channels: 64, kernel_size: 3, padding: 1 }), node('res1', 'Add'), ...head, node('loss', 'CrossEntropyLoss')],
      edges: [['in', 'conv'], ['in', 'res1'], ['conv', 'res1'], ['res1', 'flat'], ['flat', 'fc'], ['fc', 'loss']].map(([source, target]) => ({ source, target }) as EdgeDoc),
    };
    expect(issueOn(g, 'res1').message).toBe('Add at node res1: input shapes [64,32,14,14] and [64,64,14,14] differ');
  });

  it('a negative dropout probability', () => {
    const i = issueOn(chain([10], [node('d', 'Dropout', { p: -0.1 }), node('fc', 'Linear', { out_features: 10 })]), 'd');
    expect(i.message).toMatch(/^Dropout at node d: p: must be between 0 and 1/);
  });

  it('pool padding above half the kernel, and windows that do not fit', () => {
    expect(issueOn(chain([1, 8, 8], [node('p', 'MaxPool2d', { kernel_size: 2, padding: 2 }), ...head]), 'p').message).toMatch(/at most half the kernel/);
    expect(issueOn(chain([1, 2, 2], [node('p', 'MaxPool2d', { kernel_size: 3 }), ...head]), 'p').message).toMatch(/does not fit the input/);
  });

  it('a Conv2d after a Flatten asks for an image', () => {
    expect(issueOn(chain([1, 28, 28], [node('flat', 'Flatten'), node('c', 'Conv2d', { out_channels: 2, kernel_size: 3 }), node('f2', 'Flatten'), node('fc', 'Linear', { out_features: 10 })]), 'c').message).toBe(
      'Conv2d at node c: expects an image input [batch, channels, height, width] but receives [64,784]',
    );
  });

  it('BatchNorm channels, LayerNorm shape, point-loss targets', () => {
    expect(issueOn(chain([3, 4, 4], [node('bn', 'BatchNorm2d', { num_features: 4 }), ...head]), 'bn').fix).toEqual({ param: 'num_features', value: 3 });
    expect(issueOn(chain([5, 6], [node('ln', 'LayerNorm', { normalized_shape: [5] }), ...head]), 'ln').message).toMatch(/normalized_shape \[5\] does not match/);
    const g = chain([4], [node('fc', 'Linear', { out_features: 3 })], node('mse', 'MSELoss'));
    g.edges.push({ source: 'in', target: 'mse', targetHandle: 'target' });
    expect(issueOn(g, 'mse').message).toBe('MSELoss at node mse: input [64,3] and target [64,4] have different shapes');
  });
});

describe('catalog', () => {
  it('every entry parses its own defaults and documents its parameters', () => {
    const required: Record<string, Record<string, unknown>> = {
      Linear: { out_features: 1 }, Conv2d: { out_channels: 1, kernel_size: 1 }, Conv1d: { out_channels: 1, kernel_size: 1 },
      ConvTranspose2d: { out_channels: 1, kernel_size: 1 }, MaxPool2d: { kernel_size: 2 }, AvgPool2d: { kernel_size: 2 },
      AdaptiveAvgPool2d: { output_size: 1 }, Reshape: { shape: [-1] },
    };
    for (const [type, spec] of CATALOG) {
      const r = spec.params.safeParse(required[type] ?? {});
      expect(r.success, `${type}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
      for (const key of Object.keys(r.data ?? {})) expect(spec.paramDocs[key], `${type}.${key} has a doc line`).toBeTruthy();
    }
  });
});
