import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyzeGraph, analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProjectText, type GraphDoc, type NodeDoc } from '../../engine/graph/document.js';

const quickstart = () => parseProjectText(readFileSync('assets/templates/quickstart.json', 'utf8'), 'quickstart.json');

const node = (id: string, type: string, params: Record<string, unknown> = {}): NodeDoc => ({ id, type, name: id, params });
const chain = (...nodes: NodeDoc[]): GraphDoc => ({
  nodes,
  edges: nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id })),
});

describe('shape inference', () => {
  it('infers the quickstart shapes and in_features', () => {
    const a = analyzeForTraining(quickstart().graph, 'q');
    const shape = (id: string) => a.byId.get(id)!.outShape;
    expect(shape('input')).toEqual([1, 28, 28]);
    expect(shape('flatten')).toEqual([784]);
    expect(shape('fc1')).toEqual([512]);
    expect(a.byId.get('fc1')!.params.in_features).toBe(784);
    expect(a.byId.get('fc2')!.params.in_features).toBe(512);
    expect(shape('fc3')).toEqual([10]);
  });

  it('reports a pinned in_features that disagrees, with both sizes and a fix', () => {
    const g = chain(node('in', 'Input'), node('flat', 'Flatten'), node('fc', 'Linear', { in_features: 700, out_features: 10 }), node('loss', 'CrossEntropyLoss'));
    const issues = analyzeGraph(g).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe('Linear at node fc: in_features is 700 but the incoming shape is [N,784]');
    expect(issues[0].fix).toEqual({ param: 'in_features', value: 784 });
  });

  it('asks for a Flatten before a Linear on images', () => {
    const g = chain(node('in', 'Input'), node('fc', 'Linear', { out_features: 10 }), node('loss', 'CrossEntropyLoss'));
    const [issue] = analyzeGraph(g).issues;
    expect(issue.nodeId).toBe('fc');
    expect(issue.hint).toMatch(/Flatten/);
  });

  it('Flatten honours start_dim/end_dim like torch', () => {
    const g = chain(node('in', 'Input', { shape: [3, 4, 5] }), node('flat', 'Flatten', { start_dim: 2 }), node('f2', 'Flatten'), node('fc', 'Linear', { out_features: 2 }), node('loss', 'CrossEntropyLoss'));
    const a = analyzeGraph(g);
    expect(a.issues).toEqual([]);
    expect(a.byId.get('flat')!.outShape).toEqual([3, 20]);
    expect(a.byId.get('f2')!.outShape).toEqual([60]);
  });
});

describe('structural problems', () => {
  const codes = (g: GraphDoc) => analyzeGraph(g).issues.map((i) => i.code);

  it('unknown layer types name the known ones', () => {
    const g = chain(node('in', 'Input'), node('c', 'Conv3d'), node('loss', 'CrossEntropyLoss'));
    const i = analyzeGraph(g).issues.find((x) => x.code === 'unknown-type')!;
    expect(i.message).toContain('"Conv3d"');
    expect(i.hint).toContain('Linear');
  });

  it('negative sizes are parameter errors on the node', () => {
    const g = chain(node('in', 'Input'), node('flat', 'Flatten'), node('fc', 'Linear', { out_features: -5 }), node('loss', 'CrossEntropyLoss'));
    const i = analyzeGraph(g).issues.find((x) => x.code === 'bad-param')!;
    expect(i.nodeId).toBe('fc');
    expect(i.message).toContain('out_features');
  });

  it('detects cycles, dangling edges, missing inputs and dead ends', () => {
    const base = chain(node('in', 'Input'), node('flat', 'Flatten'), node('fc', 'Linear', { out_features: 10 }), node('r', 'ReLU'), node('loss', 'CrossEntropyLoss'));
    expect(codes({ ...base, edges: [...base.edges.filter((e) => e.target !== 'fc'), { source: 'r', target: 'fc' }] })).toContain('cycle');
    expect(codes({ ...base, edges: [...base.edges, { id: 'bad', source: 'fc', target: 'nowhere' }] })).toContain('dangling-edge');
    expect(codes({ ...base, edges: base.edges.filter((e) => e.target !== 'r') })).toContain('missing-input');
    expect(codes({ nodes: [...base.nodes, node('extra', 'ReLU')], edges: [...base.edges, { source: 'fc', target: 'extra' }] })).toContain('unreachable');
    expect(codes({ nodes: base.nodes.filter((n) => n.id !== 'loss'), edges: base.edges.filter((e) => e.target !== 'loss') })).toContain('no-loss');
  });

  it('analyzeForTraining lists every problem in one NL_BAD_GRAPH error', () => {
    const g = chain(node('in', 'Input'), node('fc', 'Linear', { out_features: 0 }), node('x', 'Dense'));
    expect(() => analyzeForTraining(g, 'p.json')).toThrow(/p\.json: the network has \d+ problems/);
  });
});

describe('project files', () => {
  it('refuses files from a newer version, and invalid JSON, with the file name', () => {
    expect(() => parseProjectText('{"format":"netloom-project","version":99}', 'new.json')).toThrow(/newer Netloom/);
    expect(() => parseProjectText('{"format": ', 'broken.json')).toThrow(/broken\.json is not valid JSON/);
    expect(() => parseProjectText('{"format":"netloom-project","version":1,"graph":{"nodes":[{"id":"a"}],"edges":[]}}', 'x.json')).toThrow(/graph\.nodes\[0\]\.type/);
  });
});
