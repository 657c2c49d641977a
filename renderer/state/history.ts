/**
 * Undo/redo from change lists (Excalidraw's store deltas, xyflow's NodeChange): every undoable
 * edit is recorded as the GraphChange[] that made it; undo applies the inverse, redo re-applies.
 * Consecutive edits with the same merge key (typing into one field) fold into one step.
 */
import { invertChanges, type GraphChange } from './graph';

export interface HistoryEntry {
  label: string;
  changes: GraphChange[];
  /** edits with the same key within MERGE_MS merge into one undo step */
  mergeKey?: string;
  at: number;
}

export interface History {
  past: HistoryEntry[];
  future: HistoryEntry[];
}

const LIMIT = 500;
const MERGE_MS = 1500;

export const emptyHistory = (): History => ({ past: [], future: [] });

/** Records an edit; a new edit clears the redo stack. */
export function record(h: History, entry: HistoryEntry): History {
  const last = h.past[h.past.length - 1];
  if (entry.mergeKey && last?.mergeKey === entry.mergeKey && entry.at - last.at < MERGE_MS) {
    const merged = mergeUpdates(last.changes, entry.changes);
    if (merged) return { past: [...h.past.slice(0, -1), { ...last, changes: merged, at: entry.at }], future: [] };
  }
  const past = [...h.past, entry];
  return { past: past.length > LIMIT ? past.slice(past.length - LIMIT) : past, future: [] };
}

/** Folds two single-node updates (or two training edits): keep the first "before", take the second "after". */
function mergeUpdates(a: GraphChange[], b: GraphChange[]): GraphChange[] | null {
  if (a.length !== 1 || b.length !== 1) return null;
  const [x, y] = [a[0], b[0]];
  if (x.kind === 'setTraining' && y.kind === 'setTraining') return [{ kind: 'setTraining', before: x.before, after: y.after }];
  if (x.kind !== 'updateNode' || y.kind !== 'updateNode' || x.id !== y.id) return null;
  return [{ kind: 'updateNode', id: x.id, before: { ...y.before, ...x.before }, after: { ...x.after, ...y.after } }];
}

/** The changes that undo the last step, and the history after it; null when there is nothing to undo. */
export function undo(h: History): { changes: GraphChange[]; history: History; label: string } | null {
  const last = h.past[h.past.length - 1];
  if (!last) return null;
  return { changes: invertChanges(last.changes), label: last.label, history: { past: h.past.slice(0, -1), future: [...h.future, { ...last, mergeKey: undefined }] } };
}

export function redo(h: History): { changes: GraphChange[]; history: History; label: string } | null {
  const next = h.future[h.future.length - 1];
  if (!next) return null;
  return { changes: next.changes, label: next.label, history: { past: [...h.past, next], future: h.future.slice(0, -1) } };
}
