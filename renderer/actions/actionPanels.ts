/**
 * Show / hide the panels under the canvas (the View menu's checkboxes in the desktop app, the panel
 * headers everywhere). Their open state lives in the store so a menu, a file opened from outside
 * (a checkpoint opens the Training panel) and the headers all agree.
 */
import type { PanelName } from '../state/appState';
import { togglePane } from '../state/workspacePanes';
import { mod, register } from './registry';
import type { Action } from './types';

function panelToggle(name: string, panel: PanelName, label: string): Action {
  return register({
    name,
    label,
    category: 'View',
    perform(ctx) {
      ctx.state().togglePanel(panel);
    },
  });
}

export const actionToggleSummary = panelToggle('toggleSummary', 'summary', 'Show / hide the model summary');
export const actionToggleTraining = panelToggle('toggleTraining', 'training', 'Show / hide the Training panel');
export const actionToggleDataset = panelToggle('toggleDataset', 'dataset', 'Show / hide the Dataset panel');

/**
 * Fold away or bring back a side pane (the layer palette, the inspector) for a wider canvas. The panes are
 * react-resizable-panels panes (Workspace.tsx); dragging a separator to the edge folds one the same way.
 * The keys are VS Code's for its two side bars (Ctrl+I is the desktop app's Import Weights).
 */
function paneToggle(name: string, pane: 'palette' | 'inspector', label: string, alt: boolean): Action {
  return register({
    name,
    label,
    category: 'View',
    keys: [alt ? 'Ctrl+Alt+B' : 'Ctrl+B'],
    keyTest: (e) => mod(e) && !e.shiftKey && e.altKey === alt && e.code === 'KeyB',
    perform() {
      togglePane(pane);
    },
  });
}

export const actionTogglePalette = paneToggle('togglePalette', 'palette', 'Show / hide the layer palette', false);
export const actionToggleInspector = paneToggle('toggleInspector', 'inspector', 'Show / hide the inspector', true);
