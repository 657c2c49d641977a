/**
 * Project operations shared by the File actions and dialogs: load (with a first layout for
 * files without positions, and for templates, whose nodes are stacked in one column), save,
 * and the unsaved-changes guard.
 */
import { EngineCallError, type ProjectDto } from '../../engine/contract/api';
import { metrics } from '../charts/useMetricSeries';
import { clearHeldRunEvents } from '../hooks/useRunEvents';
import { selectDirty, selectTraining, useStore, type RunView } from '../state/store';
import { layoutPositions } from './actionAutoLayout';
import { framesCrowd } from '../canvas/groupView';
import { fitReadable } from '../canvas/fit';
import type { ActionContext } from './types';

/**
 * Runs `then` now, or after the user agrees to drop unsaved changes, or to stop a run that is training
 * (the run belongs to the project being replaced: showProject ends it).
 */
export function guardUnsaved(then: () => void, doing: string): void {
  const s = useStore.getState();
  const training = selectTraining(s);
  if (!training && (!selectDirty(s) || s.nodes.length === 0)) {
    then();
    return;
  }
  s.setDialog(
    training
      ? {
          kind: 'confirm',
          title: 'Stop training?',
          message: `A run of "${s.project.name}" is ${s.run.state === 'paused' ? 'paused' : 'training'}. ${doing} stops it and discards it with the project's unsaved changes.`,
          confirmLabel: 'Stop and discard',
          onConfirm: then,
        }
      : {
          kind: 'confirm',
          title: 'Discard unsaved changes?',
          message: `"${s.project.name}" has changes that are not saved. ${doing} will discard them.`,
          confirmLabel: 'Discard changes',
          onConfirm: then,
        },
  );
}

/**
 * A project's run, charts and evaluation belong to it: when another project replaces it they go too. The
 * engine's run is stopped (if it trains or prepares) and closed, freeing its memory; its late events find no
 * app run to land in (useRunEvents), so nothing of it is recorded in the new project.
 */
function endProjectRun(ctx: ActionContext, run: RunView): void {
  metrics.reset();
  clearHeldRunEvents();
  const runId = run.runId ?? run.preparingRunId;
  if (!runId) return;
  const live = run.starting || run.state === 'running' || run.state === 'paused' || run.state === 'ready';
  const stopped = live ? ctx.api.stopRun({ runId }).then(() => {}, () => {}) : Promise.resolve();
  // a run still preparing has no run to close yet: startRun's answer is dropped by its caller (actionTrain)
  if (run.runId) void stopped.then(() => ctx.api.closeRun({ runId }).catch(() => {}));
}

/** The engine refused to replace an existing file (a save without overwrite): ask the user, then retry with it. */
export const isExistsError = (e: unknown): e is EngineCallError => e instanceof EngineCallError && e.code === 'NL_EXISTS';

/** Counts showProject calls: a layout that finishes after another project was loaded is dropped. */
let loads = 0;

/** Puts a project on the canvas; lays it out when its positions are missing or stacked. */
export async function showProject(ctx: ActionContext, project: ProjectDto, path: string | null, opts: { dirty?: boolean; layout?: boolean } = {}) {
  const s = ctx.state();
  const mine = ++loads;
  setArranging(true);
  const run = s.run;
  const { hadPositions } = s.loadProject(project, path, { dirty: opts.dirty });
  endProjectRun(ctx, run);
  // a deliberately loaded project supersedes any autosaved work
  if (!opts.dirty) ctx.api.clearRecovery({}).catch(() => {});
  // wait one frame so React Flow measures the nodes: both the layout and the fit need their
  // sizes (fitting unmeasured nodes zooms to 1.1 around the top-left corner of the graph)
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  if (mine !== loads) return;
  if (opts.layout || !hadPositions || framesCrowd(ctx.state().nodes, ctx.state().groups)) {
    // lay out without an undo step
    const now = ctx.state();
    const pos = await layoutPositions(now.nodes, now.edges, now.groups);
    if (mine !== loads) return;
    // only the positions, onto the nodes as they are now: a click or an edit made while the
    // layout ran (selection, parameters) must survive it
    useStore.setState((cur) => ({ nodes: cur.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)) }));
  }
  requestAnimationFrame(() => {
    if (mine !== loads) return;
    fitReadable(ctx);
    setArranging(false);
  });
}

/**
 * aria-busy on the canvas while a loaded project is laid out and fitted (the layout engine is a chunk
 * loaded on first use, so this can take a moment): assistive technology, and the browser tests, wait
 * for the view to settle instead of guessing how long it takes.
 */
function setArranging(busy: boolean) {
  document.querySelector('.canvas')?.setAttribute('aria-busy', String(busy));
}

export async function openPath(ctx: ActionContext, path: string) {
  const r = await ctx.api.openProject({ path });
  await showProject(ctx, r.project, r.path);
  ctx.state().toast({ kind: 'success', message: `Opened ${r.path}` });
}

export async function newFromTemplate(ctx: ActionContext, id: string | null) {
  if (id === null) {
    await showProject(ctx, { format: 'netloom-project', version: 1, name: 'Untitled', graph: { nodes: [], edges: [] } }, null);
    return;
  }
  const project = await ctx.api.getTemplate({ id });
  // a template is a starting point: a new, unsaved project
  await showProject(ctx, project, null, { layout: true });
}

/**
 * Saves to `path`; the document stays dirty if it changed while the save was in flight. `overwrite`: the user
 * already agreed to replace an existing file (it is the project's own file, or a dialog asked); without it the
 * engine refuses an existing file with NL_EXISTS (isExistsError) and the caller asks.
 */
export async function saveTo(ctx: ActionContext, path: string, opts: { overwrite: boolean }) {
  const s = ctx.state();
  const revision = s.revision;
  const project = s.toProject();
  // an untitled project takes its file's name
  if (s.project.name === 'Untitled') project.name = (path.split(/[\\/]/).pop() ?? 'Untitled').replace(/\.(netloom\.)?json$|\.netloom$/, '') || 'Untitled';
  const r = await ctx.api.saveProject({ path, project, overwrite: opts.overwrite });
  ctx.state().markSaved(r.path, revision);
  ctx.state().toast({ kind: 'success', message: `Saved ${r.path}` });
  ctx.api.clearRecovery({}).catch(() => {});
}
