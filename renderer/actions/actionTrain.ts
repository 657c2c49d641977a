/**
 * Training commands (registered actions, like every command): start, pause, resume and stop the
 * app's current run, evaluate it, and save its weights. The run's numbers arrive as events
 * (hooks/useRunEvents.ts); these only call the run API and record its answers.
 */
import { metrics } from '../charts/useMetricSeries';
import { adoptRun, clearHeldRunEvents } from '../hooks/useRunEvents';
import { emptyRun } from '../state/store';
import { effectiveSettings, runRequest } from '../state/training';
import { register } from './registry';
import type { ActionContext } from './types';

const active = (ctx: ActionContext) => {
  const r = ctx.state().run;
  return r.starting || r.state === 'running' || r.state === 'paused' || r.state === 'ready';
};
const over = (ctx: ActionContext) => {
  const r = ctx.state().run;
  return r.runId !== null && (r.state === 'stopped' || r.state === 'finished');
};

export const actionTrainStart = register({
  name: 'trainStart',
  label: 'Start training',
  category: 'Train',
  predicate: (ctx) => !active(ctx) && ctx.state().nodes.length > 0,
  async perform(ctx) {
    const s = ctx.state();
    const previous = s.run.runId;
    const req = runRequest(s.toProject(), effectiveSettings(s.project.training, s.trainSettings));
    metrics.reset();
    clearHeldRunEvents();
    s.setRun({ ...emptyRun(), starting: true });
    if (previous) ctx.api.closeRun({ runId: previous }).catch(() => {}); // frees the old run's memory
    try {
      const { runId } = await ctx.api.startRun(req);
      adoptRun(runId);
    } catch (e) {
      ctx.state().setRun({ ...emptyRun() });
      throw e;
    }
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
    const { run } = await ctx.api.resumeRun({ runId: ctx.state().run.runId! });
    // a short run may have finished already, and its run.state event come first
    if (ctx.state().run.state === 'paused') ctx.state().setRun({ state: run.state });
  },
});

export const actionTrainStop = register({
  name: 'trainStop',
  label: 'Stop training',
  category: 'Train',
  predicate: (ctx) => ctx.state().run.runId !== null && (ctx.state().run.state === 'running' || ctx.state().run.state === 'paused'),
  async perform(ctx) {
    const summary = await ctx.api.stopRun({ runId: ctx.state().run.runId! });
    ctx.state().setRun({ state: summary.state });
  },
});

export const actionEvaluate = register({
  name: 'evaluate',
  label: 'Evaluate on the test split',
  category: 'Train',
  predicate: over,
  async perform(ctx) {
    const evaluation = await ctx.api.evaluateRun({ runId: ctx.state().run.runId! });
    ctx.state().setRun({ evaluation, cell: null });
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
