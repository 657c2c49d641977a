/**
 * The app shell: toolbar, palette | canvas | inspector, model summary and training under the canvas, and the
 * overlays (dialogs, quick-add, toasts, the connection banner). It wires the engine session,
 * live analysis, autosave, the host (desktop window or browser tab: its menus, dialogs, commands and
 * close request), files dropped on the window, and the keyboard (all shortcuts are registered actions).
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect } from 'react';
import './actions';
import { handleKeyDown } from './actions/registry';
import type { EngineClient } from './api/client';
import { Canvas } from './canvas/Canvas';
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
import { DatasetPanel } from './panels/DatasetPanel';
import { DiffPanel } from './panels/DiffPanel';
import { Inspector } from './panels/Inspector';
import { Palette } from './panels/Palette';
import { Summary } from './panels/Summary';
import { Toasts } from './panels/Toasts';
import { Toolbar } from './panels/Toolbar';
import { TrainingPanel } from './panels/TrainingPanel';
import { windowTitle } from './state/appState';
import { selectDirty, useStore } from './state/store';

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
        <div className="workspace">
          <Palette />
          <main className="center">
            <Canvas />
            <DiffPanel />
            <Summary />
            <TrainingPanel />
            <DatasetPanel />
          </main>
          <Inspector />
        </div>
        <NewDialog />
        <FileDialog />
        <ConfirmDialog />
        <RecoverDialog />
        <CheckpointDialog />
        <CheckpointLoadDialog />
        <ImportOnnxDialog />
        <HelpOverlay />
        <Toasts />
      </div>
    </ReactFlowProvider>
  );
}
