/**
 * Compare…: the graph diff as registered actions (the toolbar's Compare menu, the desktop's File ▸ Compare
 * submenu, a stored run's "Compare with current"). The engine computes the diff (diffGraph); the marks and
 * the list live in state/diff.ts and the panel (panels/DiffPanel.tsx) keeps them up to date as the graph changes.
 */
import { EngineCallError } from '../../engine/contract/api';
import { baseName } from '../state/paths';
import { clearDiff, runGraph, setDiffError, setDiffResult, useDiff, type DiffSource } from '../state/diff';
import { storedRuns } from '../state/runs';
import { dialogStart, hasNativeDialogs, pickPath } from './hostDialogs';
import { register } from './registry';
import type { ActionContext } from './types';

/** Counts comparisons asked for: only the latest one's answer is shown (an edit's recompute can overtake another). */
let asked = 0;

/** Asks the engine for the diff of the canvas against `source` and shows it (or why it failed) in the panel. */
export async function compareWith(ctx: ActionContext, source: DiffSource): Promise<void> {
  const mine = ++asked;
  useDiff.setState({ source, busy: true, picking: null });
  // another comparison, a newer recompute or Close came in while this one ran: its answer is not this one's to show
  const stale = () => mine !== asked || useDiff.getState().source !== source;
  try {
    const result = await ctx.api.diffGraph({ graph: ctx.state().toProject().graph, against: source.against });
    if (stale()) return;
    setDiffResult(source, result);
  } catch (e) {
    if (stale()) return;
    setDiffError(source, e instanceof EngineCallError ? { message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { message: String(e) });
  }
}

/** A project file or checkpoint: the operating system's dialog in the desktop app, the app's own otherwise. */
async function pickAndCompare(ctx: ActionContext, kind: 'project' | 'checkpoint'): Promise<void> {
  if (!hasNativeDialogs(ctx.state())) {
    useDiff.setState({ picking: kind });
    return;
  }
  const file = await pickPath(ctx, 'open', kind === 'project' ? 'project' : 'weights', dialogStart(ctx.state()));
  if (file) await compareWith(ctx, fileSource(kind, file));
}

/** The comparison with a chosen file. */
export function fileSource(kind: 'project' | 'checkpoint', path: string): DiffSource {
  return { kind, label: baseName(path), against: { kind, path } };
}

const noGraph = (ctx: ActionContext) => (ctx.state().nodes.length === 0 ? 'Draw or open a model first.' : null);
const unsaved = (ctx: ActionContext) => noGraph(ctx) ?? (ctx.state().project.path ? null : 'The project has not been saved yet: there is no saved version to compare with.');

export const actionCompareSaved = register({
  name: 'compareSaved',
  label: 'Compare with the saved file',
  category: 'File',
  predicate: (ctx) => unsaved(ctx) === null,
  disabledReason: unsaved,
  async perform(ctx) {
    const path = ctx.state().project.path!;
    await compareWith(ctx, { kind: 'saved', label: `the saved file (${baseName(path)})`, against: { kind: 'project', path } });
  },
});

export const actionCompareProject = register({
  name: 'compareProject',
  label: 'Compare with a project file…',
  category: 'File',
  predicate: (ctx) => noGraph(ctx) === null,
  disabledReason: noGraph,
  perform: (ctx) => pickAndCompare(ctx, 'project'),
});

export const actionCompareCheckpoint = register({
  name: 'compareCheckpoint',
  label: 'Compare with a checkpoint…',
  category: 'File',
  predicate: (ctx) => noGraph(ctx) === null,
  disabledReason: noGraph,
  perform: (ctx) => pickAndCompare(ctx, 'checkpoint'),
});

/** A stored run's "Compare with current": the graph it trained against the canvas. */
export const actionCompareRun = register<string>({
  name: 'compareRun',
  label: 'Compare a run\'s graph with the current one',
  category: 'File',
  async perform(ctx, runId) {
    const stored = storedRuns(ctx.state().project.extra).find((r) => r.id === runId);
    const graph = stored ? runGraph(stored) : null;
    if (!stored || !graph) {
      ctx.state().toast({ kind: 'info', message: 'This run\'s graph was not recorded', hint: 'Runs trained before Netloom kept their graph cannot be compared; train again to record it.' });
      return;
    }
    await compareWith(ctx, { kind: 'run', label: `run ${stored.label}`, against: { kind: 'graph', graph } });
  },
});

export const actionCloseDiff = register({
  name: 'closeDiff',
  label: 'Close the comparison',
  category: 'View',
  predicate: () => useDiff.getState().source !== null,
  perform() {
    clearDiff();
  },
});
