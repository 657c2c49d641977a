/**
 * What a client of the engine (a browser tab holding the token, the desktop window) may touch on disk,
 * through the real EngineService on real files: it writes only files of Netloom's own kinds
 * (projects, .safetensors and .pt/.pth checkpoints) and never replaces an existing file unless the call says
 * `overwrite` (the UI asks first); it reads only files of the kind each method takes (projects,
 * checkpoints, CSV tables), regular files only; and a refused file's bytes never appear in an error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { EngineService } from '../../engine/host/service.js';
import { refusal } from '../support/rejection.js';

const SECRET = 'SECRET-7f3a-do-not-echo';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-file-guards-'));
const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
const s = new EngineService();
let runId: string;

/** A file with given bytes; returns its path. */
function file(name: string, content: string | Buffer = `${SECRET}\n`): string {
  const f = join(tmp, name);
  writeFileSync(f, content);
  return f;
}

const snapshot = (f: string) => ({ bytes: readFileSync(f), mtime: statSync(f).mtimeMs });

beforeAllOrFail(async () => {
  process.env.NETLOOM_CONFIG_DIR = join(tmp, 'config');
  // a run that exists without training: the iris template's tiny CSV, weights as initialised
  const project = await s.getTemplate({ id: 'iris-mlp' });
  runId = (await s.startRun({ project, evaluateOnly: true })).runId;
});

afterAll(async () => {
  await s.closeRun({ runId }).catch(() => {});
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
});

describe('writes: only our kinds, never over an existing file unless asked', () => {
  it('saveRunCheckpoint onto a .txt leaves the .txt as it was and writes a .safetensors beside it', async () => {
    const notes = file('notes.txt');
    const before = snapshot(notes);
    const r = await s.saveRunCheckpoint({ runId, path: notes, overwrite: true });
    expect(r.path).toBe(`${notes}.safetensors`);
    expect(existsSync(r.path)).toBe(true);
    expect(snapshot(notes)).toEqual(before);
    // a name without an extension gets .safetensors, too
    expect((await s.saveRunCheckpoint({ runId, path: join(tmp, 'weights') })).path).toBe(join(tmp, 'weights.safetensors'));
  });

  it('saveRunCheckpoint keeps a .pt/.pth name (PyTorch\'s zip, resumable with the optimizer state); other names get .safetensors', async () => {
    for (const name of ['plain.pt', 'plain.PTH']) {
      const r = await s.saveRunCheckpoint({ runId, path: join(tmp, name) });
      expect(r.path).toBe(join(tmp, name));
      expect(readFileSync(r.path).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04'); // torch.save's zip
    }
    const resumable = await s.saveRunCheckpoint({ runId, path: join(tmp, 'resume.pth'), withOptimizer: true });
    expect(resumable.path).toBe(join(tmp, 'resume.pth'));
    expect(await s.checkpointReport({ runId, path: resumable.path, dryRun: true })).toMatchObject({ ok: true, resumable: true, loaded: false });
    expect((await s.saveRunCheckpoint({ runId, path: join(tmp, 'model.pt.bak') })).path).toBe(join(tmp, 'model.pt.bak.safetensors'));
  });

  it('saveRunCheckpoint refuses an existing checkpoint without overwrite (NL_EXISTS, file unchanged); with it, replaces it', async () => {
    const ckpt = join(tmp, 'model.safetensors');
    await s.saveRunCheckpoint({ runId, path: ckpt });
    const before = snapshot(ckpt);
    const e = await refusal(s.saveRunCheckpoint({ runId, path: ckpt }));
    expect(e.code).toBe('NL_EXISTS');
    expect(e.message).toContain(ckpt);
    expect(e.hint).toMatch(/another name|replace/i);
    expect(snapshot(ckpt)).toEqual(before);
    expect((await s.saveRunCheckpoint({ runId, path: ckpt, which: 'last', withOptimizer: true, overwrite: true })).path).toBe(ckpt);
    expect(readFileSync(ckpt).equals(before.bytes)).toBe(false); // now with the optimizer's position
  });

  it('saveProject refuses an existing project file without overwrite; with it, replaces it', async () => {
    const project = await s.getTemplate({ id: 'quickstart' });
    const target = join(tmp, 'mine.netloom');
    await s.saveProject({ path: target, project });
    const before = snapshot(target);
    const e = await refusal(s.saveProject({ path: target, project: { ...project, name: 'Other' } }));
    expect(e.code).toBe('NL_EXISTS');
    expect(snapshot(target)).toEqual(before);
    await s.saveProject({ path: target, project: { ...project, name: 'Other' }, overwrite: true });
    expect(JSON.parse(readFileSync(target, 'utf8')).name).toBe('Other');
  });

  it('saveProject onto a .txt leaves it as it was', async () => {
    const notes = file('project-notes.txt');
    const before = snapshot(notes);
    const r = await s.saveProject({ path: notes, project: await s.getTemplate({ id: 'quickstart' }), overwrite: true });
    expect(r.path).toBe(`${notes}.json`);
    expect(snapshot(notes)).toEqual(before);
  });

  it('never replaces a folder or a FIFO, overwrite or not', async () => {
    mkdirSync(join(tmp, 'dir.safetensors'));
    execFileSync('mkfifo', [join(tmp, 'pipe.safetensors')]);
    for (const target of [join(tmp, 'dir.safetensors'), join(tmp, 'pipe.safetensors')]) {
      const e = await refusal(s.saveRunCheckpoint({ runId, path: target, overwrite: true }));
      expect(e.code, target).toBe('NL_IO');
    }
    expect(statSync(join(tmp, 'dir.safetensors')).isDirectory()).toBe(true);
    expect(statSync(join(tmp, 'pipe.safetensors')).isFIFO()).toBe(true);
  });
});

describe('reads: only the kind each method takes, and never a refused file\'s bytes', () => {
  it('openProject: a file of another kind is refused before it is read', async () => {
    for (const name of ['notes.txt', 'id_rsa', 'weights.safetensors']) {
      const e = await refusal(s.openProject({ path: file(name) }));
      expect(e.code, name).toBe('NL_UNSUPPORTED');
      expect(e.message).toContain(name);
      expect(e.hint).toMatch(/\.netloom/);
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
  });

  it('openProject: a project file that is not JSON is refused without echoing its bytes', async () => {
    for (const [name, text] of [
      ['plain.json', `${SECRET} and more`],
      ['tail.json', `{"a": 1, "b": ${SECRET}}`],
      ['long.json', `${'x'.repeat(200)}${SECRET}${'y'.repeat(200)}`],
      ['string.netloom', `"${SECRET}`],
    ]) {
      const e = await refusal(s.openProject({ path: file(name, text) }));
      expect(e.code, name).toBe('NL_BAD_PROJECT');
      expect(e.message, name).toMatch(/is not valid JSON.*line \d+, column \d+/);
      expect(JSON.stringify(e), name).not.toMatch(/SECRET|xxx|yyy|and more/);
    }
  });

  it('csvPreview: only .csv and .tsv regular files', async () => {
    for (const name of ['notes.txt', 'id_rsa', 'creds.json']) {
      const e = await refusal(s.csvPreview({ path: file(name, `a,b\n${SECRET},1\n`) }));
      expect(e.code, name).toBe('NL_UNSUPPORTED');
      expect(e.hint).toMatch(/\.csv/);
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
    mkdirSync(join(tmp, 'folder.csv'));
    execFileSync('mkfifo', [join(tmp, 'pipe.csv')]);
    for (const name of ['folder.csv', 'pipe.csv']) expect((await refusal(s.csvPreview({ path: join(tmp, name) }))).code, name).toBe('NL_IO');
    const ok = await s.csvPreview({ path: file('table.tsv', 'x\ty\n1\t2\n') });
    expect(ok.columns.map((c) => c.name)).toEqual(['x', 'y']);
  });

  it('datasetInfo and startRun: a CSV dataset must be a .csv or .tsv file', async () => {
    const dataset = { type: 'csv', path: file('data.txt', `a,b\n${SECRET},1\n`), label: 'b' };
    const e = await refusal(s.datasetInfo({ dataset }));
    expect(e.code).toBe('NL_UNSUPPORTED');
    expect(JSON.stringify(e)).not.toContain(SECRET);
    const project = await s.getTemplate({ id: 'iris-mlp' });
    const e2 = await refusal(s.startRun({ project: { ...project, training: { ...project.training, dataset: { ...(project.training!.dataset as object), path: dataset.path } } }, evaluateOnly: true }));
    expect(e2.code).toBe('NL_UNSUPPORTED');
  });

  it('checkpoint readers: the weights names (.safetensors, .pt, .pth, .bin, .onnx) are read by their bytes, another name is refused unread; no bytes are echoed', async () => {
    const notes = file('ckpt-notes.txt');
    const graph = (await s.getTemplate({ id: 'iris-mlp' })).graph;
    for (const call of [() => s.checkpointReport({ runId, path: notes, dryRun: true }), () => s.graphCheckpointReport({ graph, path: notes })]) {
      const e = await refusal(call());
      expect(e).toMatchObject({ code: 'NL_UNSUPPORTED', message: 'Netloom reads checkpoints only from .safetensors, .pt, .pth, .bin, .onnx files, and ckpt-notes.txt is not one' });
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
    // each accepted name gets to the readers, which tell the format from the bytes: these are no weights of any format
    for (const ext of ['.safetensors', '.pt', '.pth', '.bin', '.onnx', '.PT']) {
      const bogus = file(`bogus${ext}`);
      for (const call of [() => s.checkpointReport({ runId, path: bogus, dryRun: true }), () => s.graphCheckpointReport({ graph, path: bogus })]) {
        const e = await refusal(call());
        expect(e.code, ext).not.toBe('NL_UNSUPPORTED');
        expect(e.message, ext).not.toMatch(/reads checkpoints only from/);
        expect(JSON.stringify(e), ext).not.toContain(SECRET);
      }
    }
    // and real weights under each PyTorch name are read: the run's own, saved as .pt and as .pth
    for (const name of ['real.pt', 'real.pth']) {
      const saved = (await s.saveRunCheckpoint({ runId, path: join(tmp, name) })).path;
      expect(await s.graphCheckpointReport({ graph, path: saved })).toMatchObject({ ok: true, problems: [], notes: [] });
    }
    const header = Buffer.from(`{"w": ${SECRET}}`);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const damaged = file('damaged.safetensors', Buffer.concat([len, header]));
    for (const call of [() => s.checkpointReport({ runId, path: damaged, dryRun: true }), () => s.graphCheckpointReport({ graph, path: damaged })]) {
      const e = await refusal(call());
      expect(e.code).toBe('NL_BAD_CHECKPOINT');
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
    const project = await s.getTemplate({ id: 'iris-mlp' });
    expect((await refusal(s.startRun({ project, checkpoint: { path: notes, resume: false }, evaluateOnly: true }))).code).toBe('NL_UNSUPPORTED');
  });
});
