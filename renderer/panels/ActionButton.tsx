/**
 * A button bound to a registered action: enabled when the action's predicate holds; while disabled
 * for a reason the user can fix (the action's disabledReason, e.g. an invalid training setting),
 * that reason is its tooltip.
 */
import { actionContext, run } from '../actions/registry';
import type { Action } from '../actions/types';
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../state/store';

export function ActionButton({ action, testId, primary, label }: { action: Action; testId: string; primary?: boolean; label: string }) {
  // re-evaluated whenever the run, the graph or the training settings change
  const { enabled, reason } = useStore(useShallow((s) => {
    void s.run;
    void s.nodes.length;
    void s.project.training;
    void s.trainingCheck;
    void s.settingsErrors;
    void s.analysis; // a graph error blocks Start
    const ctx = actionContext();
    const ok = !!ctx && (!action.predicate || action.predicate(ctx));
    return { enabled: ok, reason: !ok && ctx && action.disabledReason ? action.disabledReason(ctx) : null };
  }));
  return (
    <button className={primary ? 'primary' : ''} data-testid={testId} disabled={!enabled} title={reason ?? undefined} data-reason={reason ?? undefined} onClick={() => run(action, undefined)}>
      {label}
    </button>
  );
}
