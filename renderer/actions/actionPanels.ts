/**
 * Show / hide the panels under the canvas (the View menu's checkboxes in the desktop app, the panel
 * headers everywhere). Their open state lives in the store so a menu, a file opened from outside
 * (a checkpoint opens the Training panel) and the headers all agree.
 */
import type { PanelName } from '../state/appState';
import { register } from './registry';
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
