/**
 * The app's run's best epoch (lowest test loss so far), as the engine keeps it: the weights that
 * "Save checkpoint → best epoch" writes. Asked again whenever an epoch ends or the run's state
 * changes, so the progress line, the save dialog and the error box name the epoch the engine
 * actually holds rather than a copy worked out here.
 */
import { useEffect, useState } from 'react';
import { useStore } from '../state/store';

export function useBestEpoch(): number | null {
  const runId = useStore((s) => s.run.runId);
  const epochs = useStore((s) => s.run.epochs);
  const state = useStore((s) => s.run.state);
  const [best, setBest] = useState<{ runId: string; epoch: number | null } | null>(null);
  useEffect(() => {
    const api = useStore.getState().api;
    if (!api || !runId) return;
    let live = true;
    api.listRuns({}).then(
      (runs) => live && setBest({ runId, epoch: runs.find((r) => r.runId === runId)?.bestEpoch ?? null }),
      // a dropped connection: the banner says so; the best epoch shows again on the next answer
      () => {},
    );
    return () => {
      live = false;
    };
  }, [runId, epochs, state]);
  return best !== null && best.runId === runId ? best.epoch : null;
}
