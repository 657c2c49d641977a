/**
 * The React Flow canvas. It renders the store's nodes and edges and turns gestures into
 * actions: drop from the palette (actionAddLayer), connect (actionConnect, refused with a
 * reason), drag (one undo step per drag), a connection let go on empty canvas (quick-add,
 * connected). Deleting goes through actionDelete, so React Flow's own delete key is off.
 */
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type NodeChange,
  type OnConnectEnd,
  type ReactFlowInstance,
} from '@xyflow/react';
import { useCallback, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import { actionAddLayer } from '../actions/actionAddLayer';
import { actionConnect } from '../actions/actionConnect';
import { run, setFlow } from '../actions/registry';
import { useStore } from '../state/store';
import { GroupNameDialog } from '../dialogs/GroupNameDialog';
import { groupOfViewId, groupView, type CanvasNode, type Size } from './groupView';
import { routeGroupChanges } from './groupChanges';
import '../styles/groups.css';
import { useLabelledEdges } from './useLabelledEdges';
import { EmptyState } from './EmptyState';
import { connectionProblem } from './isValidConnection';
import { edgeTypes, nodeTypes } from './nodeTypes';
import { setPane, trackPointer } from './pointer';
import { QuickAdd } from './QuickAdd';
import { useMinimapCorner } from './useMinimapCorner';
import { useRefitOnResize } from './useRefitOnResize';
import { actionFitView } from '../actions/actionFitView';
import { IconFit } from '../panels/icons';
import type { GraphEdge, LayerNode } from '../state/graph';
import { groupClass, isIncomplete } from './LayerNode';

export const LAYER_MIME = 'application/netloom-layer';
const NODE_HALF_WIDTH = 110;

const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];
const FIT_OPTIONS = { padding: 0.15, maxZoom: 1.1 };
const PRO_OPTIONS = { hideAttribution: true };
const DEFAULT_EDGE_OPTIONS = { type: 'shape' };

function isValidConnection(c: Connection | Edge): boolean {
  return connectionProblem(useStore.getState(), c) === null;
}

function minimapColor(n: CanvasNode): string {
  if (n.type === 'groupFrame') return 'transparent';
  if (n.type === 'groupCollapsed') return 'var(--accent)';
  const s = useStore.getState();
  const issues = s.analysis?.issuesByNode[n.id];
  if (issues && !isIncomplete(issues)) return 'var(--danger)';
  return `var(--${groupClass(s.catalogByType[n.data.type]?.group)})`;
}

/** The minimap, in a corner where it covers no problem callout (hidden while none is free). */
function CanvasMinimap() {
  const place = useMinimapCorner();
  if (!place) return null;
  // the box's size less our 1 px border each side (minimapCorner.ts measures the outside)
  const style = { width: place.box.width - 2, height: place.box.height - 2 };
  return <MiniMap position={place.corner} style={style} pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} maskColor="var(--minimap-mask)" />;
}

/** Refits when the pane is resized and the view is still the last fit's (useRefitOnResize.ts). */
function RefitOnResize() {
  useRefitOnResize();
  return null;
}

export function Canvas() {
  const layers = useStore((s) => s.nodes);
  const groups = useStore((s) => s.groups);
  // edges named by their layers for screen readers (React Flow's default names them by id)
  const labelled = useLabelledEdges(useStore((s) => s.edges));
  // measured sizes of collapsed groups' nodes (view state: they are not in the document)
  const [sizes, setSizes] = useState<Record<string, Size>>({});
  const { nodes, edges } = useMemo(() => groupView(layers, labelled, groups, sizes), [layers, labelled, groups, sizes]);
  const theme = useStore((s) => s.theme);
  const onNodesChange = useCallback((changes: NodeChange<CanvasNode>[]) => {
    const layerChanges = changes.filter((c) => !('id' in c) || groupOfViewId(c.id) === null) as NodeChange<LayerNode>[];
    useStore.getState().onNodesChange(layerChanges);
    routeGroupChanges(changes, setSizes);
  }, []);
  // a click on a layer of the selected group selects that layer alone (React Flow sends no change: it was selected)
  const onNodeClick = useCallback((e: ReactMouseEvent, n: CanvasNode) => {
    const s = useStore.getState();
    if (s.selectedGroup && groupOfViewId(n.id) === null && !(e.shiftKey || e.metaKey || e.ctrlKey)) s.select([n.id]);
  }, []);
  const onEdgesChange = useStore((s) => s.onEdgesChange);
  const flowRef = useRef<ReactFlowInstance<CanvasNode, GraphEdge> | null>(null);

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(LAYER_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback((e: DragEvent) => {
    const type = e.dataTransfer.getData(LAYER_MIME);
    if (!type) return;
    e.preventDefault();
    const flow = flowRef.current;
    if (!flow) return;
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    run(actionAddLayer, { type, position: { x: p.x - NODE_HALF_WIDTH, y: p.y - 20 } });
  }, []);

  const onConnect = useCallback((c: Connection) => run(actionConnect, c), []);

  const onConnectEnd: OnConnectEnd = useCallback((event, state: FinalConnectionState) => {
    const s = useStore.getState();
    if (state.isValid) return;
    if (state.toHandle && state.fromNode) {
      // let go over a handle that refused: say why
      const from = state.fromHandle?.type === 'target' ? state.toHandle : state.fromHandle;
      const to = state.fromHandle?.type === 'target' ? state.fromHandle : state.toHandle;
      if (from && to) {
        const problem = connectionProblem(s, { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null });
        if (problem) s.toast({ kind: 'error', message: problem });
      }
      return;
    }
    // let go on empty canvas from an output: open quick-add there and connect the new layer
    const target = event.target as HTMLElement | null;
    if (state.fromNode && state.fromHandle?.type === 'source' && target?.classList.contains('react-flow__pane') && flowRef.current) {
      const pt = 'changedTouches' in event ? event.changedTouches[0] : event;
      const screen = { x: pt.clientX, y: pt.clientY };
      s.setQuickAdd({ screen, flow: flowRef.current.screenToFlowPosition(screen), connectFrom: state.fromNode.id });
    }
  }, []);

  return (
    <div
      className="canvas"
      ref={setPane}
      onPointerMove={(e) => trackPointer(e.clientX, e.clientY)}
      // On the wrapper, not on <ReactFlow>: a drop on the empty-canvas card (which sits over
      // the pane, in the middle of the canvas) must add the layer too.
      onDragOver={onDragOver}
      onDrop={onDrop}
      data-testid="canvas"
    >
      <ReactFlow<CanvasNode, GraphEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeClick={onNodeClick}
        onNodeDragStart={(_e, _n, dragged) => useStore.getState().beginDrag(dragged.map((n) => n.id))}
        onNodeDragStop={() => useStore.getState().endDrag()}
        onInit={(inst) => {
          flowRef.current = inst;
          // actions see the layers only; frames and collapsed groups are drawn from them
          setFlow(inst as unknown as ReactFlowInstance<LayerNode, GraphEdge>);
        }}
        colorMode={theme}
        deleteKeyCode={null}
        panActivationKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionKeyCode="Shift"
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.1}
        maxZoom={2.5}
        snapToGrid
        snapGrid={[8, 8]}
        proOptions={PRO_OPTIONS}
        connectionRadius={28}
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1.2} />
        {nodes.length > 0 && <CanvasMinimap />}
        <RefitOnResize />
        {/* React Flow's own fit button would fit a long chain at an unreadable zoom: ours fits readably (fit.ts) */}
        <Controls showInteractive={false} showFitView={false}>
          <ControlButton className="react-flow__controls-fitview" onClick={() => run(actionFitView, undefined)} title="Zoom to fit (F)" aria-label="Fit view" data-testid="controls-fit">
            <IconFit />
          </ControlButton>
        </Controls>
      </ReactFlow>
      {nodes.length === 0 && <EmptyState />}
      <QuickAdd />
      <GroupNameDialog />
    </div>
  );
}
