/**
 * The app's state as the host's window and menus need it (AppStateDto), built from plain inputs so it
 * can be checked without a browser. hooks/useDesktopHost.ts gathers the inputs from the store and the
 * action registry and sends the result with setAppState when it differs from the last one sent.
 */
import { MENU_ACTIONS, type AppStateDto } from '../../engine/contract/api';
import { sameJson } from './sameJson';


/** The panels under the canvas that View menu items show and hide. */
export type PanelName = 'summary' | 'training' | 'dataset';
export type Panels = Record<PanelName, boolean>;
export const DEFAULT_PANELS: Panels = { summary: true, training: false, dataset: false };

/** The toggle action of each panel (its menu item is a checkbox). */
export const PANEL_ACTIONS: Readonly<Record<PanelName, string>> = { summary: 'toggleSummary', training: 'toggleTraining', dataset: 'toggleDataset' };

/** The window title: the same text as the page's title ("● " marks unsaved changes to a drawn graph). */
export function windowTitle(projectName: string, dirty: boolean, nodeCount: number): string {
  return `${dirty && nodeCount ? '● ' : ''}${projectName} — Netloom`;
}

/**
 * Unsaved work worth a question before it is lost: changes since the last save (selectDirty), except on an
 * untitled canvas that is empty again (nothing would be lost; the close and open guards do not ask then).
 */
export function hasUnsavedWork(dirty: boolean, nodeCount: number, projectPath: string | null): boolean {
  return dirty && (nodeCount > 0 || projectPath !== null);
}

export interface AppStateInput {
  projectName: string;
  projectPath: string | null;
  /** selectDirty */
  dirty: boolean;
  nodeCount: number;
  /** a run is starting, running or paused */
  training: boolean;
  panels: Panels;
  /** whether a menu action may run now (registered, its predicate passes, no modal dialog open) */
  isEnabled(name: string): boolean;
}

export function buildAppState(i: AppStateInput): AppStateDto {
  const enabled: Record<string, boolean> = {};
  for (const name of MENU_ACTIONS) enabled[name] = i.isEnabled(name);
  const checked: Record<string, boolean> = {};
  for (const [panel, action] of Object.entries(PANEL_ACTIONS)) checked[action] = i.panels[panel as PanelName];
  return {
    title: windowTitle(i.projectName, i.dirty, i.nodeCount),
    projectPath: i.projectPath,
    dirty: hasUnsavedWork(i.dirty, i.nodeCount, i.projectPath),
    training: i.training,
    enabled,
    checked,
  };
}

/** Whether a state needs sending: never sent yet, or different from the last one sent. */
export function needsSending(next: AppStateDto, last: AppStateDto | null): boolean {
  return last === null || !sameJson(next, last);
}
