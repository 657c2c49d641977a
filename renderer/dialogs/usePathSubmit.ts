import { useState } from 'react';
import { dialogStart } from '../actions/hostDialogs';
import { actionContext } from '../actions/registry';
import type { ActionContext } from '../actions/types';
import { resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { pathFormError, type PathFormError } from './PathForm';

/** The state a one-path PathForm dialog runs on (Compare with a file, Import ONNX). */
export interface PathSubmit {
  /** the folder a bare file name is looked for in (the project's, else home; null when neither is known) */
  start: string | null;
  path: string;
  /** a new path: the last refusal was about the old one, so it goes */
  changePath: (p: string) => void;
  error: PathFormError | null;
  busy: boolean;
  /** runs `act` on the resolved path; what it throws stays in the dialog, so the user can pick another file */
  submit: () => Promise<void>;
}

/**
 * A dialog that hands one path on the engine's machine to the engine: `initial` proposes the first path
 * from the start folder; `act` gets the path resolved against it (and closes the dialog when it is done).
 */
export function usePathSubmit(initial: (start: string | null) => string, act: (ctx: ActionContext, file: string) => Promise<void>): PathSubmit {
  const [start] = useState(() => dialogStart());
  const [path, setPath] = useState(() => initial(start));
  const [error, setError] = useState<PathFormError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const ctx = actionContext();
    if (!ctx || !path.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      await act(ctx, resolveUserPath(path, start, useStore.getState().host?.home));
    } catch (e) {
      setError(pathFormError(e));
    } finally {
      setBusy(false);
    }
  };
  const changePath = (p: string) => {
    setPath(p);
    setError(null);
  };
  return { start, path, changePath, error, busy, submit };
}
