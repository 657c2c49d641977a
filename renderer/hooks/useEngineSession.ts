/**
 * Connects the store to the engine: mirrors the connection state, and on each (re)connection
 * says hello (API version check), loads the catalog and the recent list, and — once per app
 * start — offers to recover unsaved work.
 */
import { useEffect } from 'react';
import { API_VERSION } from '../../engine/contract/api';
import type { EngineClient } from '../api/client';
import { reportError } from '../actions/registry';
import { useStore } from '../state/store';

export function useEngineSession(client: EngineClient) {
  useEffect(() => {
    const { api, connection } = client;
    useStore.setState({ api, connection: connection.get() });
    let recoveryChecked = false;
    let wasOpen = false;

    const onOpen = async () => {
      try {
        const hello = await api.hello({});
        if (hello.apiVersion !== API_VERSION)
          useStore.getState().toast({
            kind: 'error',
            message: `The engine speaks API version ${hello.apiVersion}; this app expects ${API_VERSION}.`,
            hint: 'Run the app and the engine from the same Netloom install.',
          });
        // netloom serve closes the runs no connection uses (engine/host/run-keeper.ts): after a reconnect, this
        // connection says that it uses the app's run (a run closed meanwhile answers with an error, ignored here)
        const runId = useStore.getState().run.runId;
        if (runId) api.getRun({ runId }).catch(() => {});
        const catalog = await api.getCatalog({});
        useStore.getState().setCatalog(catalog);
        api.recentProjects({}).then((recent) => useStore.setState({ recent }), () => {});
        if (!recoveryChecked) {
          recoveryChecked = true;
          const rec = await api.readRecovery({});
          if (rec && useStore.getState().dialog === null) useStore.getState().setDialog({ kind: 'recover', savedAt: rec.savedAt, project: rec.project, path: rec.path });
        }
      } catch (e) {
        if (useStore.getState().catalog.length === 0) useStore.setState({ catalogError: 'The layer catalog could not be loaded.' });
        reportError(e, 'Connecting to the engine');
      }
    };

    const unsubConn = connection.subscribe((s) => {
      useStore.setState({ connection: s });
      if (s.status === 'open' && !wasOpen) void onOpen();
      wasOpen = s.status === 'open';
    });
    if (connection.get().status === 'open') {
      wasOpen = true;
      void onOpen();
    }
    const unsubEvents = api.onEvent((e) => {
      if (e.type === 'recent.changed') useStore.setState({ recent: e.recent });
    });
    return () => {
      unsubConn();
      unsubEvents();
    };
  }, [client]);
}
