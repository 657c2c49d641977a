/**
 * The graph diff as the app shows it: what the canvas is compared with, the engine's answer (diffGraph), the
 * marks it puts on nodes, and the compare dialog's state. A store of its own (zustand), so the canvas and the
 * panel read it with narrow selectors and the main store stays as it is.
 *
 * The diff follows the graph: every edit recomputes it against the same reference (renderer/panels/DiffPanel.tsx
 * useDiffFollow), so a mark never describes a graph that is no longer there; opening another project closes it,
 * since its reference belonged to the project that was open.
 */
import { create } from 'zustand';
import type { DiffAgainstDto, DiffDto, GraphDto, LayerStatusDto } from '../../engine/contract/api';

/** What the canvas is compared with, and how the panel names it. */
export interface DiffSource {
  /** 'saved': the project's own file; 'project': another project file; 'run': a stored run's graph */
  kind: 'saved' | 'project' | 'run' | 'checkpoint';
  /** "the saved file", "run #2 mnist sgd lr 0.001", "model.safetensors" */
  label: string;
  against: DiffAgainstDto;
}

export type DiffLayer = DiffDto['layers'][number];
export type DiffChange = DiffLayer['changes'][number];

export interface DiffState {
  source: DiffSource | null;
  result: DiffDto | null;
  /** the last comparison failed (the file went away, the graph does not compile for a checkpoint) */
  error: { message: string; hint?: string } | null;
  busy: boolean;
  /** the compare dialog is open for this kind of file */
  picking: 'project' | 'checkpoint' | null;
  /** node id -> its status, for the canvas (only layers that are not the same) */
  marks: Record<string, LayerStatusDto>;
}

export const useDiff = create<DiffState>(() => ({ source: null, result: null, error: null, busy: false, picking: null, marks: {} }));

/** Node id -> status of every current layer the diff marks (added, changed, renamed); same and removed have no node mark. */
export function marksOf(diff: DiffDto): Record<string, LayerStatusDto> {
  const marks: Record<string, LayerStatusDto> = {};
  for (const l of diff.layers) if (l.nodeId !== undefined && l.status !== 'same' && l.status !== 'removed') marks[l.nodeId] = l.status;
  return marks;
}

/** "512", "[784, 512]", "absent": one side of a change. */
export function diffValueText(v: unknown): string {
  if (v === null || v === undefined) return 'absent';
  if (Array.isArray(v)) return `[${v.map(diffValueText).join(', ')}]`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** "out_features 512 → 256", "fc1.weight [10, 512] → [10, 256]", "inputs fc1 → dropout". */
export function changeText(c: DiffChange): string {
  return `${c.param} ${diffValueText(c.from)} → ${diffValueText(c.to)}`;
}

/** The panel's one-line summary: "1 added · 2 changed · 1 removed", or "no differences". */
export function summaryText(d: DiffDto): string {
  const parts = (['added', 'removed', 'changed', 'renamed'] as const).filter((k) => d.summary[k] > 0).map((k) => `${d.summary[k]} ${k}`);
  const edges = d.edges.added.length + d.edges.removed.length;
  if (edges > 0) parts.push(`${edges} connection${edges === 1 ? '' : 's'} changed`);
  return parts.length ? parts.join(' · ') : 'no differences';
}

/** Layers worth listing first: changes of every kind in graph order, the unchanged ones last (the panel folds them). */
export function listedLayers(d: DiffDto): { changed: DiffLayer[]; same: DiffLayer[] } {
  return { changed: d.layers.filter((l) => l.status !== 'same'), same: d.layers.filter((l) => l.status === 'same') };
}

/** The graph a stored run trained, or null for a run stored before Netloom recorded it. */
export function runGraph(run: { graph?: unknown }): GraphDto | null {
  const g = run.graph as GraphDto | undefined;
  return g && Array.isArray(g.nodes) && Array.isArray(g.edges) ? g : null;
}

export function setDiffResult(source: DiffSource, result: DiffDto): void {
  useDiff.setState({ source, result, error: null, busy: false, marks: marksOf(result) });
}

export function setDiffError(source: DiffSource, error: { message: string; hint?: string }): void {
  useDiff.setState({ source, result: null, error, busy: false, marks: {} });
}

export function clearDiff(): void {
  useDiff.setState({ source: null, result: null, error: null, busy: false, picking: null, marks: {} });
}
