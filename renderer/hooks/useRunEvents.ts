/**
 * Feeds run.progress / run.epoch / run.state events of the app's current run into the metrics
 * (charts/useMetricSeries.ts) and the store. Events that arrive while startRun is still in flight
 * (the engine starts training before its answer reaches us) are held and replayed once the run id
 * is known (adoptRun).
 */
import { useEffect } from 'react';
import type { EngineEvent, GraphDto } from '../../engine/contract/api';
import { metrics } from '../charts/useMetricSeries';
import { makeRunRecord } from '../state/runs';
import { useStore } from '../state/store';
import type { EffectiveSettings } from '../state/training';

type RunEvent = Extract<EngineEvent, { type: 'run.progress' | 'run.epoch' | 'run.state' }>;

let held: RunEvent[] = [];

function apply(e: RunEvent): void {
  const { run, setRun } = useStore.getState();
  if (e.type === 'run.progress') metrics.addProgress(e);
  else if (e.type === 'run.epoch') {
    metrics.addEpoch(e);
    setRun({ epochs: run.epochs + 1 });
  } else {
    setRun({ state: e.state, error: e.error ?? null });
    // a failed run is kept too: its curve up to the divergence is what tells the user why
    if (e.state === 'finished' || e.state === 'stopped' || e.state === 'failed') void keepRun(e.runId);
  }
}

/** Runs whose record is kept (or being kept): the promise settles once it is in the project. */
const kept = new Map<string, Promise<void>>();

/**
 * Stores a compact record of the app's run, once it has finished, stopped or failed, in the project's `runs`.
 * Once per run: a second call returns the first one's promise (the close flow awaits it, so the record is in
 * the project before it asks whether to save).
 */
export function keepRun(runId: string): Promise<void> {
  const { api, run } = useStore.getState();
  const known = kept.get(runId);
  if (known) return known;
  if (!api || !run.settings || run.startedAt === null) return Promise.resolve();
  const p = recordRun(runId, run.settings, run.startedAt, run.graph);
  kept.set(runId, p);
  return p;
}

async function recordRun(runId: string, settings: EffectiveSettings, startedAt: number, graph: GraphDto | null): Promise<void> {
  const api = useStore.getState().api!;
  const loss = metrics.batchLoss.snapshot();
  try {
    const rec = await api.getRun({ runId });
    if (rec.epochsDone.length === 0 && loss.length === 0) return; // nothing trained
    const s = useStore.getState();
    const index = (Array.isArray(s.project.extra.runs) ? s.project.extra.runs.length : 0) + 1;
    s.addRunRecord(makeRunRecord({ runId, index, startedAt, state: rec.state, settings, epochs: rec.epochsDone, loss, changes: rec.changes, bestEpoch: rec.bestEpoch, graph }));
  } catch {
    kept.delete(runId); // the run is gone (closed): nothing to keep
  }
}

/** A download while the app's run prepares: shown in the progress area; its run id lets Stop abandon the run. */
function handleDownload(e: Extract<EngineEvent, { type: 'dataset.download' }>): void {
  const run = useStore.getState().run;
  if (!run.starting || run.tag === null || e.tag !== run.tag) return; // another client's run, or an old one
  const { dataset, file, index, count, received, total, bytesPerSec, done } = e;
  useStore.getState().setRun({ preparingRunId: e.runId, download: { dataset, file, index, count, received, total, bytesPerSec, done } });
}

export function handleRunEvent(e: EngineEvent): void {
  if (e.type === 'dataset.download') {
    handleDownload(e);
    return;
  }
  if (e.type !== 'run.progress' && e.type !== 'run.epoch' && e.type !== 'run.state') return;
  const run = useStore.getState().run;
  if (run.runId === null) {
    if (run.starting) held.push(e);
    return;
  }
  if (e.runId === run.runId) apply(e);
}

/** Makes `runId` the app's current run and replays its events that came before startRun answered. */
export function adoptRun(runId: string): void {
  useStore.getState().setRun({ runId, starting: false, state: useStore.getState().run.state ?? 'running', preparingRunId: null, download: null });
  const mine = held.filter((e) => e.runId === runId);
  held = [];
  for (const e of mine) apply(e);
}

export function clearHeldRunEvents(): void {
  held = [];
}

export function useRunEvents(): void {
  const api = useStore((s) => s.api);
  useEffect(() => {
    if (!api) return;
    return api.onEvent(handleRunEvent);
  }, [api]);
}
