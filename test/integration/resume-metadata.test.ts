/**
 * Issue 10, item 10: forged resume data. A training checkpoint's `netloom.*` metadata says where a
 * run stood; `netloom.epoch` = 2^53-1 used to be accepted ("epoch 9007199254740991/2"). Every
 * netloom.* field is checked when a checkpoint is read, and the position against the run it
 * resumes, each refusal naming the field.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { loadSafetensors, saveSafetensors } from '../../engine/io/safetensors.js';
import { TrainingRun } from '../../engine/train/run.js';
import { rejection } from '../support/rejection.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-resume-meta-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


async function run(): Promise<TrainingRun> {
  const p = JSON.parse(readFileSync(join(process.cwd(), 'assets', 'templates', 'quickstart.json'), 'utf8'));
  return TrainingRun.create(parseProjectText(JSON.stringify(p), 'quickstart (test)'), 'quickstart (test)', {
    dataset: 'mnist', limitTrain: 256, limitTest: 64, batchSize: 64, epochs: 2, optimizer: 'adam', lr: 1e-3, threads: 1,
  });
}

let good: string;
let meta: Record<string, string>;

beforeAllOrFail(async () => {
  await ensureBuiltin('mnist');
  const r = await run();
  good = join(tmp, 'good.safetensors');
  await r.saveCheckpoint(good, { which: 'last', withOptimizer: true });
  meta = (await loadSafetensors(good)).metadata;
  expect(meta['netloom.epoch']).toBe('0');
});

/** The good checkpoint with some metadata replaced (undefined deletes the key). */
async function forged(name: string, change: Record<string, string | undefined>): Promise<string> {
  const { tensors, metadata } = await loadSafetensors(good);
  const m: Record<string, string> = { ...metadata };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete m[k];
    else m[k] = v;
  }
  const file = join(tmp, `${name}.safetensors`);
  await saveSafetensors(file, tensors, m);
  return file;
}

describe('resuming from a checkpoint whose netloom.* metadata is forged', () => {
  it('the unforged checkpoint resumes', async () => {
    const r = await run();
    await r.loadCheckpoint(good, { resume: true });
    expect(r.position).toEqual({ epoch: 0, batch: 0, phase: 'train' });
  });

  it.each([
    ['epoch 2^53-1', { 'netloom.epoch': '9007199254740991' }, /netloom\.epoch must be a whole number from 0 to 2147483647, got "9007199254740991"/],
    ['epoch past the run', { 'netloom.epoch': '3' }, /netloom\.epoch is 3, but this run has 2 epochs/],
    ['epoch not a whole number', { 'netloom.epoch': '1e3' }, /netloom\.epoch must be a whole number from 0 to 2147483647, got "1e3"/],
    ['negative batch', { 'netloom.batch': '-1' }, /netloom\.batch must be a whole number/],
    ['batch past the epoch', { 'netloom.batch': '5' }, /netloom\.batch is 5, but an epoch of this run has 4 batches/],
    ['step out of range', { 'netloom.step': '9007199254740993' }, /netloom\.step must be a whole number from 0 to 9007199254740991, got "9007199254740993"/],
    ['unknown phase', { 'netloom.phase': 'eval' }, /netloom\.phase must be "train" or "test", got "eval"/],
    ['seed not a number', { 'netloom.seed': 'x' }, /netloom\.seed must be a whole number/],
    ['scheduler step', { 'netloom.scheduler_step': '0x10' }, /netloom\.scheduler_step must be a whole number/],
    ['optimizer not JSON', { 'netloom.optimizer': '{' }, /netloom\.optimizer is not valid JSON/],
    ['optimizer lr not positive', { 'netloom.optimizer': '{"type":"Adam","lr":-1}' }, /netloom\.optimizer: lr must be a finite positive number, got -1/],
    ['optimizer deeply nested', { 'netloom.optimizer': `{"type":"Adam","x":${'['.repeat(100)}${']'.repeat(100)}}` }, /netloom\.optimizer nests objects and lists more than 64 levels deep/],
    ['a very long field', { 'netloom.phase': 'x'.repeat(100_000) }, /netloom\.phase is 100000 characters long; at most \d+ are allowed/],
  ])('%s: NL_BAD_CHECKPOINT naming the field', async (name, change, message) => {
    const file = await forged(name.replace(/\W+/g, '-'), change);
    const r = await run();
    expect(await rejection(r.loadCheckpoint(file, { resume: true }))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringMatching(message) });
    expect(r.position).toEqual({ epoch: 0, batch: 0, phase: 'train' });
  });

  it('a forged field also stops a weights-only load and the load report (the file is damaged)', async () => {
    const file = await forged('report', { 'netloom.epoch': '9007199254740991' });
    const r = await run();
    expect(await rejection(r.loadCheckpoint(file))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringMatching(/netloom\.epoch/) });
    expect(await rejection(r.loadCheckpointReport(file))).toMatchObject({ code: 'NL_BAD_CHECKPOINT', message: expect.stringMatching(/netloom\.epoch/) });
  });
});
