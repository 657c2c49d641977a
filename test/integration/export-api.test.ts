/**
 * File ▸ Export's checkpoint formats through EngineService with a real (tiny) run: the run's weights written as
 * safetensors and as .pt (through the run's own checkpoint writer, so a resumable file is what Save checkpoint
 * writes), names given the format's extension, existing files replaced only on request, and each file read back
 * as weights by the per-node report and by a run started from it, with what the load said (startRun's notes).
 * (ONNX and PyTorch code through the UI: test/e2e/export-import.spec.ts; through the service: test/unit/service.test.ts.)
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import type { EngineEvent } from '../../engine/contract/api.js';
import { EngineService } from '../../engine/host/service.js';
import { refusal } from '../support/rejection.js';
import { saveSafetensors } from '../../engine/io/safetensors.js';
import { MODULE_PREFIX_NOTE, readCheckpoint } from '../../engine/train/checkpoints.js';
import { startServer } from '../../engine/host/serve.js';
import { connectApi } from './ws-client.js';

const quickstart = () => {
  const p = JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));
  p.training.dataset = 'mnist';
  return p;
};
const dir = mkdtempSync(join(tmpdir(), 'netloom-export-api-'));
const service = new EngineService();
let runId: string;

/** Starts a run of one short epoch and waits until it has finished. */
async function finishedRun(): Promise<string> {
  const done = new Promise<string>((resolve, reject) => {
    const off = service.onEvent((e: EngineEvent) => {
      if (e.type !== 'run.state' || (e.state !== 'finished' && e.state !== 'failed')) return;
      off();
      if (e.state === 'finished') resolve(e.runId);
      else reject(new Error(`the run failed: ${e.error?.message}`));
    });
  });
  const { runId: id } = await service.startRun({ project: quickstart(), overrides: { epochs: 1, limitTrain: 256, limitTest: 128, eventIntervalMs: 0 } });
  expect(await done).toBe(id);
  return id;
}

beforeAll(async () => {
  await ensureBuiltin('mnist');
  runId = await finishedRun();
});

afterAll(async () => {
  await service.closeRun({ runId }).catch(() => undefined);
});

describe('exportModel with a run', () => {
  it('safetensors with the optimizer state: a resumable file the load report accepts', async () => {
    const r = await service.exportModel({ format: 'safetensors', path: join(dir, 'resume'), runId, withOptimizer: true });
    expect(r.files).toEqual([join(dir, 'resume.safetensors')]);
    const report = await service.checkpointReport({ runId, path: r.files[0]!, dryRun: true });
    expect(report).toMatchObject({ ok: true, resumable: true, loaded: false }); // (plain SGD keeps no per-parameter state)
  });

  it('.pt: the name gets the extension; the file is read back as weights by the report and by a run', async () => {
    const r = await service.exportModel({ format: 'pt', path: join(dir, 'mlp'), runId });
    expect(r.files).toEqual([join(dir, 'mlp.pt')]);
    const graph = quickstart().graph;
    expect(await service.graphCheckpointReport({ graph, path: r.files[0]! })).toMatchObject({ ok: true, resumable: false, problems: [] });
    // a run started from it has exactly the exported weights: its evaluation equals the original's
    const original = await service.evaluateRun({ runId });
    const { runId: again } = await service.startRun({ project: quickstart(), overrides: { limitTest: 128 }, checkpoint: { path: r.files[0]!, resume: false }, evaluateOnly: true });
    expect((await service.evaluateRun({ runId: again })).avgLoss).toBe(original.avgLoss);
    await service.closeRun({ runId: again });
  });

  it("startRun says what loading its checkpoint said: a DataParallel file's 'module.' prefix dropped; nothing without a note", async () => {
    const pt = (await service.exportModel({ format: 'pt', path: join(dir, 'dp-source.pt'), runId })).files[0]!;
    const { tensors } = await readCheckpoint(pt);
    const dp = join(dir, 'dp.safetensors');
    await saveSafetensors(dp, Object.fromEntries(Object.entries(tensors).map(([k, t]) => [`module.${k}`, t])));
    for (const [path, notes] of [[dp, [MODULE_PREFIX_NOTE]], [pt, []]] as const) {
      const started = await service.startRun({ project: quickstart(), overrides: { limitTest: 128 }, checkpoint: { path, resume: false }, evaluateOnly: true });
      expect(started.notes, path).toEqual(notes);
      await service.closeRun({ runId: started.runId });
    }
  });

  it('an existing file is replaced only with overwrite; the best epoch has no optimizer state to export', async () => {
    const file = join(dir, 'twice.safetensors');
    await service.exportModel({ format: 'safetensors', path: file, runId });
    expect(await refusal(service.exportModel({ format: 'safetensors', path: file, runId }))).toMatchObject({ code: 'NL_EXISTS', message: `${file} already exists` });
    expect((await service.exportModel({ format: 'safetensors', path: file, runId, overwrite: true })).files).toEqual([file]);
    expect(await refusal(service.exportModel({ format: 'pt', path: join(dir, 'best.pt'), runId, which: 'best', withOptimizer: true }))).toMatchObject({
      code: 'NL_INVALID_ARGUMENT', message: 'the optimizer state is kept for the last weights only',
    });
    expect(existsSync(join(dir, 'best.pt'))).toBe(false);
  });
});

describe('File ▸ Import ▸ ONNX Model through netloom serve', () => {
  it("the imported weights' temporary file lives until the server stops, then is removed", async () => {
    const onnx = (await service.exportModel({ format: 'onnx', path: join(dir, 'served.onnx'), runId })).files[0]!;
    // the server's own service puts its imports under the temporary folder of the moment (os.tmpdir)
    const temp = mkdtempSync(join(tmpdir(), 'netloom-serve-temp-'));
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    const server = await startServer({ port: 0, log: () => undefined });
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    const client = await connectApi(server);
    try {
      const reply = await client.call('importOnnx', { path: onnx });
      const weights: string = reply.result.weights;
      expect(weights.startsWith(join(temp, 'netloom-imports'))).toBe(true);
      expect(existsSync(weights)).toBe(true);
      // still there for the canvas to compare and load
      expect((await client.call('graphCheckpointReport', { graph: reply.result.project.graph, path: weights })).result).toMatchObject({ ok: true });
      client.close();
      await server.close();
      expect(existsSync(weights)).toBe(false);
      expect(existsSync(onnx)).toBe(true);
    } finally {
      client.close();
      await server.close();
    }
  });
});
