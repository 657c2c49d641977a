/**
 * Reports the app's state to the host (setAppState: window title, represented file, unsaved changes,
 * training, which menu items are enabled and which panel toggles are checked). It listens to the store,
 * not to renders: store changes are coalesced (at most one report per REPORT_MS) and a report goes out
 * only when it differs from the last one sent. The first one goes out at once: the desktop host holds
 * back commands (files double-clicked before the page loaded) until the page has reported.
 */
import type { AppStateDto, EngineApi } from '../../engine/contract/api';
import { actionContext, listActions, reportError } from '../actions/registry';
import { buildAppState, needsSending } from '../state/appState';
import { selectDirty, selectTraining, useStore } from '../state/store';

const REPORT_MS = 100;

/** The state now. A menu action is enabled when it is registered, no modal dialog is open, and its predicate passes. */
export function currentAppState(): AppStateDto {
  const s = useStore.getState();
  const ctx = actionContext();
  const byName = new Map(listActions().map((a) => [a.name, a]));
  return buildAppState({
    projectName: s.project.name,
    projectPath: s.project.path,
    dirty: selectDirty(s),
    nodeCount: s.nodes.length,
    training: selectTraining(s),
    panels: s.panels,
    isEnabled: (name) => {
      const a = byName.get(name);
      return !!a && !!ctx && s.dialog === null && (!a.predicate || a.predicate(ctx));
    },
  });
}

/** Starts reporting to `api`; returns the stop function. */
export function startAppStateReporter(api: EngineApi): () => void {
  let last: AppStateDto | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let warned = false;
  const send = () => {
    timer = null;
    const next = currentAppState();
    if (!needsSending(next, last)) return;
    last = next;
    api.setAppState(next).catch((e: unknown) => {
      last = null; // sent again with the next change
      if (!warned) {
        warned = true;
        reportError(e, 'Updating the window title and menus');
      }
    });
  };
  send();
  const unsubscribe = useStore.subscribe(() => {
    timer ??= setTimeout(send, REPORT_MS);
  });
  return () => {
    unsubscribe();
    if (timer !== null) clearTimeout(timer);
  };
}
