/**
 * What the Training panel says about the graph and a checkpoint, against the real engine: a graph the engine
 * would refuse to train (its analysis lists a problem) blocks Start with that problem named, and a checkpoint
 * that fits is counted in layers with weights and tensors, not in the graph's nodes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';
import { saveSafetensors } from '../../engine/io/safetensors.js';
import { graphBlockingReason } from '../../renderer/state/training.js';
import { weightsCount } from '../../renderer/state/checkpointReport.js';

const service = new EngineService();

describe('graph errors block Start', () => {
  it('a clean graph does not; a mis-sized Linear does, naming it, and the engine refuses that graph too', async () => {
    const project = await service.getTemplate({ id: 'quickstart' });
    const clean = await service.analyze({ graph: project.graph, batchSize: 64 });
    expect(graphBlockingReason(clean.issues)).toBeNull();
    expect(graphBlockingReason(undefined)).toBeNull(); // not analysed yet: the engine still has the last word

    const broken = structuredClone(project);
    broken.graph.nodes.find((n) => n.name === 'linear_relu_stack.2')!.params.in_features = 7;
    const a = await service.analyze({ graph: broken.graph, batchSize: 64 });
    const reason = graphBlockingReason(a.issues);
    expect(reason).toMatch(/^Cannot start: /);
    expect(reason).toContain('linear_relu_stack.2');
    expect(reason).toBe(`Cannot start: ${a.issues[0].message}`);
    // what the button stands in for: the engine's refusal of the same graph
    await expect(service.startRun({ project: broken, overrides: { limitTrain: 64 } })).rejects.toMatchObject({ code: 'NL_BAD_GRAPH' });
  });
});

describe('a checkpoint that fits is counted in layers with weights and tensors', () => {
  const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((x, y) => x * y, 1)) });

  it('the quickstart: 8 nodes, 3 layers with weights, 6 tensors', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netloom-count-')), 'mlp.safetensors');
    await saveSafetensors(file, {
      'linear_relu_stack.0.weight': t([512, 784]), 'linear_relu_stack.0.bias': t([512]),
      'linear_relu_stack.2.weight': t([512, 512]), 'linear_relu_stack.2.bias': t([512]),
      'linear_relu_stack.4.weight': t([10, 512]), 'linear_relu_stack.4.bias': t([10]),
    });
    const { graph } = await service.getTemplate({ id: 'quickstart' });
    const r = await service.graphCheckpointReport({ graph, path: file });
    expect(r.ok).toBe(true);
    expect(r.nodes).toHaveLength(8);
    expect(weightsCount(r)).toBe('3 layers with weights, 6 tensors');
  });

  it('says one layer and one tensor in the singular, and a graph without weights as such', () => {
    const node = (keys: string[]) => ({ nodeId: 'n', name: 'n', type: 'T', keys, missing: [], unexpected: [], mismatched: [], ok: true });
    expect(weightsCount({ nodes: [node(['fc.weight']), node([])] })).toBe('1 layer with weights, 1 tensor');
    expect(weightsCount({ nodes: [node([]), node([])] })).toBe('no layer has weights');
  });
});
