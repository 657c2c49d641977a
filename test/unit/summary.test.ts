/**
 * The model summary (engine/graph/summary.ts): parameter counts as torchinfo prints them, FLOPs by
 * the documented rule (2 x multiply-adds over the batch), memory estimates, and graceful output
 * for graphs with problems.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../engine/graph/analyze.js';
import { parseProjectText, type GraphDoc, type NodeDoc } from '../../engine/graph/document.js';
import { FLOPS_PER_ELEMENT, summarize } from '../../engine/graph/summary.js';

const template = (name: string) => parseProjectText(readFileSync(`assets/templates/${name}.json`, 'utf8'), name).graph;

const node = (id: string, type: string, params: Record<string, unknown> = {}): NodeDoc => ({ id, type, name: id, params });
const chain = (...nodes: NodeDoc[]): GraphDoc => ({
  nodes,
  edges: nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id })),
});

const summaryOf = (g: GraphDoc, batch: number) => summarize(analyzeGraph(g, { batchSize: batch }), batch);
const row = (s: ReturnType<typeof summarize>, id: string) => s.rows.find((r) => r.nodeId === id)!;

describe('model summary: the PyTorch quickstart at batch 64', () => {
  const s = summaryOf(template('quickstart'), 64);

  it('counts 669,706 parameters, all trainable, 4 bytes each', () => {
    expect(s.totalParams).toBe(669_706);
    expect(s.trainableParams).toBe(669_706);
    expect(s.paramBytes).toBe(669_706 * 4);
    expect(row(s, 'fc1').params).toBe(784 * 512 + 512);
    expect(row(s, 'fc3').params).toBe(512 * 10 + 10);
    expect(row(s, 'relu1').params).toBe(0);
  });

  it('gives the Linear layers 2 * N * in * out FLOPs', () => {
    const linear = s.rows.filter((r) => r.type === 'Linear').reduce((a, r) => a + r.flops, 0);
    expect(linear).toBe(2 * 64 * (784 * 512 + 512 * 512 + 512 * 10));
    expect(row(s, 'fc2').flops).toBe(2 * 64 * 512 * 512);
  });

  it('counts one FLOP per ReLU element, nothing for Flatten and Input, and sums every row', () => {
    expect(row(s, 'relu1').flops).toBe(64 * 512);
    expect(row(s, 'flatten').flops).toBe(0);
    expect(row(s, 'input').flops).toBe(0);
    expect(row(s, 'loss').flops).toBe(FLOPS_PER_ELEMENT.CrossEntropyLoss * 64 * 10);
    expect(s.totalFlops).toBe(s.rows.reduce((a, r) => a + r.flops, 0));
  });

  it('lists rows in topological order with batch-first shapes (the loss is a scalar)', () => {
    expect(s.rows.map((r) => r.nodeId)).toEqual(['input', 'flatten', 'fc1', 'relu1', 'fc2', 'relu2', 'fc3', 'loss']);
    expect(row(s, 'input').outShape).toEqual([64, 1, 28, 28]);
    expect(row(s, 'flatten').outShape).toEqual([64, 784]);
    expect(row(s, 'fc3').outShape).toEqual([64, 10]);
    expect(row(s, 'loss').outShape).toEqual([]);
    expect(row(s, 'fc1')).toMatchObject({ name: 'linear_relu_stack.0', type: 'Linear' });
  });

  it('estimates activations as every output in float32', () => {
    expect(s.activationBytes).toBe(4 * (64 * (784 + 784 + 4 * 512 + 10) + 1));
  });

  it('scales FLOPs and activations with the batch, not the parameters', () => {
    const one = summaryOf(template('quickstart'), 1);
    expect(one.totalParams).toBe(s.totalParams);
    expect(one.totalFlops * 64).toBe(s.totalFlops);
  });
});

describe('model summary: convolutions, pooling, normalisation', () => {
  it('LeNet-5: 61,706 parameters; conv FLOPs = 2 * Cout * Ho * Wo * Cin * kh * kw * N; pooling per window element', () => {
    const s = summaryOf(template('lenet5'), 8);
    expect(s.totalParams).toBe(61_706);
    const convs = s.rows.filter((r) => r.type === 'Conv2d');
    expect(convs[0].outShape).toEqual([8, 6, 28, 28]);
    expect(convs[0].params).toBe(6 * 25 + 6);
    expect(convs[0].flops).toBe(2 * 6 * 28 * 28 * 1 * 5 * 5 * 8);
    expect(convs[1].flops).toBe(2 * 16 * 10 * 10 * 6 * 5 * 5 * 8);
    const pool = s.rows.find((r) => r.type === 'MaxPool2d')!;
    expect(pool.outShape).toEqual([8, 6, 14, 14]);
    expect(pool.flops).toBe(6 * 14 * 14 * 2 * 2 * 8);
  });

  it('divides the conv input channels by groups', () => {
    const g = chain(node('in', 'Input', { shape: [4, 8, 8] }), node('c', 'Conv2d', { out_channels: 6, kernel_size: 3, groups: 2 }), node('f', 'Flatten'), node('loss', 'CrossEntropyLoss'));
    const s = summaryOf(g, 2);
    expect(row(s, 'c').params).toBe(6 * 2 * 3 * 3 + 6);
    expect(row(s, 'c').flops).toBe(2 * 6 * 6 * 6 * (4 / 2) * 3 * 3 * 2);
  });

  it('counts ConvTranspose2d on the input side', () => {
    const g = chain(
      node('in', 'Input', { shape: [4, 7, 7] }),
      node('up', 'ConvTranspose2d', { out_channels: 2, kernel_size: 4, stride: 2, padding: 1 }),
      node('f', 'Flatten'),
      node('loss', 'MSELoss'),
    );
    const s = summaryOf(g, 3);
    expect(row(s, 'up').outShape).toEqual([3, 2, 14, 14]);
    expect(row(s, 'up').params).toBe(4 * 2 * 4 * 4 + 2);
    expect(row(s, 'up').flops).toBe(2 * 4 * 7 * 7 * 2 * 4 * 4 * 3);
  });

  it('BatchNorm: weight and bias are parameters; running statistics count in paramBytes only', () => {
    const g = chain(node('in', 'Input', { shape: [3, 4, 4] }), node('bn', 'BatchNorm2d'), node('f', 'Flatten'), node('fc', 'Linear', { out_features: 2 }), node('loss', 'CrossEntropyLoss'));
    const s = summaryOf(g, 5);
    expect(row(s, 'bn').params).toBe(6);
    expect(row(s, 'bn').flops).toBe(FLOPS_PER_ELEMENT.BatchNorm2d * 3 * 4 * 4 * 5);
    const fcParams = 48 * 2 + 2;
    expect(s.totalParams).toBe(6 + fcParams);
    // + running_mean, running_var (f32) and num_batches_tracked (i64)
    expect(s.paramBytes).toBe((6 + fcParams) * 4 + 3 * 4 * 2 + 8);
  });

  it('Add counts one FLOP per element for each extra input (ResNet-8 totals add up)', () => {
    const s = summaryOf(template('resnet8'), 2);
    const add = s.rows.find((r) => r.type === 'Add')!;
    expect(add.flops).toBe(16 * 28 * 28 * 2);
    expect(s.totalParams).toBeGreaterThan(0);
    // the layer rows add up to the totals; a group's row (layer1, layer1.0) sums its own layers again
    const layers = s.rows.filter((r) => r.groupId === undefined);
    expect(s.totalFlops).toBe(layers.reduce((a, r) => a + r.flops, 0));
    expect(s.totalParams).toBe(layers.reduce((a, r) => a + r.params, 0));
    const layer2 = s.rows.find((r) => r.name === 'layer2')!;
    expect(layer2.params).toBe(layers.filter((r) => r.name.startsWith('layer2.')).reduce((a, r) => a + r.params, 0));
  });
});

describe('model summary: graphs with problems', () => {
  it('gives unknown shapes null and zero counts instead of throwing', () => {
    const g = chain(node('in', 'Input'), node('fc', 'Linear', { out_features: 10 }), node('relu', 'ReLU'), node('loss', 'CrossEntropyLoss'));
    const s = summaryOf(g, 4);
    expect(row(s, 'in').outShape).toEqual([4, 1, 28, 28]);
    expect(row(s, 'fc')).toMatchObject({ outShape: null, params: 0, flops: 0 });
    expect(row(s, 'relu')).toMatchObject({ outShape: null, params: 0, flops: 0 });
    expect(s.totalParams).toBe(0);
    expect(s.activationBytes).toBe(4 * 4 * 784);
  });
});
