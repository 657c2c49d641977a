/**
 * Cases for the running `netloom serve` built on damaged files: projects (open, analyze, save, recover,
 * train), checkpoints (the two load reports, resumed and evaluate-only runs) and CSV files (preview,
 * dataset view, train), each a few milliseconds unless it trains.
 */
import * as path from 'node:path';
import { afterStart, asJsonText, caseDir, damagedProject, graphText, pickCheckpoint, TINY_RUN, writeTarget, type Group } from './case-kit.js';
import { mutateCsv } from './mutate-csv.js';
import { mutateSafetensors } from './mutate-safetensors.js';

export const serveProject: Group = {
  channel: 'serve',
  cases: 800,
  make(g, ctx, seed) {
    const d = damagedProject(g.fork('project'), ctx.corpus);
    const file = path.join(caseDir(ctx, 'serve-project', seed), g.pick(['project.json', 'project.netloom']));
    const json = asJsonText(d.text);
    const graph = graphText(d.doc, d.text);
    const steps = {
      analyze: graph !== undefined && g.chance(0.6),
      batchSize: g.pick([1, 2, 16, 64, 1 << 20, 2 ** 31]),
      recovery: json !== undefined && g.chance(0.25),
      save: json !== undefined && g.chance(0.25),
      saveTo: writeTarget(g, ctx, seed, '.json', true),
      run: json !== undefined && g.chance(0.06),
      hyperLr: g.chance(0.3) ? g.pick([1e308, 1e300, 1e-45, 0.1]) : undefined,
    };
    return {
      input: d.what,
      files: [{ path: file, bytes: d.bytes }],
      async run(t) {
        await t.call('openProject', JSON.stringify({ path: file }));
        if (steps.analyze) await t.call('analyze', `{"batchSize":${steps.batchSize},"graph":${graph}}`);
        if (steps.recovery) await t.call('writeRecovery', `{"path":${JSON.stringify(file)},"project":${json}}`);
        if (steps.save) await t.call('saveProject', `{"path":${JSON.stringify(steps.saveTo)},"project":${json}}`);
        if (steps.run) await afterStart(t, await t.call('startRun', `{"path":${JSON.stringify(file)},"overrides":${JSON.stringify(TINY_RUN)},"project":${json}}`), { hyperLr: steps.hyperLr });
      },
    };
  },
};

export const serveCheckpoint: Group = {
  channel: 'serve',
  cases: 400,
  make(g, ctx, seed) {
    const s = pickCheckpoint(g, ctx);
    const m = mutateSafetensors(g.fork('ckpt'), s.bytes, g.pick(ctx.corpus.checkpoints).bytes);
    const file = path.join(caseDir(ctx, 'serve-checkpoint', seed), 'model.safetensors');
    const iris = ctx.corpus.iris;
    const dryRun = g.chance(0.7);
    // forged training positions (metadata edits) are worth a resumed run more often
    const forged = m.what.some((w) => /metadata|resum/.test(w));
    const start = g.chance(forged ? 0.5 : 0.12) ? { resume: g.chance(forged ? 0.8 : 0.4), evaluateOnly: g.chance(0.4) } : undefined;
    return {
      input: `checkpoint ${s.name}; ${m.what.join('; ')}`,
      files: [{ path: file, bytes: m.bytes }],
      async run(t) {
        // a file every reader must refuse (issue 10 item 6) is refused by each
        const refused = (method: string, r: { result?: unknown }) => {
          if (m.mustRefuse && r.result !== undefined) t.fail('accepted', `serve ${method}`, `loaded a checkpoint with ${m.mustRefuse}`);
        };
        refused('graphCheckpointReport', await t.call('graphCheckpointReport', JSON.stringify({ graph: iris.json.graph, path: file })));
        refused('checkpointReport', await t.call('checkpointReport', JSON.stringify({ runId: ctx.baseRunId(), path: file, dryRun })));
        if (!start) return;
        const r = await t.call('startRun', JSON.stringify({ project: iris.json, path: iris.path, checkpoint: { path: file, resume: start.resume }, evaluateOnly: start.evaluateOnly, overrides: TINY_RUN }));
        refused('startRun', r);
        const runId = (r.result as { runId?: string } | undefined)?.runId;
        if (runId && start.resume) {
          // a resumed run stands where its checkpoint says: never past its own end (issue 10 item 10: forged positions)
          const run = (await t.call('getRun', JSON.stringify({ runId }))).result as { epoch: number; epochs: number; batch: number; batches: number } | undefined;
          if (run && !(run.epoch <= run.epochs && run.batch <= run.batches))
            t.fail('accepted', 'serve startRun (resume)', `resumed at epoch ${run.epoch}/${run.epochs}, batch ${run.batch}/${run.batches}`);
        }
        if (runId && start.evaluateOnly) {
          await t.call('evaluateRun', JSON.stringify({ runId }));
          await t.call('predict', JSON.stringify({ runId, features: [5.1, 3.5, 1.4, 0.2] }));
        }
        await afterStart(t, r);
      },
    };
  },
};

export const serveCsv: Group = {
  channel: 'serve',
  cases: 300,
  make(g, ctx, seed) {
    const s = g.pick(ctx.corpus.csvs);
    const m = mutateCsv(g.fork('csv'), s.text, Buffer.from(g.pick(ctx.corpus.csvs).text));
    const file = path.join(caseDir(ctx, 'serve-csv', seed), g.pick(['data.csv', 'data.txt']));
    const label = g.chance(0.85) ? s.label : g.pick([...s.columns, '', '__proto__', 'constructor']);
    const dataset = { type: 'csv', path: file, label, task: s.task, ...(g.chance(0.2) ? { header: g.chance(0.5) } : {}), ...(g.chance(0.2) ? { delimiter: g.pick([',', ';', '\t']) } : {}) };
    const preview = { path: file, ...(g.chance(0.3) ? { delimiter: g.pick([',', ';', '\t']) } : {}), ...(g.chance(0.3) ? { header: g.chance(0.5) } : {}) };
    const rows = g.pick([0, 12, 1000]);
    const base = s.task === 'regression' ? ctx.corpus.regression : ctx.corpus.iris;
    const run = g.chance(0.12);
    // one row to predict: as many values as the seed has features, some of them extreme
    const features = Array.from({ length: s.columns.length - 1 }, () => g.pick([0, 1, -1, 5.1, 1e15, 1e38, -3e38, 5e-324]));
    return {
      input: `csv ${s.name}; ${m.what.join('; ')}${label !== s.label ? `; label ${JSON.stringify(label)}` : ''}`,
      files: [{ path: file, bytes: m.bytes }],
      async run(t) {
        await t.call('csvPreview', JSON.stringify(preview));
        await t.call('datasetInfo', JSON.stringify({ dataset, rows, perClass: 2, fresh: true }));
        if (!run) return;
        const project = { ...base.json, training: { ...base.json.training, dataset } };
        await afterStart(t, await t.call('startRun', JSON.stringify({ project, overrides: TINY_RUN })), { features });
      },
    };
  },
};
