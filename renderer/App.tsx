/**
 * The app shell: toolbar, the workspace's resizable panes (Workspace.tsx: palette | canvas over the results dock |
 * inspector), and the overlays (dialogs, quick-add, toasts, the connection banner). It wires the engine session,
 * live analysis, autosave, the host (desktop window or browser tab: its menus, dialogs, commands and
 * close request), files dropped on the window, and the keyboard (all shortcuts are registered actions).
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect } from 'react';
import './actions';
import { handleKeyDown } from './actions/registry';
import type { EngineClient } from './api/client';
import { CheckpointDialog } from './dialogs/CheckpointDialog';
import { CheckpointLoadDialog } from './dialogs/CheckpointLoadDialog';
import { ConfirmDialog } from './dialogs/ConfirmDialog';
import { FileDialog } from './dialogs/FileDialog';
import { HelpOverlay } from './dialogs/HelpOverlay';
import { ImportOnnxDialog } from './dialogs/ImportOnnxDialog';
import { NewDialog } from './dialogs/NewDialog';
import { RecoverDialog } from './dialogs/RecoverDialog';
import { useAnalysis } from './hooks/useAnalysis';
import { useAutosave } from './hooks/useAutosave';
import { useDesktopHost } from './hooks/useDesktopHost';
import { useGlobalDrop } from './hooks/useGlobalDrop';
import { useEngineSession } from './hooks/useEngineSession';
import { useRunEvents } from './hooks/useRunEvents';
import { ConnectionBanner } from './panels/ConnectionBanner';
import { Toolbar } from './panels/Toolbar';
import { windowTitle } from './state/appState';
import { selectDirty, useStore } from './state/store';
import { Workspace } from './Workspace';

export function App({ client }: { client: EngineClient }) {
  useEngineSession(client);
  useAnalysis();
  useAutosave();
  useRunEvents();
  useDesktopHost();
  useGlobalDrop();
  const theme = useStore((s) => s.theme);
  const title = useStore((s) => windowTitle(s.project.name, selectDirty(s), s.nodes.length));
  const hostKind = useStore((s) => s.host?.kind ?? 'unknown');

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  useEffect(() => {
    document.title = title;
  }, [title]);
  useEffect(() => {
    window.addEventListener('keydown', handleKeyDown);
    return () => window.removeEventListener('keydown', handleKeyDown);
  }, []);

  return (
    <ReactFlowProvider>
      <div className="app" data-host={hostKind}>
        <Toolbar />
        <ConnectionBanner onRetry={client.connection.retry} />
        <Workspace />
        <NewDialog />
        <FileDialog />
        <ConfirmDialog />
        <RecoverDialog />
        <CheckpointDialog />
        <CheckpointLoadDialog />
        <ImportOnnxDialog />
        <HelpOverlay />
      </div>
    </ReactFlowProvider>
  );
}
