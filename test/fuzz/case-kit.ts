/**
 * What every case group shares: the context a case is made in, the group type, the tiny run limits,
 * and the helpers that damage a project, choose a checkpoint or a write target, and finish a run.
 */
import * as path from 'node:path';
import type { Corpus, SeedCheckpoint } from './corpus.js';
import type { Gen } from './gen.js';
import type { Case, Target } from './harness.js';
import { mutateBytes } from './mutate-bytes.js';
import { mutateJson, Raw, textQuirk, toJsonText, type JsonLike } from './mutate-json.js';
import { mutateProject } from './mutate-project.js';
import type { Sandbox } from './sandbox.js';

export interface CaseContext {
  sb: Sandbox;
  corpus: Corpus;
  /** Iris weights trained by `netloom train --save`, and a resumable checkpoint saved by serve */
  irisCheckpoint: SeedCheckpoint;
  resumableCheckpoint: SeedCheckpoint;
  /** an evaluate-only Iris run kept open in serve (checkpointReport, predict, ... need a run) */
  baseRunId(): string;
  /** CLI results to compare with serve's openProject of the same file (issue 10 item 7: one reader) */
  compare: { group: string; seed: number; input: string; file: string; cliCode: string | undefined }[];
}

export interface Group {
  channel: 'cli' | 'serve';
  cases: number;
  make(g: Gen, ctx: CaseContext, seed: number): Case;
}

export const TINY_RUN = { epochs: 1, limitTrain: 32, limitTest: 32 };
export const TINY_FLAGS = ['--epochs', '1', '--limit-train', '32', '--limit-test', '32', '--threads', '1'];

export const caseDir = (ctx: CaseContext, group: string, seed: number) => path.join(ctx.sb.inputs, `${group}-${seed}`);

/** The text as JSON to embed in a message, when it parses (a BOM or damage makes it unsendable as an object). */
export function asJsonText(text: string): string | undefined {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/** A project's graph as JSON text, when it has one that can be written. */
export function graphText(doc: JsonLike | undefined, text: string): string | undefined {
  if (doc !== undefined && doc !== null && typeof doc === 'object' && !Array.isArray(doc) && !(doc instanceof Raw) && 'graph' in doc) return toJsonText((doc as Record<string, JsonLike>).graph);
  try {
    const g = (JSON.parse(text) as { graph?: unknown })?.graph;
    return g === undefined ? undefined : JSON.stringify(g);
  } catch {
    return undefined; // not JSON, or too deep for JSON.stringify here
  }
}

/** Nothing the fuzzer makes may download: a forged `"download": true` is turned off. */
const noDownload = (text: string) => text.replace(/"download"\s*:\s*true/g, '"download":false');

export function damagedProject(g: Gen, corpus: Corpus): { bytes: Uint8Array; text: string; doc?: JsonLike; what: string } {
  const seed = g.pick(corpus.projects);
  const mode = g.weighted([[5, 'structure'], [3, 'json'], [2, 'bytes'], [1, 'both']] as const);
  const what = [`project ${seed.name}`, mode];
  const doc = JSON.parse(JSON.stringify(seed.json)) as JsonLike;
  if (mode === 'bytes') {
    const other = Buffer.from(JSON.stringify(g.pick(corpus.projects).json));
    const r = mutateBytes(g, Buffer.from(JSON.stringify(seed.json, null, 2)), { other });
    const text = noDownload(Buffer.from(r.bytes).toString('utf8'));
    return { bytes: Buffer.from(text, 'utf8'), text, what: [...what, ...r.what].join('; ') };
  }
  if (mode !== 'json') what.push(...mutateProject(g, doc as Record<string, JsonLike>, corpus.paths));
  if (mode !== 'structure') what.push(...mutateJson(g, doc));
  let text = toJsonText(doc);
  if (g.chance(0.08)) {
    const q = textQuirk(g, text);
    text = q.text;
    what.push(q.what);
  }
  text = noDownload(text);
  return { bytes: Buffer.from(text, 'utf8'), text, doc, what: what.join('; ') };
}

export function pickCheckpoint(g: Gen, ctx: CaseContext): SeedCheckpoint {
  return g.weighted([[5, ctx.irisCheckpoint], [3, ctx.resumableCheckpoint], [1, g.pick(ctx.corpus.checkpoints)]] as const);
}

/**
 * A path in out/ to write to: new names, a folder, a missing folder and, for the API only (`decoys`),
 * files of other kinds, which a client of serve may not overwrite (issue 10 item 13). On the command
 * line the user names the file, and `--save notes.txt` writes notes.txt.
 */
export function writeTarget(g: Gen, ctx: CaseContext, seed: number, ext: string, decoys: boolean): string {
  const out = ctx.sb.out;
  return g.weighted([
    [8, path.join(out, `${seed}${ext}`)],
    [1, path.join(out, `${seed}`)],
    [decoys ? 1 : 0, g.pick(ctx.sb.decoys)],
    [1, path.join(out, 'folder.json')],
    [1, path.join(out, 'missing', `${seed}${ext}`)],
    [1, path.join(out, `${'ü'.repeat(3)} ${seed}${ext}`)],
  ] as const);
}

/**
 * After a startRun: pause and resume it with a new lr (`hyperLr`), wait for it, then look at what it
 * learned (evaluation, one confusion cell, the dataset, a prediction of `features` when given) and close it.
 */
export async function afterStart(t: Target, reply: { result?: unknown }, o: { hyperLr?: number; features?: number[] } = {}): Promise<void> {
  const runId = (reply.result as { runId?: string } | undefined)?.runId;
  if (!runId) return;
  if (o.hyperLr !== undefined) {
    await t.call('pauseRun', JSON.stringify({ runId }));
    await t.call('resumeRun', JSON.stringify({ runId, hyper: { lr: o.hyperLr } }));
  }
  await t.finishRun(runId, async () => {
    await t.call('evaluateRun', JSON.stringify({ runId }));
    await t.call('runSamples', JSON.stringify({ runId, actual: 0, predicted: 0, limit: 3 }));
    await t.call('datasetInfo', JSON.stringify({ runId, rows: 3, perClass: 1 }));
    if (o.features) await t.call('predict', JSON.stringify({ runId, features: o.features }));
  });
}
