/**
 * The layer palette: every catalog layer, grouped as in PyTorch's docs, with a search box.
 * Drag an item onto the canvas (dataTransfer 'application/netloom-layer'), or double-click /
 * Enter to add it in the middle of the view.
 */
import { useMemo, useState, type DragEvent } from 'react';
import type { LayerDto } from '../../engine/contract/api';
import { actionAddLayer } from '../actions/actionAddLayer';
import { run } from '../actions/registry';
import { LAYER_MIME } from '../canvas/Canvas';
import { groupClass } from '../canvas/LayerNode';
import { canvasPoint } from '../canvas/pointer';
import { searchLayers } from '../canvas/QuickAdd';
import { actionContext } from '../actions/registry';
import { useStore } from '../state/store';

export const GROUP_ORDER = ['Input & data', 'Linear', 'Convolution', 'Pooling', 'Normalization', 'Activation', 'Dropout', 'Structure', 'Loss'];

function addAtCentre(type: string) {
  const flow = actionContext()?.flow;
  if (!flow) return;
  const p = flow.screenToFlowPosition(canvasPoint());
  // stagger so repeated adds do not stack exactly
  const k = useStore.getState().nodes.length % 6;
  run(actionAddLayer, { type, position: { x: p.x - 110 + k * 16, y: p.y + k * 16 } });
}

export function Palette() {
  const catalog = useStore((s) => s.catalog);
  const catalogError = useStore((s) => s.catalogError);
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const found = searchLayers(catalog, query);
    const byGroup = new Map<string, LayerDto[]>();
    for (const l of query ? found : catalog) byGroup.set(l.group, [...(byGroup.get(l.group) ?? []), l]);
    const order = [...GROUP_ORDER, ...[...byGroup.keys()].filter((g) => !GROUP_ORDER.includes(g))];
    return order.filter((g) => byGroup.has(g)).map((g) => [g, byGroup.get(g)!] as const);
  }, [catalog, query]);

  const onDragStart = (e: DragEvent, type: string) => {
    e.dataTransfer.setData(LAYER_MIME, type);
    e.dataTransfer.setData('text/plain', type);
    e.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <aside className="palette panel" data-testid="palette">
      <div className="palette-search">
        <input
          type="search"
          placeholder="Search layers…"
          data-testid="palette-search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && groups[0]) addAtCentre(groups[0][1][0].type);
            if (e.key === 'Escape') setQuery('');
          }}
        />
      </div>
      <div className="palette-list">
        {catalogError && <div className="muted small pad">{catalogError}</div>}
        {catalog.length === 0 && !catalogError && <div className="muted small pad">Loading layers…</div>}
        {catalog.length > 0 && groups.length === 0 && <div className="muted small pad">No layer matches “{query}”.</div>}
        {groups.map(([group, layers]) => (
          <section key={group} className="palette-group">
            <h3>{group}</h3>
            {layers.map((l) => (
              <div
                key={l.type}
                className={`palette-item ${groupClass(l.group)}`}
                draggable
                tabIndex={0}
                role="button"
                data-testid={`palette-item-${l.type}`}
                title={`${l.doc}\n\nDrag onto the canvas, or double-click to add.`}
                onDragStart={(e) => onDragStart(e, l.type)}
                onDoubleClick={() => addAtCentre(l.type)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') addAtCentre(l.type);
                }}
              >
                <span className="swatch" />
                <span className="palette-type">{l.type}</span>
              </div>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
