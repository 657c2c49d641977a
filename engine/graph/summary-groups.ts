/**
 * The summary table nested like torchinfo's depth levels: a row per group instance at its depth, the layers in
 * it one deeper, and a repeated group's copies as rows of their own ("layer1" Sequential, "layer1.0", then
 * "layer1.0.conv1"). Group rows add up their layers (parameters, FLOPs) and show the shape leaving them; the
 * totals stay those of the layer rows.
 */
import type { EdgeDoc } from './document.js';
import type { FlatGraph } from './groups.js';
import type { SummaryRow } from './summary.js';

interface Level {
  row?: SummaryRow;
  /** flat ids of the layers at or below this level */
  members: string[];
  children: Level[];
  byKey: Map<string, Level>;
}

const level = (row?: SummaryRow): Level => ({ row, members: [], children: [], byKey: new Map() });

/** The child level under this key, made on first use (a group's row appears where its first layer does). */
function childLevel(parent: Level, key: string, make: () => SummaryRow): Level {
  let l = parent.byKey.get(key);
  if (!l) {
    l = level(make());
    parent.byKey.set(key, l);
    parent.children.push(l);
  }
  return l;
}

const groupRow = (groupId: string, name: string, type: string): SummaryRow => ({ nodeId: '', groupId, name, type, outShape: null, params: 0, flops: 0 });

/** The one shape leaving a set of layers (their outputs used outside it), or null when none or several. */
function shapeLeaving(members: ReadonlySet<string>, edges: readonly EdgeDoc[], shapeOf: ReadonlyMap<string, number[] | null>): number[] | null {
  const shapes = new Map<string, number[] | null>();
  for (const e of edges)
    if (members.has(e.source) && !members.has(e.target)) {
      const s = shapeOf.get(e.source) ?? null;
      shapes.set(JSON.stringify(s), s);
    }
  return shapes.size === 1 ? [...shapes.values()][0] : null;
}

/** Rows in topological order -> the nested table, every row with its depth (0 at the top level). */
export function nestRows(rows: readonly SummaryRow[], flat: FlatGraph): SummaryRow[] {
  if (flat.scopes.size === 0) return rows.map((r) => ({ ...r, depth: 0 }));
  const root = level();
  for (const r of rows) {
    let at = root;
    for (const s of flat.scopes.get(r.nodeId) ?? []) {
      at = childLevel(at, `group ${s.groupId} ${s.path}`, () => groupRow(s.groupId, s.path, s.copy === undefined ? 'Module' : 'Sequential'));
      at.members.push(r.nodeId);
      if (s.copy !== undefined) {
        at = childLevel(at, `copy ${s.path}.${s.copy}`, () => groupRow(s.groupId, `${s.path}.${s.copy}`, 'Module'));
        at.members.push(r.nodeId);
      }
    }
    at.children.push(level({ ...r }));
  }
  const shapeOf = new Map(rows.map((r) => [r.nodeId, r.outShape]));
  const out: SummaryRow[] = [];
  const emit = (l: Level, depth: number) => {
    for (const c of l.children) {
      const row = c.row!;
      out.push({ ...row, depth });
      if (row.groupId === undefined) continue;
      const members = new Set(c.members);
      const at = out.length - 1;
      emit(c, depth + 1);
      const inside = rows.filter((r) => members.has(r.nodeId));
      out[at] = {
        ...out[at],
        params: inside.reduce((s, r) => s + r.params, 0),
        flops: inside.reduce((s, r) => s + r.flops, 0),
        outShape: shapeLeaving(members, flat.graph.edges, shapeOf),
      };
    }
  };
  emit(root, 0);
  return out;
}
