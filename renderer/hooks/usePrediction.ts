/**
 * The playground's prediction: asks the engine for the app's current run, the latest input only (useLatestOnly),
 * and keeps the answer or the error to show. An answer that comes back after the run changed is dropped.
 */
import { useState } from 'react';
import type { Result } from '../../engine/contract/api';
import { useStore } from '../state/store';
import { useLatestOnly } from './useLatestOnly';

export type Prediction = Result<'predict'>;
/** a uint8 CHW image, or a feature row as the file has it */
export type PredictInput = { pixels: number[] } | { features: number[] };

export function usePrediction() {
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const predict = useLatestOnly(async (input: PredictInput) => {
    const { api, run } = useStore.getState();
    const id = run.runId;
    if (!api || !id) return;
    try {
      const answer = await api.predict({ runId: id, ...input });
      if (useStore.getState().run.runId !== id) return;
      setPrediction(answer);
      setError(null);
    } catch (e) {
      const err = e as { message?: string; hint?: string };
      setError(`${err.message ?? String(e)}${err.hint ? ` ${err.hint}` : ''}`);
      setPrediction(null);
    }
  });
  return { prediction, setPrediction, error, setError, predict };
}
