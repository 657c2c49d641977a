/**
 * The workspace under the toolbar: palette | canvas over the results dock | inspector, in resizable
 * panes (react-resizable-panels). Why this arrangement: on a 13-inch laptop (1280x720) the canvas is
 * where the work is, so it keeps at least half the centre column; the results (model summary,
 * Training, Dataset: the existing collapsible panels, stacked) share one dock under it that scrolls
 * when they need more room than it has, instead of pushing the canvas to a sliver. The side panes
 * fold away to nothing for a wide canvas. The canvas pane also holds what floats over the drawing: the graph
 * diff (top right) and the toasts (bottom left). Every separator is a focusable ARIA separator that the
 * arrow keys move (the library's), and a double click puts its pane back to the default size.
 *
 * Sizes and folded states are the library's layouts, kept in localStorage per user (useDefaultLayout),
 * so they survive a reload; which dock panels are open is kept beside them (state/workspacePanes.ts).
 */
import { useEffect, useRef } from 'react';
import { Group, Panel, Separator, useDefaultLayout, usePanelRef, type PanelImperativeHandle } from 'react-resizable-panels';
import { Canvas } from './canvas/Canvas';
import { DatasetPanel } from './panels/DatasetPanel';
import { DiffPanel } from './panels/DiffPanel';
import { Inspector } from './panels/Inspector';
import { Palette } from './panels/Palette';
import { Summary } from './panels/Summary';
import { Toasts } from './panels/Toasts';
import { TrainingPanel } from './panels/TrainingPanel';
import type { Panels } from './state/appState';
import { useStore } from './state/store';
import './styles/workspace.css';
import { DOCK_HEIGHTS, LAYOUT_IDS, dockWanted, savePanels, setPaneHandle, type PaneName } from './state/workspacePanes';

/** The dock never takes more than this share of the centre column: the canvas keeps the rest. */
const DOCK_MAX = 45;
/** A folded dock still shows the three panel headers, so each can be opened from there. */
const DOCK_FOLDED = dockWanted({ summary: false, training: false, dataset: false });

/** Registers a pane's imperative handle for the toggle actions while it is mounted. */
function usePane(name: PaneName) {
  const ref = usePanelRef();
  useEffect(() => {
    setPaneHandle(name, ref.current);
    return () => setPaneHandle(name, null);
  }, [name, ref]);
  return ref;
}

/**
 * Makes the dock follow its panels: all folded, it folds to their headers; a panel opened (from its
 * header, the View menu or a shortcut) gets room, up to DOCK_MAX of the column (the dock scrolls for the rest).
 */
function fitDock(dock: PanelImperativeHandle, before: Panels, now: Panels): void {
  if (!now.summary && !now.training && !now.dataset) {
    dock.collapse();
    return;
  }
  const opened = (['summary', 'training', 'dataset'] as const).some((k) => now[k] && !before[k]);
  if (!opened) return;
  // one resize, also out of the folded state (expand() would go back to the last size, often the minimum)
  const { inPixels, asPercentage } = dock.getSize();
  const column = asPercentage > 0 ? (inPixels * 100) / asPercentage : 0;
  const want = Math.min(dockWanted(now), (column * DOCK_MAX) / 100);
  if (dock.isCollapsed() || inPixels < want - 1) dock.resize(`${Math.floor(want)}px`);
}

/** Remembers the dock panels' open flags and fits the dock to them when they change. */
function useDockFollowsPanels(dock: React.RefObject<PanelImperativeHandle | null>): void {
  const panels = useStore((s) => s.panels);
  const prev = useRef(panels);
  useEffect(() => {
    const before = prev.current;
    prev.current = panels;
    if (before === panels) return;
    savePanels(panels);
    if (dock.current) fitDock(dock.current, before, panels);
  }, [panels, dock]);
}

/** A separator with a name for screen readers (what it resizes) and a test id. */
function PaneSeparator({ id, label }: { id: string; label: string }) {
  return <Separator id={id} className="pane-separator" aria-label={label} data-testid={id} />;
}

export function Workspace() {
  const sides = useDefaultLayout({ id: LAYOUT_IDS.sides, storage: localStorage });
  const center = useDefaultLayout({ id: LAYOUT_IDS.center, storage: localStorage });
  const palette = usePane('palette');
  const inspector = usePane('inspector');
  const dock = usePane('dock');
  useDockFollowsPanels(dock);
  return (
    <Group id="workspace" className="workspace" orientation="horizontal" defaultLayout={sides.defaultLayout} onLayoutChanged={sides.onLayoutChanged}>
      <Panel id="pane-palette" className="pane" panelRef={palette} collapsible collapsedSize={0} minSize={170} maxSize={380} defaultSize={232} groupResizeBehavior="preserve-pixel-size">
        <Palette />
      </Panel>
      <PaneSeparator id="sep-palette" label="Resize the layer palette" />
      <Panel id="pane-center" className="pane" minSize="35%">
        <Group id="workspace-center" className="workspace-center" orientation="vertical" defaultLayout={center.defaultLayout} onLayoutChanged={center.onLayoutChanged}>
          <Panel id="pane-canvas" className="pane canvas-pane" minSize={`${100 - DOCK_MAX}%`}>
            <Canvas />
            <DiffPanel />
            <Toasts />
          </Panel>
          <PaneSeparator id="sep-dock" label="Resize the results dock" />
          <Panel
            id="pane-dock"
            className="pane dock"
            panelRef={dock}
            collapsible
            collapsedSize={DOCK_FOLDED}
            minSize={DOCK_FOLDED + DOCK_HEIGHTS.header}
            maxSize={`${DOCK_MAX}%`}
            defaultSize={dockWanted({ summary: true, training: false, dataset: false })}
          >
            <Summary />
            <TrainingPanel />
            <DatasetPanel />
          </Panel>
        </Group>
      </Panel>
      <PaneSeparator id="sep-inspector" label="Resize the inspector" />
      <Panel id="pane-inspector" className="pane" panelRef={inspector} collapsible collapsedSize={0} minSize={240} maxSize={520} defaultSize={320} groupResizeBehavior="preserve-pixel-size">
        <Inspector />
      </Panel>
    </Group>
  );
}
