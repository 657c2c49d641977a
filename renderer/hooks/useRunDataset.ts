/**
 * The dataset of the app's current run, as datasetInfo describes it (its classes, sample shape, a CSV's features
 * and test rows): asked once per run. The engine answers from the data the run already holds, so this reads no
 * file and matches exactly what the model was trained on, even after the project's dataset has changed.
 */
import { useEffect, useState } from 'react';
import type { DatasetInfoDto } from '../../engine/contract/api';
import { useStore } from '../state/store';

export interface RunDataset {
  /** the run the answer is for */
  runId: string | null;
  info: DatasetInfoDto | null;
  error: { message: string; hint?: string } | null;
}

/** Test rows kept for the playground's "random test row". */
export const PLAYGROUND_ROWS = 200;

export function useRunDataset(): RunDataset {
  const api = useStore((s) => s.api);
  const runId = useStore((s) => s.run.runId);
  const [answer, setAnswer] = useState<RunDataset>({ runId: null, info: null, error: null });
  useEffect(() => {
    if (!api || !runId) return;
    let live = true;
    api
      .datasetInfo({ runId, perClass: 0, rows: PLAYGROUND_ROWS })
      .then((info) => live && setAnswer({ runId, info, error: null }))
      .catch((e: unknown) => {
        const err = e as { message?: string; hint?: string };
        if (live) setAnswer({ runId, info: null, error: { message: err.message ?? String(e), hint: err.hint } });
      });
    return () => {
      live = false;
    };
  }, [api, runId]);
  // an answer for another run is no answer
  return answer.runId === runId ? answer : { runId, info: null, error: null };
}
