/**
 * EngineService in process (no transport): the catalog as data for the palette and inspector,
 * analysis results, templates, and events. Every result must satisfy its api.ts schema.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../engine/graph/catalog.js';
import { API_VERSION, METHODS, type EngineEvent, type MethodName } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { layerDefaults } from '../../engine/host/catalog-dto.js';

const service = new EngineService();
const quickstart = () => JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));

function valid<M extends MethodName>(m: M, result: unknown) {
  const r = METHODS[m].result.safeParse(result);
  expect(r.success, r.success ? '' : r.error.message).toBe(true);
}

describe('getCatalog', () => {
  it('lists every catalog layer and satisfies the API schema', async () => {
    const layers = await service.getCatalog({});
    valid('getCatalog', layers);
    expect(layers.map((l) => l.type)).toEqual([...CATALOG.keys()]);
  });

  it("every layer's paramsSchema is a JSON Schema object and its defaults parse with the layer's zod schema", async () => {
    for (const l of await service.getCatalog({})) {
      const spec = CATALOG.get(l.type)!;
      expect(l.paramsSchema.type, l.type).toBe('object');
      expect(typeof l.paramsSchema.properties, l.type).toBe('object');
      expect(JSON.parse(JSON.stringify(l.paramsSchema))).toEqual(l.paramsSchema); // plain JSON
      const parsed = spec.params.safeParse(l.defaults);
      expect(parsed.success, `${l.type}: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      expect(parsed.data).toEqual(l.defaults);
      // every documented parameter appears in the schema, with its doc
      const props = l.paramsSchema.properties as Record<string, { description?: string }>;
      for (const [k, doc] of Object.entries(spec.paramDocs)) if (props[k]) expect(props[k].description).toBe(doc);
    }
  });

  it('Linear: PyTorch defaults, out_features required in the schema and started at 64', async () => {
    const linear = (await service.getCatalog({})).find((l) => l.type === 'Linear')!;
    expect(linear.defaults).toEqual({ in_features: 'auto', out_features: 64, bias: true });
    expect(linear.paramsSchema.required).toEqual(['out_features']);
    expect((linear.paramsSchema.properties as any).bias.default).toBe(true);
    expect(linear).toMatchObject({ group: 'Linear', arity: { min: 1, max: 1 }, ports: ['input'], isLoss: false });
  });

  it('fills the other required parameters sensibly', () => {
    const d = (t: string) => layerDefaults(CATALOG.get(t)!);
    expect(d('Conv2d')).toMatchObject({ out_channels: 64, kernel_size: 3, stride: 1, padding: 0 });
    expect(d('MaxPool2d')).toMatchObject({ kernel_size: 2, stride: null });
    expect(d('AdaptiveAvgPool2d')).toEqual({ output_size: 1 });
    expect(d('Reshape')).toEqual({ shape: [-1] });
    expect(d('Input')).toEqual({ shape: [1, 28, 28] });
    expect(d('CrossEntropyLoss')).toMatchObject({ reduction: 'mean', ignore_index: -100 });
  });

  it('marks losses', async () => {
    const layers = await service.getCatalog({});
    expect(layers.filter((l) => l.isLoss).map((l) => l.type)).toContain('CrossEntropyLoss');
  });
});

describe('analyze', () => {
  it('the quickstart at batch 64: shapes, counts, resolved params, summary', async () => {
    const a = await service.analyze({ graph: quickstart().graph, batchSize: 64 });
    valid('analyze', a);
    expect(a.batchSize).toBe(64);
    expect(a.issues).toEqual([]);
    const n = (id: string) => a.nodes.find((x) => x.id === id)!;
    expect(n('fc1')).toEqual({ id: 'fc1', outShape: [64, 512], paramCount: 401_920, resolved: { in_features: 784, out_features: 512, bias: true } });
    expect(n('loss').outShape).toEqual([]);
    expect(a.edges.map((e) => e.shape)).toEqual([[64, 1, 28, 28], [64, 784], [64, 512], [64, 512], [64, 512], [64, 512], [64, 10]]);
    expect(a.summary.totalParams).toBe(669_706);
  });

  it('a broken graph still answers, with issues and null shapes', async () => {
    const g = quickstart().graph;
    g.nodes.push({ id: 'x', type: 'Wobble', name: 'x', params: {} });
    g.nodes[2].params = { out_features: -1 };
    g.edges.push({ id: 'e9', source: 'input', target: 'ghost' });
    const a = await service.analyze({ graph: g, batchSize: 8 });
    valid('analyze', a);
    const codes = a.issues.map((i) => i.code);
    expect(codes).toEqual(expect.arrayContaining(['unknown-type', 'bad-param', 'dangling-edge']));
    expect(a.nodes.find((x) => x.id === 'fc1')).toMatchObject({ outShape: null, paramCount: 0 });
    expect(a.nodes.find((x) => x.id === 'x')).toMatchObject({ outShape: null, paramCount: 0 });
    expect(a.edges.find((e) => e.id === 'e9')!.shape).toEqual([8, 1, 28, 28]);
    expect(a.edges.find((e) => e.id === 'e3')!.shape).toBeNull();
  });

  it('a shape problem carries its one-click fix', async () => {
    const g = quickstart().graph;
    g.nodes[2].params = { in_features: 700, out_features: 512 };
    const a = await service.analyze({ graph: g, batchSize: 1 });
    expect(a.issues[0]).toMatchObject({ code: 'shape', nodeId: 'fc1', fix: { param: 'in_features', value: 784 } });
  });
});

describe('templates', () => {
  it('lists the templates, quickstart first, each with a dataset and a description', async () => {
    const list = await service.listTemplates({});
    valid('listTemplates', list);
    expect(list[0]).toMatchObject({ id: 'quickstart', name: 'PyTorch quickstart (FashionMNIST MLP)', dataset: 'fashion-mnist' });
    expect(list.map((t) => t.id).sort()).toEqual(['autoencoder', 'fashion-cnn', 'iris-mlp', 'lenet5', 'quickstart', 'resnet8']);
    expect(list.find((t) => t.id === 'iris-mlp')!.dataset).toBe('csv');
    expect(list.find((t) => t.id === 'lenet5')!.dataset).toBe('mnist');
    for (const t of list) expect(t.description.length).toBeGreaterThan(10);
  });

  it('getTemplate returns a valid project; unknown ids and paths are NL_INVALID_ARGUMENT', async () => {
    for (const t of await service.listTemplates({})) valid('getTemplate', await service.getTemplate({ id: t.id }));
    await expect(service.getTemplate({ id: 'nope' })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', hint: expect.stringContaining('quickstart') });
    // A new project from a template has no file yet: the template's data path comes back absolute, beside the template.
    const iris = (await service.getTemplate({ id: 'iris-mlp' })).training!.dataset as { type: string; path: string };
    expect(iris).toMatchObject({ type: 'csv', path: join(process.cwd(), 'assets', 'samples', 'iris.csv') });
    await expect(service.getTemplate({ id: '../../package' })).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT' });
  });
});

describe('hello, files and events', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-service-'));
    process.env.NETLOOM_CONFIG_DIR = join(dir, 'config');
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('hello names the API version and the package version', async () => {
    const h = await service.hello({});
    valid('hello', h);
    expect(h.apiVersion).toBe(API_VERSION);
    expect(h.version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('save and open emit recent.changed with the new list', async () => {
    const s = new EngineService();
    const events: EngineEvent[] = [];
    const off = s.onEvent((e) => events.push(e));
    const file = join(dir, 'a.json');
    valid('saveProject', await s.saveProject({ path: file, project: quickstart() }));
    valid('openProject', await s.openProject({ path: file }));
    expect(events).toEqual([
      { type: 'recent.changed', recent: [file] },
      { type: 'recent.changed', recent: [file] },
    ]);
    off();
    await s.saveProject({ path: join(dir, 'b.json'), project: quickstart() });
    expect(events).toHaveLength(2);
    expect(await s.recentProjects({})).toEqual([join(dir, 'b.json'), file]);
  });

  it('recovery round trip through the service', async () => {
    expect(await service.readRecovery({})).toBeNull();
    valid('writeRecovery', await service.writeRecovery({ project: quickstart(), path: null }));
    const r = await service.readRecovery({});
    valid('readRecovery', r);
    expect(r!.project.name).toBe('PyTorch quickstart (FashionMNIST MLP)');
    valid('clearRecovery', await service.clearRecovery({}));
    expect(await service.readRecovery({})).toBeNull();
  });

  it('listDir answers in the API shape', async () => {
    valid('listDir', await service.listDir({ path: dir }));
    await expect(service.listDir({ path: join(dir, 'missing') })).rejects.toMatchObject({ code: 'NL_IO' });
  });
});

describe('graphCheckpointReport', () => {
  it('compares a checkpoint with a graph as drawn, node by node, without a run', async () => {
    const { saveSafetensors } = await import('../../engine/io/safetensors.js');
    const service = new EngineService();
    const file = join(mkdtempSync(join(tmpdir(), 'netloom-ckpt-')), 'mlp.safetensors');
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    await saveSafetensors(file, {
      'linear_relu_stack.0.weight': t([512, 784]), 'linear_relu_stack.0.bias': t([512]),
      'linear_relu_stack.2.weight': t([512, 512]), 'linear_relu_stack.2.bias': t([512]),
      'linear_relu_stack.4.weight': t([10, 512]), 'linear_relu_stack.4.bias': t([10]),
    });
    const quickstart = await service.getTemplate({ id: 'quickstart' });
    const same = await service.graphCheckpointReport({ graph: quickstart.graph, path: file });
    expect(same.ok).toBe(true);
    expect(same.problems).toEqual([]);

    // one layer narrower: that node reports the mis-shaped keys, the others are fine
    const narrowed = structuredClone(quickstart.graph);
    narrowed.nodes.find((n) => n.name === 'linear_relu_stack.2')!.params.out_features = 256;
    const r = await service.graphCheckpointReport({ graph: narrowed, path: file });
    expect(r.ok).toBe(false);
    const node = r.nodes.find((n) => n.name === 'linear_relu_stack.2')!;
    expect(node.mismatched.map((m) => m.key)).toEqual(['linear_relu_stack.2.weight', 'linear_relu_stack.2.bias']);
    expect(r.nodes.find((n) => n.name === 'linear_relu_stack.0')!.ok).toBe(true);
  });
});
