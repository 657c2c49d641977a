/**
 * Training commands (registered actions, like every command): start, pause, resume and stop the
 * app's current run, evaluate it, and save its weights. The run's numbers arrive as events
 * (hooks/useRunEvents.ts); these only call the run API and record its answers.
 */
import { metrics } from '../charts/useMetricSeries';
import { adoptRun, clearHeldRunEvents } from '../hooks/useRunEvents';
import { emptyRun, graphKey, type State } from '../state/store';
import { blockingReason, effectiveSettings, graphBlockingReason, hyperDiff, hyperOf, runRequest } from '../state/training';
import { hyperChangeLabel } from '../state/runs';
import { EngineCallError, type HyperDto } from '../../engine/contract/api';
import { divergedEvaluationError } from '../state/evaluation';
import { baseName } from '../state/paths';
import { register } from './registry';
import type { ActionContext } from './types';
import type { CheckpointReportView } from '../state/store';

const active = (ctx: ActionContext) => {
  const r = ctx.state().run;
  return r.starting || r.state === 'running' || r.state === 'paused' || r.state === 'ready';
};
const over = (ctx: ActionContext) => {
  const r = ctx.state().run;
  // a failed run keeps its last good weights (from before the failing batch): still evaluable and savable
  return r.runId !== null && (r.state === 'stopped' || r.state === 'finished' || r.state === 'failed');
};

/**
 * Why the training settings do not allow a run (a field that does not parse, or a problem the
 * engine's checkTraining found), or null. Start shows it as its tooltip while disabled.
 */
export function settingsBlock(s: State): string | null {
  const check = s.trainingCheck;
  const current = check && check.key === trainingCheckKey(s) ? check.issues : [];
  return blockingReason(current, s.settingsErrors);
}

/**
 * Why the graph cannot train (the engine refuses any graph its analysis finds a problem in: NL_BAD_GRAPH), or
 * null: the first problem, as the canvas shows it in red. Start shows it as its tooltip while disabled.
 */
export const graphBlock = (s: State): string | null => graphBlockingReason(s.analysis?.issues);

/** Why no run can start now: the graph's first problem, else the settings' (graphBlock, settingsBlock). */
export const startBlock = (s: State): string | null => graphBlock(s) ?? settingsBlock(s);

/** What checkTraining was asked about: the training section and the samples per epoch. */
export function trainingCheckKey(s: State): string {
  return JSON.stringify([s.project.training ?? {}, s.trainSettings.limitTrain]);
}

/** Starts a run of the current graph with the project's settings (optionally from a checkpoint's weights) and makes it the app's run. */
async function startCurrent(ctx: ActionContext, checkpoint?: { path: string; resume: boolean }, evaluateOnly = false): Promise<string> {
  const s = ctx.state();
  const previous = s.run.runId;
  const settings = effectiveSettings(s.project.training, s.trainSettings);
  const req = runRequest(s.toProject(), s.trainSettings);
  // names this start in its dataset.download events, which come before startRun answers
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  // the last run stays whole (its weights open, its charts drawn) until the new one is accepted: a start the
  // engine refuses wipes nothing. Events of the new run that come first are held (useRunEvents) until then.
  const before = s.run;
  clearHeldRunEvents();
  s.setRun({
    ...emptyRun(),
    starting: true,
    graphKey: runGraphKey(s, settings.dataset),
    // an evaluate-only run trains nothing: not kept in the project's runs
    settings: evaluateOnly ? null : settings,
    startedAt: Date.now(),
    graph: evaluateOnly ? null : req.project.graph,
    hyper: hyperOf(s.project.training),
    tag,
  });
  try {
    const { runId, notes, device } = await ctx.api.startRun({ ...req, tag, ...(s.project.path ? { path: s.project.path } : {}), ...(checkpoint ? { checkpoint, ...(evaluateOnly ? { evaluateOnly } : {}) } : {}) });
    if (ctx.state().run.tag !== tag) {
      // the project was replaced while the run prepared (its runs went with it): this run belongs to nobody
      ctx.api.stopRun({ runId }).catch(() => {}).finally(() => ctx.api.closeRun({ runId }).catch(() => {}));
      return '';
    }
    metrics.reset();
    adoptRun(runId);
    ctx.state().setRun({ device: device ?? null });
    // what the engine said about the checkpoint it loaded (a 'module.' prefix dropped, other CSV statistics)
    if (checkpoint && notes.length > 0) ctx.state().toast({ kind: 'info', message: `Loaded ${baseName(checkpoint.path)}`, hint: notes.join(' ') });
    // an evaluate-only run is created stopped (its run.state event may have come first)
    if (evaluateOnly) ctx.state().setRun({ state: 'stopped' });
    // frees the old run's memory, now that the new one is accepted; awaited, so that what the caller does
    // next (an evaluation) does not share the engine with the freeing (an evaluation beside it took seconds longer)
    if (previous) await ctx.api.closeRun({ runId: previous }).catch(() => {});
    return runId;
  } catch (e) {
    // another project replaced this one while the run prepared: nothing of this start is shown
    if (ctx.state().run.tag !== tag) return '';
    // refused (or stopped while preparing): the last run comes back as it was
    ctx.state().setRun(before);
    // Stop while preparing: the engine abandoned the run on request; say so quietly, not as a failure
    if (e instanceof EngineCallError && e.code === 'NL_STOPPED') {
      ctx.state().toast({ kind: 'info', message: e.message, hint: e.hint });
      return '';
    }
    throw e;
  }
}

/** What a run's weights fit: the graph's content and the dataset (its input shape). */
export const runGraphKey = (s: State, dataset: string) => `${JSON.stringify(s.project.training?.dataset ?? dataset)}|${graphKey(s)}`;

export const actionTrainStart = register({
  name: 'trainStart',
  label: 'Start training',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0 && startBlock(ctx.state()) === null,
  disabledReason: (ctx) => startBlock(ctx.state()),
  async perform(ctx) {
    await startCurrent(ctx);
  },
});

/** Starts a run from a checkpoint's weights (not its optimizer state or position). */
export const actionTrainFromCheckpoint = register<string>({
  name: 'trainFromCheckpoint',
  label: 'Start training from checkpoint weights',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0 && startBlock(ctx.state()) === null,
  disabledReason: (ctx) => startBlock(ctx.state()),
  async perform(ctx, path) {
    await startCurrent(ctx, { path, resume: false });
    ctx.state().setCkptReport(null);
  },
});

/**
 * Resumes the training a checkpoint saved with its optimizer state and position (Netloom's "with the optimizer
 * state", or the exported train.py's checkpoints): the run continues from that epoch and batch with the
 * project's optimizer and schedule, up to the project's epochs.
 */
export const actionResumeFromCheckpoint = register<string>({
  name: 'resumeFromCheckpoint',
  label: 'Resume training from checkpoint',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0 && startBlock(ctx.state()) === null,
  disabledReason: (ctx) => startBlock(ctx.state()),
  async perform(ctx, path) {
    await startCurrent(ctx, { path, resume: true });
    ctx.state().setCkptReport(null);
  },
});

/**
 * Evaluates a checkpoint's weights without training: an evaluate-only run of the current graph
 * and panel settings (created stopped, the weights loaded), then the usual evaluation view.
 */
export const actionEvaluateCheckpoint = register<string>({
  name: 'evaluateCheckpoint',
  label: 'Evaluate checkpoint weights on the test split',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0 && graphBlock(ctx.state()) === null,
  disabledReason: (ctx) => graphBlock(ctx.state()),
  async perform(ctx, path) {
    const runId = await startCurrent(ctx, { path, resume: false }, true);
    if (!runId) return; // stopped while preparing
    ctx.state().setCkptReport(null);
    const evaluation = await ctx.api.evaluateRun({ runId });
    if (ctx.state().run.runId === runId) ctx.state().setRun({ evaluation, cell: null });
  },
});

export const actionTrainPause = register({
  name: 'trainPause',
  label: 'Pause training',
  category: 'Train',
  predicate: (ctx) => ctx.state().run.state === 'running' && ctx.state().run.runId !== null,
  async perform(ctx) {
    const summary = await ctx.api.pauseRun({ runId: ctx.state().run.runId! });
    ctx.state().setRun({ state: summary.state });
  },
});

export const actionTrainResume = register({
  name: 'trainResume',
  label: 'Resume training',
  category: 'Train',
  predicate: (ctx) => ctx.state().run.state === 'paused' && ctx.state().run.runId !== null,
  async perform(ctx) {
    const s = ctx.state();
    const hyper = resumeHyper(s);
    const { run, change } = await ctx.api.resumeRun({ runId: s.run.runId!, ...(hyper ? { hyper } : {}) });
    if (change) {
      metrics.addChange(change, (step) => hyperChangeLabel(change, step));
      ctx.state().setRun({ hyper: { ...s.run.hyper, ...hyper } });
    }
    // a short run may have finished already, and its run.state event come first
    if (ctx.state().run.state === 'paused') ctx.state().setRun({ state: run.state });
  },
});

/** The optimizer settings edited while paused (only the changed ones), or null when none changed. */
export function resumeHyper(s: State): HyperDto | null {
  const now = s.run.hyper;
  if (!now) return null;
  return hyperDiff(now, hyperOf(s.project.training));
}

export const actionTrainStop = register({
  name: 'trainStop',
  label: 'Stop training',
  category: 'Train',
  predicate: (ctx) => {
    const r = ctx.state().run;
    return (r.runId !== null && (r.state === 'running' || r.state === 'paused')) || (r.starting && r.preparingRunId !== null);
  },
  async perform(ctx) {
    const r = ctx.state().run;
    if (r.runId === null && r.preparingRunId !== null) {
      // still preparing (downloading): the engine abandons it and startRun fails with NL_STOPPED
      await ctx.api.stopRun({ runId: r.preparingRunId });
      return;
    }
    const summary = await ctx.api.stopRun({ runId: r.runId! });
    ctx.state().setRun({ state: summary.state });
  },
});

export const actionEvaluate = register({
  name: 'evaluate',
  label: 'Evaluate on the test split',
  category: 'Train',
  predicate: over,
  async perform(ctx) {
    const run = ctx.state().run;
    try {
      const evaluation = await ctx.api.evaluateRun({ runId: run.runId! });
      // the project may have been replaced meanwhile: its run's evaluation went with it
      if (ctx.state().run.runId === run.runId) ctx.state().setRun({ evaluation, cell: null });
    } catch (e) {
      // a run that diverged may hold weights that overflow on the test split as well: say so in its terms
      if (run.state === 'failed' && e instanceof EngineCallError && e.code === 'NL_NON_FINITE') throw new EngineCallError(divergedEvaluationError(e));
      throw e;
    }
  },
});

export const actionSaveCheckpoint = register({
  name: 'saveCheckpoint',
  label: 'Save checkpoint',
  category: 'Train',
  predicate: (ctx) => ctx.state().run.runId !== null && ctx.state().run.state !== 'running' && !ctx.state().run.starting,
  perform(ctx) {
    ctx.state().setDialog({ kind: 'checkpoint' });
  },
});

export const actionLoadCheckpoint = register({
  name: 'loadCheckpoint',
  label: 'Load checkpoint onto the graph',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0,
  perform(ctx) {
    ctx.state().setDialog({ kind: 'checkpoint-load' });
  },
});

/**
 * Compares a checkpoint with the current graph, node by node, without loading anything: the
 * engine compiles the graph as drawn and matches its state-dict keys and shapes to the file.
 */
export async function checkpointReportForGraph(ctx: ActionContext, path: string): Promise<CheckpointReportView> {
  const r = await ctx.api.graphCheckpointReport({ graph: ctx.state().toProject().graph, path });
  return { path, ok: r.ok, nodes: r.nodes, unassigned: r.unassigned, problems: r.problems, resumable: r.resumable, ...(r.notes.length ? { notes: r.notes } : {}) };
}
