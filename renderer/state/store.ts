/**
 * The renderer's one store (zustand). Components read it through narrow selectors
 * (`useStore((s) => s.batchSize)`), never the whole state. Graph edits go through `commit`
 * with a GraphChange list, which is what undo/redo replays (state/history.ts).
 */
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react';
import { create, type StateCreator } from 'zustand';
import type { AnalysisDto, DevicesDto, EngineApi, EvaluationDto, ExportFormatDto, GraphDto, HostInfoDto, HyperDto, IssueDto, LayerDto, ParamsFormDto, ProjectDto, RunStateDto, TrainingIssueDto } from '../../engine/contract/api';
import { RUN_DEFAULTS } from '../../engine/contract/settings';
import type { ConnectionState } from '../api/client';
import { toastLifetimeMs, type ToastAction } from './toasts';
import { loadPanels } from './workspacePanes';
import { hasUnsavedWork, type PanelName, type Panels } from './appState';
import {
  applyChanges,
  applyGroupChanges,
  docNode,
  fromGraphDto,
  fromGroupDtos,
  groupDto,
  toFlowEdge,
  toFlowNode,
  toGraphDto,
  trainingAfter,
  type DocGroup,
  type GraphChange,
  type GraphEdge,
  type LayerNode,
  type Position,
} from './graph';
import { memberIds } from './groups';
import { emptyHistory, record, redo, undo, type History } from './history';
import type { StoredRun } from './runs';
import type { EffectiveSettings } from './training';

export interface ProjectMeta {
  name: string;
  /** where it was opened from / saved to; null for a new project */
  path: string | null;
  version: number;
  /** the project's training section, kept untouched */
  training?: Record<string, unknown>;
  /** any other top-level keys of the file, kept untouched */
  extra: Record<string, unknown>;
}

export interface AnalysisView {
  batchSize: number;
  nodes: Record<string, AnalysisDto['nodes'][number]>;
  edgeShapes: Record<string, number[] | null>;
  issuesByNode: Record<string, IssueDto[]>;
  issuesByEdge: Record<string, IssueDto[]>;
  /** problems not tied to a node (no Input, no loss) */
  graphIssues: IssueDto[];
  issues: IssueDto[];
  summary: AnalysisDto['summary'];
  /** each group as its collapsed node shows it (path, shapes in and out, parameters of all copies), by group id */
  groups: Record<string, NonNullable<AnalysisDto['groups']>[number]>;
}

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  message: string;
  hint?: string;
  code?: string;
  /** one button on the toast ("Undo"): clicking it runs `perform` and dismisses the toast */
  action?: ToastAction;
}

export type Dialog =
  | { kind: 'open' }
  | { kind: 'save' }
  | { kind: 'new' }
  | { kind: 'recover'; savedAt: string; project: ProjectDto; path: string | null }
  | ConfirmDialogSpec
  /** File ▸ Export: the run's weights (or, for PyTorch code, the model alone) in one of the formats; default safetensors */
  | { kind: 'checkpoint'; format?: ExportFormatDto }
  | { kind: 'checkpoint-load' }
  /** File ▸ Import ▸ ONNX Model: the model's file, opened as a new project with its weights pending */
  | { kind: 'import-onnx' }
  /** choose a dataset of one's own for training (Training panel) */
  | { kind: 'dataset'; mode: 'torchvision' | 'image-folder' | 'csv' }
  /** Group (Ctrl+G): the new submodule's name, checked as it is typed; `selected` are the layers to group */
  | { kind: 'group-name'; selected: string[]; suggested: string };

/**
 * A question with a confirm button, optionally a third "discard" answer (Save / Discard / Cancel).
 * Cancel, Escape, the backdrop and × all call onCancel.
 */
export interface ConfirmDialogSpec {
  kind: 'confirm';
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  /** the confirm button is the safe, expected answer (Save), not a destructive one (the default) */
  safe?: boolean;
  discardLabel?: string;
  onDiscard?: () => void;
  onCancel?: () => void;
}

/** An image dropped on the window, waiting for the playground to take it. */
export interface PlaygroundDrop {
  id: number;
  file: File;
}

/** A checkpoint compared with the current graph (checkpointReport, dry run): shown in the panel and on the nodes. */
export interface CheckpointReportView {
  path: string;
  ok: boolean;
  nodes: { nodeId: string; name: string; type: string; keys: string[]; missing: string[]; unexpected: string[]; mismatched: { key: string; fileShape: number[]; modelShape: number[] }[]; ok: boolean }[];
  /** file keys that belong to no node of the graph */
  unassigned: string[];
  problems: string[];
  resumable: boolean;
  /** what the engine says about the load beyond the per-node report (a 'module.' prefix dropped, an ONNX import's notes) */
  notes?: string[];
  /** how the header names the weights when the file is not the user's own (an ONNX import's weights: "weights of model.onnx") */
  label?: string;
}

/**
 * Run-only options of the Training panel. Every other setting lives in the project's training section
 * (edited with undoable setTraining changes, saved with the project).
 */
export interface TrainSettings {
  /** overrides.limitTrain; null = the whole training split */
  limitTrain: number | null;
}

/** A dataset file being downloaded while the app's run prepares (the latest dataset.download event). */
export interface DownloadView {
  dataset: string;
  file: string;
  index: number;
  count: number;
  received: number;
  total: number | null;
  bytesPerSec: number;
  done: boolean;
}

/** The engine's verdict on the training section (checkTraining), for the settings it was asked about. */
export interface TrainingCheck {
  /** JSON of the training section (and sample count) checked */
  key: string;
  issues: TrainingIssueDto[];
  warnings: string[];
}

/** Forms of the optimizers and schedulers, from the engine's own schemas (trainingSchema). */
export interface TrainingForms {
  optimizers: ParamsFormDto[];
  schedulers: ParamsFormDto[];
}

/** The app's current training run (one at a time). Per-batch numbers live in charts/useMetricSeries.ts. */
export interface RunView {
  runId: string | null;
  /** startRun is in flight */
  starting: boolean;
  state: RunStateDto | null;
  epochs: number;
  error: { code: string; message: string; hint?: string } | null;
  evaluation: EvaluationDto | null;
  /** the confusion-matrix cell whose samples the gallery shows */
  cell: { actual: number; predicted: number } | null;
  /** the graph (and dataset) the run was started from: graphKey() */
  graphKey: string | null;
  /** the settings the run was started with and when (for the project's runs record) */
  settings: EffectiveSettings | null;
  startedAt: number | null;
  /** the graph the run trained (kept with its record: a stored run's "Compare with current") */
  graph: GraphDto | null;
  /** the optimizer settings in force now (start settings, then each resume's edits) */
  hyper: HyperDto | null;
  /** startRun's tag: dataset.download events carrying it belong to this app's run */
  tag: string | null;
  /** the run's id while it prepares (learnt from its download events), so Stop can abandon it */
  preparingRunId: string | null;
  /** the dataset file being downloaded while the run prepares */
  download: DownloadView | null;
  /** where the run trains, as the engine said when it started ("cuda:0 (NVIDIA H100 ...)", "CPU (...): no NVIDIA driver found") */
  device: string | null;
}

export const emptyRun = (): RunView => ({
  runId: null, starting: false, state: null, epochs: 0, error: null, evaluation: null, cell: null, graphKey: null, settings: null, startedAt: null, graph: null, hyper: null,
  tag: null, preparingRunId: null, download: null, device: null,
});
export const emptyTrainSettings = (): TrainSettings => ({ limitTrain: null });

export interface QuickAdd {
  /** where the popup opens, in client (screen) coordinates */
  screen: Position;
  /** where the layer lands, in flow coordinates */
  flow: Position;
  /** connect the new layer from this node's output (a connection dropped on empty canvas) */
  connectFrom?: string;
}

export type Theme = 'light' | 'dark';

const THEME_KEY = 'netloom.theme';
function initialTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    if (t === 'light' || t === 'dark') return t;
  } catch {
    // storage blocked: fall through
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The engine connection and what the engine says about the graph: the layer catalog, the analysis. */
export interface EngineSlice {
  api: EngineApi | null;
  connection: ConnectionState;
  /** the host around the app (hostInfo): desktop window or browser tab; null until it has answered */
  host: HostInfoDto | null;

  catalog: LayerDto[];
  catalogByType: Record<string, LayerDto>;
  catalogError: string | null;

  analysis: AnalysisView | null;
  analysisError: string | null;
  batchSize: number;

  setCatalog(list: LayerDto[]): void;
  setAnalysis(a: AnalysisDto): void;
  setBatchSize(n: number): void;
}

/** The graph on the canvas and its undo history. */
export interface GraphSlice {
  nodes: LayerNode[];
  edges: GraphEdge[];
  /** submodules (state/groups.ts); their frames and collapsed nodes are drawn from these (canvas/groupView.ts) */
  groups: DocGroup[];
  /** the group whose header (or collapsed node) was clicked: its layers are selected and the inspector shows it */
  selectedGroup: string | null;
  history: History;
  /** bumps on every change to the document; dirty = revision !== savedRevision */
  revision: number;
  savedRevision: number;
  /** node positions at the start of a drag, to record the move as one undo step */
  dragStart: Record<string, Position> | null;

  commit(changes: GraphChange[], label: string, opts?: { mergeKey?: string; selectAdded?: boolean }): void;
  undo(): void;
  redo(): void;
  onNodesChange(changes: NodeChange<LayerNode>[]): void;
  onEdgesChange(changes: EdgeChange<GraphEdge>[]): void;
  beginDrag(ids: string[]): void;
  endDrag(): void;
  select(nodeIds: string[], edgeIds?: string[]): void;
  /** selects a group's layers (nested ones too) and shows the group in the inspector; null clears it */
  selectGroup(id: string | null, additive?: boolean): void;
  /** moves a collapsed group's node while it is dragged (recorded as one step by endDrag) */
  moveGroup(id: string, position: Position): void;
}

/** The project file: loaded, saved, and what it keeps besides the graph. */
export interface ProjectSlice {
  project: ProjectMeta;

  loadProject(project: ProjectDto, path: string | null, opts?: { dirty?: boolean }): { hadPositions: boolean };
  toProject(): ProjectDto;
  markSaved(path: string, revision: number): void;
  /** appends a run record to the project's top-level `runs` (the document becomes dirty) */
  addRunRecord(r: StoredRun): void;
}

/** What the window shows around the canvas: theme, toasts, dialogs, panels. */
export interface UiSlice {
  theme: Theme;
  toasts: Toast[];
  dialog: Dialog | null;
  helpOpen: boolean;
  quickAdd: QuickAdd | null;
  recent: string[];
  /** which panels under the canvas are open (the View menu's checkboxes) */
  panels: Panels;
  playgroundDrop: PlaygroundDrop | null;

  toast(t: Omit<Toast, 'id'>): void;
  dismissToast(id: number): void;
  setTheme(t: Theme): void;
  setDialog(d: Dialog | null): void;
  setHelp(open: boolean): void;
  setQuickAdd(q: QuickAdd | null): void;
  setPanel(name: PanelName, open: boolean): void;
  togglePanel(name: PanelName): void;
  /** hands an image to the playground (null: taken) */
  setPlaygroundDrop(file: File | null): void;
}

/** The Training panel and the app's run. */
export interface TrainingSlice {
  trainSettings: TrainSettings;
  /** text in a training field that does not parse, by path ("optimizer.betas"): blocks Start */
  settingsErrors: Record<string, string>;
  trainingCheck: TrainingCheck | null;
  trainingForms: TrainingForms | null;
  devices: DevicesDto | null;
  run: RunView;
  /** the last checkpoint report, until dismissed (or another project is loaded) */
  ckptReport: CheckpointReportView | null;
  /** ids of stored runs whose loss curves the loss chart overlays */
  overlayRuns: string[];

  setTrainSettings(patch: Partial<TrainSettings>): void;
  /** records (message) or clears (null) a training field's parse error */
  setSettingsError(path: string, message: string | null): void;
  setRun(patch: Partial<RunView>): void;
  setCkptReport(r: CheckpointReportView | null): void;
  toggleOverlay(id: string): void;
}

export type State = EngineSlice & GraphSlice & ProjectSlice & UiSlice & TrainingSlice;

/** One slice's creator (zustand's slices pattern): it sees and sets the whole state. */
type SliceCreator<T> = StateCreator<State, [], [], T>;

let toastSeq = 1;
let dropSeq = 1;

/** The project with the training section that changes leave it (setTraining), or nothing when they do not touch it. */
function withTraining(project: ProjectMeta, changes: readonly GraphChange[]): { project?: ProjectMeta } {
  if (!changes.some((c) => c.kind === 'setTraining')) return {};
  return { project: { ...project, training: trainingAfter(project.training, changes) } };
}

/** The flow arrays, groups and project after changes (one place, so commit, undo and redo agree). */
function afterChanges(s: State, changes: readonly GraphChange[], selectAdded: boolean | undefined) {
  const { nodes, edges } = applyChanges(s.nodes, s.edges, changes, { selectAdded });
  const touchesGroups = changes.some((c) => c.kind === 'addGroup' || c.kind === 'removeGroup' || c.kind === 'updateGroup');
  const groups = touchesGroups ? applyGroupChanges(s.groups, changes) : s.groups;
  const selectedGroup = s.selectedGroup && groups.some((g) => g.id === s.selectedGroup) ? s.selectedGroup : null;
  return { nodes, edges, groups, selectedGroup, ...withTraining(s.project, changes) };
}

/** A drag-start key for a collapsed group's node, apart from the layers' ids. */
const groupDragKey = (id: string) => `group:${id}`;

const emptyProject = (): ProjectMeta => ({ name: 'Untitled', path: null, version: 1, extra: {} });

const engineSlice: SliceCreator<EngineSlice> = (set) => ({
  api: null,
  connection: { status: 'connecting', transport: 'websocket' },
  host: null,

  catalog: [],
  catalogByType: {},
  catalogError: null,

  analysis: null,
  analysisError: null,
  batchSize: RUN_DEFAULTS.batch_size,

  setCatalog(list) {
    set({ catalog: list, catalogByType: Object.fromEntries(list.map((l) => [l.type, l])), catalogError: null });
  },

  setAnalysis(a) {
    const issuesByNode: Record<string, IssueDto[]> = {};
    const issuesByEdge: Record<string, IssueDto[]> = {};
    const graphIssues: IssueDto[] = [];
    for (const i of a.issues) {
      if (i.nodeId) (issuesByNode[i.nodeId] ??= []).push(i);
      if (i.edgeId) (issuesByEdge[i.edgeId] ??= []).push(i);
      if (!i.nodeId && !i.edgeId) graphIssues.push(i);
    }
    set({
      analysis: {
        batchSize: a.batchSize,
        nodes: Object.fromEntries(a.nodes.map((n) => [n.id, n])),
        edgeShapes: Object.fromEntries(a.edges.map((e) => [e.id, e.shape])),
        issuesByNode,
        issuesByEdge,
        graphIssues,
        issues: a.issues,
        summary: a.summary,
        groups: Object.fromEntries((a.groups ?? []).map((g) => [g.id, g])),
      },
      analysisError: null,
    });
  },

  setBatchSize(n) {
    if (Number.isInteger(n) && n > 0) set({ batchSize: n });
  },
});

const graphSlice: SliceCreator<GraphSlice> = (set, get) => ({
  nodes: [],
  edges: [],
  groups: [],
  selectedGroup: null,
  history: emptyHistory(),
  revision: 0,
  savedRevision: 0,
  dragStart: null,

  commit(changes, label, opts = {}) {
    if (changes.length === 0) return;
    const s = get();
    set({
      ...afterChanges(s, changes, opts.selectAdded),
      history: record(s.history, { label, changes, mergeKey: opts.mergeKey, at: Date.now() }),
      revision: s.revision + 1,
    });
  },

  undo() {
    const s = get();
    const r = undo(s.history);
    if (!r) return;
    set({ ...afterChanges(s, r.changes, true), history: r.history, revision: s.revision + 1 });
  },

  redo() {
    const s = get();
    const r = redo(s.history);
    if (!r) return;
    set({ ...afterChanges(s, r.changes, true), history: r.history, revision: s.revision + 1 });
  },

  onNodesChange(changes) {
    // Removal goes through actionDelete (undoable); React Flow's own delete key is off.
    const kept = changes.filter((c) => c.type !== 'remove' && c.type !== 'add' && c.type !== 'replace');
    if (kept.length === 0) return;
    const s = get();
    const moves = kept.filter((c): c is Extract<NodeChange<LayerNode>, { type: 'position' }> => c.type === 'position' && !!c.position);
    // A move outside a mouse drag (arrow keys on selected nodes) is recorded right away.
    const nudges = s.dragStart ? [] : moves.filter((c) => !c.dragging);
    const before = new Map(s.nodes.map((n) => [n.id, n.position]));
    const nodes = applyNodeChanges(kept, s.nodes) as LayerNode[];
    // a click elsewhere (React Flow's own selection) ends a group selection
    const group = kept.some((c) => c.type === 'select') ? { selectedGroup: null } : {};
    if (nudges.length) {
      const changes: GraphChange[] = nudges.map((c) => ({ kind: 'updateNode', id: c.id, before: { position: { ...before.get(c.id)! } }, after: { position: { ...c.position! } } }));
      set({ nodes, ...group, history: record(s.history, { label: 'Move', changes, mergeKey: `nudge:${nudges.map((c) => c.id).join(',')}`, at: Date.now() }), revision: s.revision + 1 });
    } else set({ nodes, ...group });
  },

  onEdgesChange(changes) {
    const kept = changes.filter((c) => c.type === 'select');
    if (kept.length) set({ edges: applyEdgeChanges(kept, get().edges) as GraphEdge[] });
  },

  beginDrag(ids) {
    const s = get();
    const start: Record<string, Position> = {};
    for (const n of s.nodes) if (ids.includes(n.id)) start[n.id] = { ...n.position };
    for (const g of s.groups) if (ids.includes(groupDragKey(g.id)) && g.position) start[groupDragKey(g.id)] = { ...g.position };
    set({ dragStart: start });
  },

  endDrag() {
    const s = get();
    const start = s.dragStart;
    if (!start) return;
    const changes: GraphChange[] = [];
    for (const n of s.nodes) {
      const from = start[n.id];
      if (from && (from.x !== n.position.x || from.y !== n.position.y))
        changes.push({ kind: 'updateNode', id: n.id, before: { position: from }, after: { position: { ...n.position } } });
    }
    for (const g of s.groups) {
      const from = start[groupDragKey(g.id)];
      if (from && g.position && (from.x !== g.position.x || from.y !== g.position.y))
        changes.push({ kind: 'updateGroup', id: g.id, before: { position: from }, after: { position: { ...g.position } } });
    }
    set(changes.length ? { dragStart: null, history: record(s.history, { label: 'Move', changes, at: Date.now() }), revision: s.revision + 1 } : { dragStart: null });
  },

  select(nodeIds, edgeIds = []) {
    const s = get();
    set({
      nodes: s.nodes.map((n) => (!!n.selected === nodeIds.includes(n.id) ? n : { ...n, selected: nodeIds.includes(n.id) })),
      edges: s.edges.map((e) => (!!e.selected === edgeIds.includes(e.id) ? e : { ...e, selected: edgeIds.includes(e.id) })),
      selectedGroup: null,
    });
  },

  selectGroup(id, additive = false) {
    const s = get();
    if (id === null) return set({ selectedGroup: null });
    const members = new Set(memberIds(s.nodes, s.groups, id));
    set({
      nodes: s.nodes.map((n) => {
        const sel = members.has(n.id) || (additive && !!n.selected);
        return !!n.selected === sel ? n : { ...n, selected: sel };
      }),
      edges: additive ? s.edges : s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      selectedGroup: additive ? null : id,
    });
  },

  moveGroup(id, position) {
    set({ groups: get().groups.map((g) => (g.id === id ? { ...g, position: { ...position } } : g)) });
  },
});

const projectSlice: SliceCreator<ProjectSlice> = (set, get) => ({
  project: emptyProject(),

  loadProject(project, path, opts = {}) {
    const s = get();
    const { nodes, edges, hadPositions } = fromGraphDto(project.graph, s.catalogByType);
    const { format: _f, version, name, graph: _g, training, ...extra } = project;
    const bs = typeof training?.batch_size === 'number' && training.batch_size > 0 ? training.batch_size : RUN_DEFAULTS.batch_size;
    const revision = s.revision + 1;
    set({
      nodes: nodes.map((n) => toFlowNode(n)),
      edges: edges.map((e) => toFlowEdge(e)),
      groups: fromGroupDtos(project.graph.groups),
      selectedGroup: null,
      project: { name, path, version, training, extra },
      history: emptyHistory(),
      revision,
      savedRevision: opts.dirty ? -1 : revision,
      batchSize: bs,
      quickAdd: null,
      trainSettings: emptyTrainSettings(),
      settingsErrors: {},
      ckptReport: null,
      overlayRuns: [],
      // the app's run, its evaluation and gallery belong to the project it trained (the caller ends the run itself)
      run: emptyRun(),
      // so is the analysis: the previous graph's problems must not disable Start (or mark nodes) until this graph's arrives
      analysis: null,
      analysisError: null,
    });
    return { hadPositions };
  },

  toProject() {
    const s = get();
    const p = s.project;
    const out: ProjectDto = { ...p.extra, format: 'netloom-project', version: p.version, name: p.name, graph: toGraphDto(s.nodes, s.edges, s.groups) };
    if (p.training !== undefined) out.training = p.training;
    return out;
  },

  markSaved(path, revision) {
    const s = get();
    const name = s.project.name === 'Untitled' ? (path.split(/[\\/]/).pop() ?? 'Untitled').replace(/\.(netloom\.)?json$|\.netloom$/, '') || 'Untitled' : s.project.name;
    set({ project: { ...s.project, path, name }, savedRevision: revision });
  },

  addRunRecord(r) {
    const s = get();
    const runs = Array.isArray(s.project.extra.runs) ? s.project.extra.runs : [];
    set({ project: { ...s.project, extra: { ...s.project.extra, runs: [...runs, r] } }, revision: s.revision + 1 });
  },
});

const uiSlice: SliceCreator<UiSlice> = (set, get) => ({
  theme: initialTheme(),
  toasts: [],
  dialog: null,
  helpOpen: false,
  quickAdd: null,
  recent: [],
  // as the user left them (localStorage), else DEFAULT_PANELS
  panels: loadPanels(),
  playgroundDrop: null,

  toast(t) {
    const id = toastSeq++;
    set({ toasts: [...get().toasts.slice(-4), { ...t, id }] });
    setTimeout(() => get().dismissToast(id), toastLifetimeMs(t));
  },
  dismissToast(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
  setTheme(theme) {
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch {
      // not persisted; still applied
    }
    set({ theme });
  },
  setDialog(dialog) {
    set({ dialog });
  },
  setHelp(helpOpen) {
    set({ helpOpen });
  },
  setQuickAdd(quickAdd) {
    set({ quickAdd });
  },
  setPanel(name, open) {
    const panels = get().panels;
    if (panels[name] !== open) set({ panels: { ...panels, [name]: open } });
  },
  togglePanel(name) {
    get().setPanel(name, !get().panels[name]);
  },
  setPlaygroundDrop(file) {
    set({ playgroundDrop: file ? { id: dropSeq++, file } : null });
  },
});

const trainingSlice: SliceCreator<TrainingSlice> = (set, get) => ({
  trainSettings: emptyTrainSettings(),
  settingsErrors: {},
  trainingCheck: null,
  trainingForms: null,
  devices: null,
  run: emptyRun(),
  ckptReport: null,
  overlayRuns: [],

  setTrainSettings(patch) {
    set({ trainSettings: { ...get().trainSettings, ...patch } });
  },
  setSettingsError(path, message) {
    const cur = get().settingsErrors;
    if ((cur[path] ?? null) === message) return;
    const next = { ...cur };
    if (message === null) delete next[path];
    else next[path] = message;
    set({ settingsErrors: next });
  },
  setRun(patch) {
    set({ run: { ...get().run, ...patch } });
  },
  setCkptReport(r) {
    set({ ckptReport: r });
  },
  toggleOverlay(id) {
    const cur = get().overlayRuns;
    set({ overlayRuns: cur.includes(id) ? cur.filter((x) => x !== id) : [...cur, id] });
  },
});

export const useStore = create<State>()((...a) => ({
  ...engineSlice(...a),
  ...graphSlice(...a),
  ...projectSlice(...a),
  ...uiSlice(...a),
  ...trainingSlice(...a),
}));

// ---- selectors ------------------------------------------------------------------------------------

export const selectDirty = (s: State) => s.revision !== s.savedRevision;
/** unsaved work worth asking about before it is lost (state/appState.ts hasUnsavedWork) */
export const selectUnsavedWork = (s: State) => hasUnsavedWork(selectDirty(s), s.nodes.length, s.project.path);
/** a run is starting, training or paused: closing the window asks first */
export const selectTraining = (s: State) => s.run.starting || s.run.state === 'running' || s.run.state === 'paused' || s.run.state === 'ready';
export const selectCanUndo = (s: State) => s.history.past.length > 0;
export const selectCanRedo = (s: State) => s.history.future.length > 0;
/** the one selected node's id, or null when none or several are selected */
export const selectSingleSelectedId = (s: State): string | null => {
  let id: string | null = null;
  for (const n of s.nodes) {
    if (!n.selected) continue;
    if (id !== null) return null;
    id = n.id;
  }
  return id;
};
export const selectSelectedCount = (s: State) => s.nodes.reduce((k, n) => k + (n.selected ? 1 : 0), 0);

/** A key that changes only when the analysed content changes (not on drags or selection). */
export function graphKey(s: State): string {
  const g = toGraphDto(s.nodes, s.edges);
  const key: unknown[] = [g.nodes.map((n) => [n.id, n.type, n.name, n.params, ...(n.group ? [n.group] : [])]), g.edges];
  // groups change the module (names, copies), not where a collapsed one is drawn
  if (s.groups.length) key.push(s.groups.map((x) => { const { collapsed: _c, position: _p, ...rest } = groupDto(x); return rest; }));
  return JSON.stringify(key);
}

export { docNode };
