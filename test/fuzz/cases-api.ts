/**
 * Raw API messages to `netloom serve`: every method's valid request with its params damaged, replaced,
 * or the whole frame damaged (bytes, the envelope, binary), and each path-reading method given paths
 * that are no regular file. What a frame would write stays in out/ (see confined).
 */
import * as path from 'node:path';
import { METHODS } from '../../engine/contract/api.js';
import { TINY_RUN, writeTarget, type CaseContext, type Group } from './case-kit.js';
import type { Gen } from './gen.js';
import { mutateBytes } from './mutate-bytes.js';
import { describe, interestingValue, mutateJson, toJsonText, type JsonLike } from './mutate-json.js';

/** A valid request for each method (against the fuzz folder's files and the base run). */
function examples(g: Gen, ctx: CaseContext, seed: number): Record<string, JsonLike> {
  const iris = ctx.corpus.iris;
  const runId = ctx.baseRunId();
  const csv = ctx.corpus.csvs[0].path;
  return {
    hello: {}, getCatalog: {}, listTemplates: {}, recentProjects: {}, readRecovery: {}, clearRecovery: {}, devices: {}, trainingSchema: {}, hostInfo: {}, listRuns: {},
    analyze: { graph: iris.json.graph, batchSize: 16 },
    getTemplate: { id: 'quickstart' },
    openProject: { path: iris.path },
    saveProject: { path: path.join(ctx.sb.out, `api-${seed}.json`), project: iris.json },
    listDir: { path: ctx.corpus.seeds },
    writeRecovery: { project: iris.json, path: null },
    startRun: { project: iris.json, path: iris.path, overrides: TINY_RUN },
    pauseRun: { runId }, resumeRun: { runId, hyper: { lr: 0.1 } }, stopRun: { runId }, getRun: { runId }, evaluateRun: { runId },
    closeRun: { runId: 'run-0' },
    runSamples: { runId, actual: 0, predicted: 0, limit: 5 },
    predict: { runId, features: [5.1, 3.5, 1.4, 0.2] },
    saveRunCheckpoint: { runId, path: writeTarget(g, ctx, seed, '.safetensors', true), which: g.pick(['last', 'best']), withOptimizer: g.chance(0.5) },
    exportModel: { runId, format: g.pick(['safetensors', 'pt', 'onnx', 'pytorch']), path: writeTarget(g, ctx, seed, g.pick(['.safetensors', '.pt', '.onnx', '']), true), which: g.pick(['last', 'best']) },
    importOnnx: { path: path.join(ctx.corpus.seeds, 'model.onnx') },
    checkpointReport: { runId, path: ctx.irisCheckpoint.path, dryRun: true },
    graphCheckpointReport: { graph: iris.json.graph, path: ctx.irisCheckpoint.path },
    datasetInfo: { dataset: iris.json.training.dataset, rows: 5, perClass: 2 },
    csvPreview: { path: csv },
    checkTraining: { training: iris.json.training },
    pickPath: { mode: 'open', purpose: 'project' },
    setAppState: { title: 'x', projectPath: null, dirty: false, training: false, enabled: {}, checked: {} },
    closeWindow: {},
  };
}

const WRITERS = new Set(['saveProject', 'saveRunCheckpoint', 'exportModel']);

/**
 * A frame is sent only if what it would write stays in out/, it closes no run but its own, and a run it
 * starts is tiny; otherwise the unmutated request goes instead (the fuzzer must not write elsewhere itself).
 */
function confined(text: string, ctx: CaseContext): boolean {
  let msg: any;
  try {
    msg = JSON.parse(text);
  } catch {
    return true; // never runs
  }
  if (msg === null || typeof msg !== 'object') return true;
  const p = msg.params;
  if (WRITERS.has(msg.method)) {
    if (typeof p?.path !== 'string') return true;
    const abs = path.resolve(ctx.sb.cwd, p.path.replace(/^~(?=$|\/)/, ctx.sb.env.HOME!));
    if (!abs.startsWith(ctx.sb.out + path.sep)) return false;
  }
  if (msg.method === 'closeRun' && p?.runId === ctx.baseRunId()) return false;
  if (msg.method === 'startRun') {
    const o = p?.overrides;
    if (o === null || typeof o !== 'object') return false;
    for (const k of ['epochs', 'limitTrain', 'limitTest']) if (!(typeof o[k] !== 'number' || o[k] <= 64)) return false;
    if (typeof o.limitTrain !== 'number' || typeof o.limitTest !== 'number') return false;
  }
  return true;
}

export const serveApi: Group = {
  channel: 'serve',
  cases: 1500,
  make(g, ctx, seed) {
    const ex = examples(g.fork('examples'), ctx, seed);
    const method = g.pick(Object.keys(METHODS));
    const valid = `{"id":${seed},"method":${JSON.stringify(method)},"params":${toJsonText(ex[method] ?? {})}}`;
    const mode = g.weighted([[10, 'params'], [3, 'value'], [3, 'bytes'], [2, 'envelope'], [1, 'binary']] as const);
    let text: string | Buffer;
    let what = `${method}: ${mode}`;
    if (mode === 'params') {
      const params = JSON.parse(JSON.stringify(ex[method] ?? {})) as JsonLike;
      const ops = mutateJson(g, params, { maxOps: 3 });
      text = `{"id":${seed},"method":${JSON.stringify(method)},"params":${toJsonText(params)}}`;
      what += ` ${ops.join('; ')}`;
    } else if (mode === 'value') {
      const v = interestingValue(g);
      text = `{"id":${seed},"method":${JSON.stringify(method)},"params":${toJsonText(v)}}`;
      what += ` params = ${describe(v)}`;
    } else if (mode === 'bytes') {
      const r = mutateBytes(g, Buffer.from(valid));
      text = Buffer.from(r.bytes).toString('utf8');
      what += ` ${r.what.join('; ')}`;
    } else if (mode === 'envelope') {
      const env = g.pick<() => [string, string]>([
        () => [`{"id":${toJsonText(interestingValue(g))},"method":${JSON.stringify(method)},"params":{}}`, 'odd id'],
        () => [`{"id":${seed},"method":${toJsonText(g.pick<JsonLike>(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'then', '', 'HELLO', null, 1, ['hello'], { m: 1 }]))},"params":{}}`, 'odd method'],
        () => [`{"id":${seed},"method":"hello","method":${JSON.stringify(method)},"params":{}}`, 'method twice'],
        () => [`{"id":${seed},"method":${JSON.stringify(method)}}`, 'no params'],
        () => [`{"id":${seed},"method":${JSON.stringify(method)},"params":${toJsonText(ex[method] ?? {})},"__proto__":{"method":"hello"}}`, '__proto__ member'],
        () => [g.pick(['', 'null', '[]', '1', '"x"', '{}', 'true', '{"id":1', '\u0000', '\ufeff{}']), 'not a request'],
        () => [toJsonText(interestingValue(g)), 'a random value'],
      ])();
      text = env[0];
      what += ` ${env[1]}`;
    } else {
      text = Buffer.from(g.bytes(g.range(0, 64)));
      what += ' binary frame';
    }
    if (typeof text === 'string' && !confined(text, ctx)) {
      text = valid;
      what += ' (confined: sent the valid request)';
    }
    const frame = text;
    return {
      input: what,
      files: [],
      async run(t) {
        const reply = await t.raw(frame, mode === 'binary' ? 'binary frame' : method, { binary: mode === 'binary' });
        const runId = (reply?.result as { runId?: unknown } | undefined)?.runId;
        if (typeof runId === 'string' && runId.startsWith('run-') && runId !== ctx.baseRunId() && method === 'startRun') await t.finishRun(runId);
      },
    };
  },
};

/** Each special path against each method that reads a path: case = seed mod the combinations (11 paths x 7 methods where mkfifo and /dev/zero exist). */
export const serveSpecial: Group = {
  channel: 'serve',
  cases: 77,
  make(_g, ctx, seed) {
    const sp = ctx.sb.specialPaths;
    const iris = ctx.corpus.iris;
    const methods: [string, (p: string) => unknown][] = [
      ['openProject', (p) => ({ path: p })],
      ['csvPreview', (p) => ({ path: p })],
      ['graphCheckpointReport', (p) => ({ graph: iris.json.graph, path: p })],
      ['datasetInfo', (p) => ({ dataset: { type: 'csv', path: p, label: 'species' }, fresh: true })],
      ['startRun', (p) => ({ project: iris.json, path: iris.path, checkpoint: { path: p, resume: false }, evaluateOnly: true, overrides: TINY_RUN })],
      ['listDir', (p) => ({ path: p })],
      ['importOnnx', (p) => ({ path: p })],
    ];
    const k = seed % (sp.length * methods.length);
    const p = sp[k % sp.length];
    const [method, params] = methods[Math.floor(k / sp.length)];
    return {
      input: `${p.name} (${p.path})`,
      files: [],
      async run(t) {
        // a path that is no regular file is refused at once: a reply taking seconds is a hang
        const r = await t.call(method, JSON.stringify(params(p.path)), { timeoutMs: 3000 });
        const runId = (r.result as { runId?: string } | undefined)?.runId;
        if (runId) await t.finishRun(runId);
      },
    };
  },
};
