/**
 * Crash safety: every few seconds while there are unsaved changes, the project goes to the
 * engine's recovery file (api.writeRecovery); and closing the tab with unsaved changes asks first.
 * In the desktop app the window's close request asks instead (actions/closeRequest.ts): there a
 * beforeunload veto would silently keep the window open after the user chose Don't save.
 */
import { useEffect } from 'react';
import { selectDirty, useStore } from '../state/store';

const AUTOSAVE_MS = 4000;

export function useAutosave() {
  useEffect(() => {
    let written = -1;
    const t = setInterval(() => {
      const s = useStore.getState();
      if (!s.api || s.connection.status !== 'open' || !selectDirty(s) || s.revision === written || s.nodes.length === 0) return;
      const revision = s.revision;
      s.api.writeRecovery({ project: s.toProject(), path: s.project.path }).then(
        () => {
          written = revision;
        },
        (e) => console.warn('autosave failed', e),
      );
    }, AUTOSAVE_MS);
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      const s = useStore.getState();
      if (s.host?.kind === 'desktop' || s.connection.transport === 'electron') return;
      if (!selectDirty(s) || s.nodes.length === 0) return;
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      clearInterval(t);
      window.removeEventListener('beforeunload', onBeforeUnload);
    };
  }, []);
}
