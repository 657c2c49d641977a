/**
 * The app as a citizen of its host (a desktop window, or a browser tab under `netloom serve`):
 *   - asks hostInfo once connected and keeps it in the store (`host`): native dialogs, the home folder;
 *   - reports AppState whenever it changes (hooks/appStateReporter.ts). A browser host ignores it, but the
 *     same code runs in both, so the browser tests cover it;
 *   - handles app.command events: menu items, Edit items, files to open, the close request
 *     (actions/appCommands.ts).
 */
import { useEffect } from 'react';
import { handleAppCommand } from '../actions/appCommands';
import { reportError } from '../actions/registry';
import { useStore } from '../state/store';
import { startAppStateReporter } from './appStateReporter';

export function useDesktopHost(): void {
  const api = useStore((s) => s.api);
  const connected = useStore((s) => s.connection.status === 'open');

  useEffect(() => {
    if (!api || !connected) return;
    let live = true;
    api.hostInfo({}).then(
      (host) => live && useStore.setState({ host }),
      (e: unknown) => reportError(e, 'Asking the host what it offers'),
    );
    return () => {
      live = false;
    };
  }, [api, connected]);

  // a new connection (or a reloaded page) reports afresh
  useEffect(() => {
    if (!api || !connected) return;
    return startAppStateReporter(api);
  }, [api, connected]);

  useEffect(() => {
    if (!api) return;
    return api.onEvent((e) => {
      if (e.type === 'app.command') void handleAppCommand(e.command, e.path);
    });
  }, [api]);
}
