/**
 * A failed run's error box (Training panel): what went wrong (the engine's message and hint) and
 * what the run still holds. It stays until the next run starts: a run that failed while nobody
 * was watching must still say so when they come back, so there is no close button to hit by
 * accident. Evaluate, Save checkpoint and Start stay enabled (actions/actionTrain.ts).
 */
import { useBestEpoch } from '../hooks/useBestEpoch';
import { failedRunWeightsNote, runErrorTitle } from '../state/evaluation';
import { useStore } from '../state/store';

export function RunError() {
  const state = useStore((s) => s.run.state);
  const error = useStore((s) => s.run.error);
  const bestEpoch = useBestEpoch();
  if (state !== 'failed' || !error) return null;
  return (
    <div className="run-error" role="alert" data-testid="run-error" data-code={error.code}>
      <div className="run-error-title">
        <span className="run-error-icon" aria-hidden="true">
          !
        </span>
        {runErrorTitle(error.code)} <code className="run-error-code">{error.code}</code>
      </div>
      <div className="run-error-message" data-testid="run-error-message">
        {error.message}
      </div>
      {error.hint && (
        <div className="run-error-hint" data-testid="run-error-hint">
          {error.hint}
        </div>
      )}
      <div className="run-error-weights" data-testid="run-error-weights">
        {failedRunWeightsNote(bestEpoch)}
      </div>
    </div>
  );
}
