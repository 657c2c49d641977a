/**
 * The summary's torchinfo-like depth: rows come nested in pre-order (a group's row, then what it holds
 * one level deeper; engine/graph/summary-groups.ts). Which rows show for a depth choice ("1": the top
 * level only, like torchinfo's depth=1 under the model) and for the group rows the user folded.
 */
import type { AnalysisDto } from '../../engine/contract/api';

type SummaryRowDto = AnalysisDto['summary']['rows'][number];

export const DEPTH_CHOICES = ['1', '2', 'all'] as const;
export type DepthChoice = (typeof DEPTH_CHOICES)[number];

/** A row's identity: a group row by its name (a repeat's copies share the group id), a layer by its id. */
export const rowKey = (r: SummaryRowDto) => (r.groupId !== undefined ? `group:${r.name}` : r.nodeId);

export interface ShownRow {
  row: SummaryRowDto;
  /** the next row is inside this one (a group row with contents): it gets a fold toggle */
  hasChildren: boolean;
}

export function visibleRows(rows: readonly SummaryRowDto[], depth: DepthChoice, folded: ReadonlySet<string>): ShownRow[] {
  const max = depth === 'all' ? Infinity : Number(depth);
  const out: ShownRow[] = [];
  // the depth of a folded row whose contents are being skipped; null while nothing is skipped
  let skipBelow: number | null = null;
  rows.forEach((row, i) => {
    const d = row.depth ?? 0;
    if (skipBelow !== null && d > skipBelow) return;
    skipBelow = null;
    if (d >= max) return;
    const hasChildren = (rows[i + 1]?.depth ?? 0) > d && d + 1 < max;
    out.push({ row, hasChildren });
    if (folded.has(rowKey(row))) skipBelow = d;
  });
  return out;
}
