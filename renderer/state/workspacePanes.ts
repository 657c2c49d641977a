/**
 * The workspace's resizable panes (palette | canvas over the results dock | inspector) as the actions
 * and the View toggles reach them. The panes themselves belong to react-resizable-panels (sizes and
 * collapsed states are its layout, persisted by its useDefaultLayout); Workspace.tsx hands their
 * imperative handles here so a keyboard action can collapse or expand one without a React tree.
 *
 * Also what the window remembers per user besides the pane sizes: which dock panels are open. It is
 * kept in localStorage (the Electron profile in the desktop app), like the theme.
 */
import type { PanelImperativeHandle } from 'react-resizable-panels';
import { DEFAULT_PANELS, type Panels } from './appState';

export type PaneName = 'palette' | 'inspector' | 'dock';

const handles = new Map<PaneName, PanelImperativeHandle>();

/** Workspace.tsx registers a pane's handle when it mounts (null: unmounted). */
export function setPaneHandle(name: PaneName, handle: PanelImperativeHandle | null): void {
  if (handle) handles.set(name, handle);
  else handles.delete(name);
}

/** Collapses an open pane or expands a collapsed one; false when the pane is not on screen. */
export function togglePane(name: PaneName): boolean {
  const h = handles.get(name);
  if (!h) return false;
  if (h.isCollapsed()) h.expand();
  else h.collapse();
  return true;
}

export function paneHandle(name: PaneName): PanelImperativeHandle | undefined {
  return handles.get(name);
}

/** localStorage keys: the library's layouts (one per group) and the dock panels' open flags. */
export const LAYOUT_IDS = { sides: 'netloom.workspace.sides', center: 'netloom.workspace.center' } as const;
const PANELS_KEY = 'netloom.workspace.panels';

/** The dock panels' open flags as last left, or the defaults (nothing stored, storage blocked, or garbage). */
export function loadPanels(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Panels {
  try {
    const raw: unknown = JSON.parse(storage?.getItem(PANELS_KEY) ?? 'null');
    if (!raw || typeof raw !== 'object') return { ...DEFAULT_PANELS };
    const r = raw as Record<string, unknown>;
    const flag = (k: keyof Panels) => (typeof r[k] === 'boolean' ? (r[k] as boolean) : DEFAULT_PANELS[k]);
    return { summary: flag('summary'), training: flag('training'), dataset: flag('dataset') };
  } catch {
    return { ...DEFAULT_PANELS };
  }
}

export function savePanels(panels: Panels, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(PANELS_KEY, JSON.stringify(panels));
  } catch {
    // storage full or blocked: the panels still work, they are just not remembered
  }
}

/** Pixel heights of the dock's panels (their CSS): a folded one is its 38 px header. */
export const DOCK_HEIGHTS = { header: 38, summary: 208, training: 430, dataset: 400 } as const;

/** How tall the dock wants to be to show its open panels whole. */
export function dockWanted(panels: Panels): number {
  let h = 0;
  for (const k of ['summary', 'training', 'dataset'] as const) h += panels[k] ? DOCK_HEIGHTS[k] : DOCK_HEIGHTS.header;
  return h + 3; // the panels' top borders
}
