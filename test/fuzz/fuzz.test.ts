/**
 * The seeded fuzzer (issue 10): a few thousand damaged project files, checkpoints, CSV files and
 * API messages, run against the `netloom` command line and a running `netloom serve`. It passes
 * when no case ends in a signal, a hang or an internal error, serve answers after every case and
 * exits cleanly at the end, no file outside the places the fuzzer named changed, and the case
 * oracles hold (oracle.ts: readers refuse what they must, no foreign file's bytes in a reply, the
 * CLI and the app agree on a project file).
 *
 * Every case comes from one number, its seed (the run's seed + the case's index in its group), and
 * nothing else: a failure prints the command that replays it alone:
 *
 *   NETLOOM_FUZZ_SEED=<case seed> NETLOOM_FUZZ_CASES=1 NETLOOM_FUZZ_GROUPS=<group> npx vitest run test/fuzz
 *
 *   NETLOOM_FUZZ_SEED    first case seed (default: a fixed one, so CI runs the same cases every time)
 *   NETLOOM_FUZZ_CASES   cases per group (default: each group's own count; about 3,170 in all, 104 of
 *                        them CLI commands)
 *   NETLOOM_FUZZ_GROUPS  comma-separated groups to run (default: all; see cases.ts)
 *   NETLOOM_FUZZ_REPORT  write every failure found as JSON to this file
 *
 * A case's outcome may depend on what serve did before it (its runs, its caches), so a case that
 * failed in a full run and passes alone points at state kept between calls.
 */
import { existsSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRoot, ensureBuiltin } from '../../engine/data/builtin.js';
import { addCheckpoint, loadCorpus, type Corpus } from './corpus.js';
import { GROUPS, type CaseContext } from './cases.js';
import { CLI, runCli, ServeProcess } from './drivers.js';
import { Gen } from './gen.js';
import { Harness } from './harness.js';
import { signature, type Failure } from './oracle.js';
import { diffSnapshots, filesUnder, makeSandbox, sha1, snapshot, type Sandbox, type Snapshot } from './sandbox.js';

const FIRST_SEED = Number(process.env.NETLOOM_FUZZ_SEED ?? 20_261_001);
const CASES = process.env.NETLOOM_FUZZ_CASES === undefined ? undefined : Number(process.env.NETLOOM_FUZZ_CASES);
const ONLY = process.env.NETLOOM_FUZZ_GROUPS?.split(',').map((s) => s.trim()).filter(Boolean);

/** Source folders the corpus is copied from, and the built-in datasets serve reads: read, never written. */
const REPO_DIRS = ['assets/templates', 'assets/samples', 'test/parity/golden', 'test/parity/golden_csv', 'test/bench'];

let sb: Sandbox;
let corpus: Corpus;
let serve: ServeProcess;
let harness: Harness;
let ctx: CaseContext;
const before = new Map<string, Snapshot>();

/** Where each snapshot is taken: the sentinel beside the test folder, the repo's sources, the built-in data. */
function watched(): [string, string, { hashBelow?: number; skip?: string[] }][] {
  return [
    ['beside the test folder', sb.root, { skip: ['work'] }],
    ...REPO_DIRS.map((d) => [d, path.resolve(d), {}] as [string, string, { hashBelow?: number; skip?: string[] }]),
    ['built-in datasets', builtinRoot(), { hashBelow: 0 }],
  ];
}

async function call(method: string, params: unknown): Promise<any> {
  const r = await serve.call(method, JSON.stringify(params), 60_000);
  if (!('reply' in r) || r.reply.error) throw new Error(`setup: ${method} failed: ${JSON.stringify(r)}`);
  return r.reply.result;
}

/** The evaluate-only Iris run checkpointReport and the raw API messages use; made again after a restart. */
let baseRun: { id: string; starts: number } | undefined;
async function ensureBaseRun(): Promise<void> {
  if (baseRun && baseRun.starts === serve.starts) return;
  const iris = corpus.iris;
  const { runId } = await call('startRun', { project: iris.json, path: iris.path, checkpoint: { path: ctx.irisCheckpoint.path, resume: false }, evaluateOnly: true, overrides: { limitTrain: 32, limitTest: 32 } });
  baseRun = { id: runId, starts: serve.starts };
}

beforeAll(async () => {
  expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  await ensureBuiltin('mnist');
  await ensureBuiltin('fashion-mnist');
  sb = makeSandbox(builtinRoot());
  corpus = loadCorpus(sb);

  // a checkpoint as the CLI saves it, and a resumable one as serve saves it (weights + optimizer state + position)
  const trained = path.join(corpus.seeds, 'iris-trained.safetensors');
  const r = await runCli(sb, ['train', corpus.iris.path, '--epochs', '2', '--save', trained], 60_000);
  expect(r.code, r.stderr).toBe(0);
  serve = new ServeProcess(sb);
  await serve.start();
  const resumable = path.join(corpus.seeds, 'iris-resumable.safetensors');
  const { runId } = await call('startRun', { project: corpus.iris.json, path: corpus.iris.path, overrides: { epochs: 2, limitTrain: 64, limitTest: 32 } });
  expect(await serve.waitRun(runId, 60_000)).toMatchObject({ state: 'finished' });
  await call('saveRunCheckpoint', { runId, path: resumable, which: 'last', withOptimizer: true });
  await call('closeRun', { runId });

  ctx = {
    sb, corpus,
    irisCheckpoint: addCheckpoint(corpus, trained),
    resumableCheckpoint: addCheckpoint(corpus, resumable),
    baseRunId: () => baseRun!.id,
    compare: [],
  };
  harness = new Harness(sb, serve);
  for (const f of filesUnder(sb.inputs)) harness.written.set(path.join(sb.inputs, f), sha1(readFileSync(path.join(sb.inputs, f))));
  for (const [name, dir, o] of watched()) before.set(name, snapshot(dir, o));
}, 180_000);

afterAll(async () => {
  await serve?.stop();
});

/** The decoys in out/ (a .txt, a .csv, ...) are never overwritten by serve, even when a request names one as its target. */
function checkDecoys(group: string, seed: number, input: string): void {
  for (const d of sb.decoys) {
    const want = `decoy ${path.basename(d)}\n`;
    const now = existsSync(d) ? readFileSync(d, 'utf8') : '(removed)';
    if (now === want) continue;
    harness.record(group, seed, { input, files: [], run: async () => undefined }, {
      type: 'files', target: 'out/ decoy', message: `${path.basename(d)} (not a Netloom file) was overwritten`,
    });
    writeFileSync(d, want);
  }
}

const groupSeconds = new Map<string, number>();

async function runGroup(name: string): Promise<void> {
  const t0 = performance.now();
  const group = GROUPS[name];
  const n = CASES ?? group.cases;
  for (let i = 0; i < n; i++) {
    const seed = FIRST_SEED + i;
    if (group.channel === 'serve') await ensureBaseRun();
    const c = group.make(new Gen(seed, name), ctx, seed);
    await harness.runCase(name, seed, c);
    // (only serve cases name decoys: the CLI cases running beside them never do)
    if (group.channel === 'serve') checkDecoys(name, seed, c.input);
  }
  groupSeconds.set(name, (performance.now() - t0) / 1000);
}

/** The CLI and the app must take or refuse the same project file (issue 10 item 7: one reader for both). */
async function compareReaders(): Promise<void> {
  for (const c of ctx.compare) {
    await harness.runCase('compare', c.seed, {
      input: c.input,
      files: [],
      async run(t) {
        const r = await t.call('openProject', JSON.stringify({ path: c.file }));
        // a refusal of the file itself: its name (NL_UNSUPPORTED), its kind or bytes (NL_IO), its content (NL_BAD_PROJECT)
        const refusals = ['NL_BAD_PROJECT', 'NL_IO', 'NL_UNSUPPORTED'];
        const appRefused = refusals.includes(r.error?.code ?? '');
        const cliRefused = refusals.includes(c.cliCode ?? '');
        if (appRefused !== cliRefused)
          t.fail('disagree', 'cli train vs serve openProject', `the app ${appRefused ? `refuses the file (${r.error!.code}: ${r.error!.message.split('\n')[0].slice(0, 200)})` : 'opens the file'} but the CLI ${cliRefused ? `refuses it (${c.cliCode})` : `reads it (${c.cliCode ?? 'trained'})`}`);
      },
    });
  }
}

/** Every place the engine wrote inside the test folder is one it was asked to write to. */
function checkTestFolder(): string[] {
  const problems: string[] = [];
  const inputs = new Set(filesUnder(sb.inputs).map((f) => path.join(sb.inputs, f)));
  for (const f of inputs) {
    const want = harness.written.get(f);
    if (!want) problems.push(`inputs/${path.relative(sb.inputs, f)}: created by the engine (only the fuzzer writes there)`);
    else if (sha1(readFileSync(f)) !== want) problems.push(`inputs/${path.relative(sb.inputs, f)}: changed by the engine`);
  }
  for (const f of harness.written.keys()) if (!inputs.has(f)) problems.push(`inputs/${path.relative(sb.inputs, f)}: removed by the engine`);
  for (const dir of ['home', 'tmp', 'cwd', 'data', 'xdg-config', 'xdg-data', 'xdg-cache'])
    for (const f of filesUnder(path.join(sb.work, dir))) problems.push(`${dir}/${f}: written (the engine should have written nothing there)`);
  for (const f of filesUnder(path.join(sb.work, 'config'))) if (!['recent.json', 'recovery.json'].includes(f)) problems.push(`config/${f}: not one of recent.json, recovery.json`);
  for (const f of filesUnder(sb.out)) if (/^\..*\.tmp$/.test(path.basename(f))) problems.push(`out/${f}: a temporary file left by a save`);
  return problems;
}

function report(failures: Failure[], seconds: number): string {
  const bySig = new Map<string, Failure[]>();
  for (const f of failures) bySig.set(signature(f), [...(bySig.get(signature(f)) ?? []), f]);
  const counts = [...harness.cases].map(([g, n]) => `${g} ${n}${groupSeconds.has(g) ? ` ${groupSeconds.get(g)!.toFixed(0)} s` : ''}`).join(', ');
  const total = [...harness.cases.values()].reduce((a, b) => a + b, 0);
  const lines = [`fuzz: first seed ${FIRST_SEED}, ${total} cases (${counts}) in ${seconds.toFixed(0)} s; ${bySig.size} distinct failure(s), ${failures.length} in all; serve started ${serve.starts} time(s)`];
  for (const [sig, fs] of [...bySig].sort((a, b) => a[0].localeCompare(b[0]))) {
    const f = fs[0];
    lines.push(`- ${sig}  (x${fs.length})`);
    lines.push(`    ${f.group} seed ${f.seed}: ${f.input.slice(0, 300)}`);
    lines.push(`    ${f.type}: ${f.message.split('\n')[0].slice(0, 300)}`);
    // a comparison replays with the CLI case it compares
    if (f.group !== 'end')
      lines.push(`    replay: NETLOOM_FUZZ_SEED=${f.seed} NETLOOM_FUZZ_CASES=1 NETLOOM_FUZZ_GROUPS=${f.group === 'compare' ? 'cli-project' : f.group} npx vitest run test/fuzz`);
  }
  return lines.join('\n');
}

describe('the seeded fuzzer', () => {
  it('no signal, no hang, no internal error, serve keeps answering, no file outside the test folder changes', async () => {
    const t0 = performance.now();
    const names = Object.keys(GROUPS).filter((g) => !ONLY || ONLY.includes(g));
    // the CLI cases (processes) and the serve cases (messages) run side by side: two cores
    await Promise.all([
      (async () => { for (const g of names.filter((n) => GROUPS[n].channel === 'cli')) await runGroup(g); })(),
      (async () => { for (const g of names.filter((n) => GROUPS[n].channel === 'serve')) await runGroup(g); })(),
    ]);
    await compareReaders();

    const end = { input: 'after all cases', files: [], run: async () => undefined };
    const exit = await serve.close();
    if (!exit || exit.signal || exit.code !== 0)
      harness.record('end', FIRST_SEED, end, { type: 'crash', target: 'serve on SIGTERM', message: `serve exited with ${exit?.signal ?? `code ${exit?.code}`}`, details: serve.stderr().slice(-2000) });
    for (const [name, dir, o] of watched())
      for (const line of diffSnapshots(before.get(name)!, snapshot(dir, o), name))
        harness.record('end', FIRST_SEED, end, { type: 'files', target: 'outside the test folder', message: line });
    for (const line of checkTestFolder()) harness.record('end', FIRST_SEED, end, { type: 'files', target: 'inside the test folder', message: line });

    const failures = harness.failures;
    const text = report(failures, (performance.now() - t0) / 1000);
    console.log(text);
    if (process.env.NETLOOM_FUZZ_REPORT) writeFileSync(process.env.NETLOOM_FUZZ_REPORT, JSON.stringify(failures, null, 2));
    if (failures.length === 0) rmSync(sb.root, { recursive: true, force: true });
    else console.log(`fuzz: the test folder is kept for inspection: ${sb.root}`);
    expect(failures.map(signature), text).toEqual([]);
  }, 600_000);
});
