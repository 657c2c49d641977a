/**
 * EngineService in process (no transport): the catalog as data for the palette and inspector,
 * analysis results, templates, and events. Every result must satisfy its api.ts schema.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../engine/graph/catalog.js';
import { API_VERSION, ListKindDto, METHODS, checkRequest, type EngineEvent, type MethodName } from '../../engine/contract/api.js';
import { FILE_KINDS } from '../../engine/io/file-kinds.js';
import { EngineService } from '../../engine/host/service.js';
import { layerDefaults } from '../../engine/host/catalog-dto.js';
import { refusal } from '../support/rejection.js';
import { saveSafetensors } from '../../engine/io/safetensors.js';
import { MODULE_PREFIX_NOTE } from '../../engine/train/checkpoints.js';
import { buildExportInput } from '../../engine/train/export-input.js';
import { writeModelExport } from '../../engine/io/model-export.js';

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

  it('listDir lists the files of one kind beside the folders (the in-page chooser of Import and Export)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'netloom-list-'));
    mkdirSync(join(folder, 'sub'));
    for (const f of ['a.safetensors', 'b.PT', 'c.pth', 'pytorch_model.bin', 'd.onnx', 'p.netloom', 'notes.txt', 'id_rsa']) writeFileSync(join(folder, f), 'x');
    const names = async (kind?: ListKindDto) => (await service.listDir({ path: folder, ...(kind ? { kind } : {}) })).entries.map((e) => e.name);
    expect(await names()).toEqual(['sub', 'p.netloom']);
    expect(await names('weights')).toEqual(['sub', 'a.safetensors', 'b.PT', 'c.pth', 'd.onnx', 'pytorch_model.bin']);
    expect(await names('onnx')).toEqual(['sub', 'd.onnx']);
    expect(await names('folders')).toEqual(['sub']);
    // every kind the contract offers is one of the engine's file kinds (or folders alone)
    expect(ListKindDto.options.filter((k) => k !== 'folders').sort()).toEqual(Object.keys(FILE_KINDS).sort());
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
    // nothing to say about this file: the notes are there, empty
    expect(same.notes).toEqual([]);
    valid('graphCheckpointReport', same);
  });

  it("a DataParallel state dict ('module.' before every key) fits, and the report says the prefix was dropped", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netloom-ckpt-')), 'dp.safetensors');
    await saveSafetensors(file, Object.fromEntries(Object.entries(quickstartTensors()).map(([k, v]) => [`module.${k}`, v])));
    const r = await service.graphCheckpointReport({ graph: quickstart().graph, path: file });
    valid('graphCheckpointReport', r);
    expect(r).toMatchObject({ ok: true, problems: [], unassigned: [], resumable: false, notes: [MODULE_PREFIX_NOTE] });
  });

  it('resumable: a file with the training position (netloom.epoch alone, as a train.py checkpoint gives it) can resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netloom-ckpt-'));
    const epochOnly = join(dir, 'epoch.safetensors');
    await saveSafetensors(epochOnly, quickstartTensors(), { 'netloom.epoch': '2' });
    expect((await service.graphCheckpointReport({ graph: quickstart().graph, path: epochOnly })).resumable).toBe(true);
    const plain = join(dir, 'plain.safetensors');
    await saveSafetensors(plain, quickstartTensors(), { project: 'q' });
    expect((await service.graphCheckpointReport({ graph: quickstart().graph, path: plain })).resumable).toBe(false);
  });
});

/** The quickstart's state dict (zeros), as a file or an import would hold it. */
function quickstartTensors() {
  const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  return {
    'linear_relu_stack.0.weight': t([512, 784]), 'linear_relu_stack.0.bias': t([512]),
    'linear_relu_stack.2.weight': t([512, 512]), 'linear_relu_stack.2.bias': t([512]),
    'linear_relu_stack.4.weight': t([10, 512]), 'linear_relu_stack.4.bias': t([10]),
  };
}

describe('exportModel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-export-'));
  const csvProject = () => ({ ...quickstart(), training: { ...quickstart().training, dataset: { type: 'csv', path: 'data/iris.csv', label: 'species' } } });
  /** the iris template with its table at data/iris.csv, relative to the project's file */
  const irisProject = () => {
    const p = JSON.parse(readFileSync('assets/templates/iris-mlp.json', 'utf8'));
    p.training.dataset.path = 'data/iris.csv';
    return p;
  };

  it('the contract: a run (its weights) or a project (code only), one of four formats', () => {
    expect(checkRequest('exportModel', { format: 'onnx', path: '/a/m.onnx', runId: 'run-1' })).toMatchObject({ ok: true, params: { which: 'last', withOptimizer: false } });
    expect(checkRequest('exportModel', { format: 'pytorch', path: '/a/code', project: quickstart() }).ok).toBe(true);
    expect(checkRequest('exportModel', { format: 'onnx', path: '/a/m.onnx' })).toMatchObject({ ok: false, error: { code: 'NL_BAD_REQUEST', message: expect.stringContaining('give runId') } });
    expect(checkRequest('exportModel', { format: 'keras', path: '/a/m.h5', runId: 'run-1' })).toMatchObject({ ok: false, error: { code: 'NL_BAD_REQUEST' } });
  });

  it('refuses what needs weights when there is no run, and optimizer state outside a checkpoint, before touching a file', async () => {
    for (const format of ['safetensors', 'pt', 'onnx'] as const)
      expect(await refusal(service.exportModel({ format, path: join(dir, 'never'), project: quickstart() }))).toMatchObject({
        code: 'NL_INVALID_ARGUMENT', message: expect.stringMatching(/needs trained weights, and this project has no run/), hint: expect.stringContaining('PyTorch code exports without weights'),
      });
    expect(await refusal(service.exportModel({ format: 'pytorch', path: join(dir, 'code'), project: quickstart(), withOptimizer: true }))).toMatchObject({
      code: 'NL_INVALID_ARGUMENT', message: 'the optimizer state goes into a checkpoint (safetensors or .pt), not into PyTorch code',
    });
    expect(await refusal(service.exportModel({ format: 'onnx', path: join(dir, 'm.onnx'), runId: 'run-99' }))).toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: 'there is no run "run-99"' });
    expect(existsSync(join(dir, 'never')) || existsSync(join(dir, 'code'))).toBe(false);
  });

  it('PyTorch code goes into a folder, never over a file', async () => {
    const file = join(dir, 'taken');
    writeFileSync(file, 'notes');
    expect(await refusal(service.exportModel({ format: 'pytorch', path: file, project: quickstart() }))).toMatchObject({
      code: 'NL_IO', message: `Could not export PyTorch code to ${file}: it is a file, not a folder`,
    });
    expect(readFileSync(file, 'utf8')).toBe('notes');
  });

  it('without a run, PyTorch code is exported from the project (no model.pt), its dataset located beside its file', async () => {
    // the iris project saved in <dir>/iris with its table in <dir>/iris/data: the export reads the table's header
    // and statistics (its standardisation) from there, so a wrongly located path fails here
    const projectPath = join(dir, 'iris', 'iris.netloom');
    mkdirSync(join(dir, 'iris', 'data'), { recursive: true });
    copyFileSync('assets/samples/iris.csv', join(dir, 'iris', 'data', 'iris.csv'));
    const r = await service.exportModel({ format: 'pytorch', path: join(dir, 'iris-code'), project: irisProject(), projectPath });
    valid('exportModel', r);
    expect(r.files).toEqual(expect.arrayContaining([join(dir, 'iris-code', 'model.py'), join(dir, 'iris-code', 'train.py')]));
    expect(r.files.every((f) => existsSync(f))).toBe(true);
    expect(existsSync(join(dir, 'iris-code', 'model.pt'))).toBe(false); // no weights: code only
    // train.py reads the table where the project's file says it is
    expect(readFileSync(join(dir, 'iris-code', 'train.py'), 'utf8')).toContain(`CSV_PATH = ${JSON.stringify(join(dir, 'iris', 'data', 'iris.csv'))}`);
  });

  it('an unsaved project whose dataset path is relative is refused: there is no folder to resolve it against', async () => {
    expect(await refusal(service.exportModel({ format: 'pytorch', path: join(dir, 'c2'), project: csvProject() }))).toMatchObject({
      code: 'NL_INVALID_ARGUMENT', message: expect.stringContaining('"data/iris.csv" is relative'),
    });
  });
});

describe('importOnnx', () => {
  const importsDir = mkdtempSync(join(tmpdir(), 'netloom-imports-'));

  it('reads ONNX models only from .onnx files, before touching the file system', async () => {
    const s = new EngineService({ importsDir });
    expect(await refusal(s.importOnnx({ path: join(importsDir, 'no-such-dir', 'model.pt') }))).toMatchObject({
      code: 'NL_UNSUPPORTED', message: 'Netloom reads ONNX models only from .onnx files, and model.pt is not one',
    });
  });

  it('hands the project to the canvas and its weights over as a file the per-node report loads; close() removes that file', async () => {
    // a real ONNX model: the quickstart with its (zero) weights, as File ▸ Export writes it
    const onnx = join(importsDir, 'mlp.onnx');
    const weights = new Map(Object.entries(quickstartTensors()).map(([k, t]) => [k, t.data]));
    await writeModelExport('onnx', await buildExportInput(quickstart(), join(importsDir, 'mlp.json'), { weights }), onnx);
    const s = new EngineService({ importsDir: join(importsDir, 'sub') });
    const r = await s.importOnnx({ path: onnx });
    valid('importOnnx', r);
    expect(r.project.graph.nodes.filter((n) => n.type === 'Linear')).toHaveLength(3);
    expect(r.notes.length).toBeGreaterThan(0); // what the import assumed (the loss, at least)
    expect(dirname(r.weights)).toBe(join(importsDir, 'sub'));
    expect(r.weights).toMatch(/-[0-9a-f]{8}\.safetensors$/);
    const report = await s.graphCheckpointReport({ graph: r.project.graph, path: r.weights });
    expect(report).toMatchObject({ ok: true, problems: [], unassigned: [] });
    // a second import gets a file of its own; shutting the engine down removes both, and only them
    const again = await s.importOnnx({ path: onnx });
    expect(again.weights).not.toBe(r.weights);
    await s.close();
    expect(existsSync(r.weights) || existsSync(again.weights)).toBe(false);
    expect(existsSync(onnx)).toBe(true);
    await s.close(); // twice is fine
  });
});

describe('reading weights of every format the engine reads', () => {
  it('checkpoint reports take .pt, .pth, .bin and .onnx names; other names are refused by their extension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netloom-weights-'));
    const graph = quickstart().graph;
    for (const name of ['m.pt', 'm.pth', 'pytorch_model.bin', 'm.onnx']) {
      // the name passes; the missing file is the reader's to report (not a refusal of the name)
      const r = await refusal(service.graphCheckpointReport({ graph, path: join(dir, name) }));
      expect(r.message, name).not.toMatch(/reads checkpoints only from/);
    }
    expect(await refusal(service.graphCheckpointReport({ graph, path: join(dir, 'm.h5') }))).toMatchObject({
      code: 'NL_UNSUPPORTED', message: 'Netloom reads checkpoints only from .safetensors, .pt, .pth, .bin, .onnx files, and m.h5 is not one',
    });
  });
});
