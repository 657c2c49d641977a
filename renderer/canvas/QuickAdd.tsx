/**
 * Quick-add: a search box at the pointer. Type to filter the catalog, arrows to move, Enter to
 * add the highlighted layer at that point (connected from the output the user dragged, if any).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { LayerDto } from '../../engine/contract/api';
import { actionAddLayer } from '../actions/actionAddLayer';
import { run } from '../actions/registry';
import { useStore } from '../state/store';
import { groupClass } from './LayerNode';

/** Ranks layers for a query: type prefix first, then type substring, then group or doc. */
export function searchLayers(catalog: LayerDto[], query: string): LayerDto[] {
  const q = query.trim().toLowerCase();
  if (!q) return catalog;
  const scored: [number, LayerDto][] = [];
  for (const l of catalog) {
    const t = l.type.toLowerCase();
    const score = t.startsWith(q) ? 0 : t.includes(q) ? 1 : l.group.toLowerCase().includes(q) ? 2 : l.doc.toLowerCase().includes(q) ? 3 : -1;
    if (score >= 0) scored.push([score, l]);
  }
  return scored.sort((a, b) => a[0] - b[0]).map(([, l]) => l);
}

export function QuickAdd() {
  const quick = useStore((s) => s.quickAdd);
  if (!quick) return null;
  return <QuickAddBox key={`${quick.screen.x},${quick.screen.y}`} />;
}

function QuickAddBox() {
  const quick = useStore((s) => s.quickAdd)!;
  const catalog = useStore((s) => s.catalog);
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const fromLoss = useStore((s) => (quick.connectFrom ? s.catalogByType[s.nodes.find((n) => n.id === quick.connectFrom)?.data.type ?? '']?.isLoss : false));
  const results = useMemo(() => searchLayers(quick.connectFrom ? catalog.filter((l) => l.arity.max > 0) : catalog, query), [catalog, query, quick.connectFrom]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    list.current?.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  }, [index]);
  const close = () => useStore.getState().setQuickAdd(null);
  const add = (l: LayerDto | undefined) => {
    if (!l) return;
    close();
    run(actionAddLayer, { type: l.type, position: { x: quick.flow.x - 110, y: quick.flow.y - 20 }, connectFrom: fromLoss ? undefined : quick.connectFrom });
  };
  // keep the box inside the window
  const left = Math.min(quick.screen.x, window.innerWidth - 300);
  const top = Math.min(quick.screen.y, window.innerHeight - 340);
  return (
    <>
      <div className="quick-add-backdrop" onMouseDown={close} />
      <div className="quick-add" style={{ left, top }} data-testid="quick-add" role="dialog" aria-label="Add a layer">
        <input
          ref={input}
          type="text"
          autoComplete="off"
          spellCheck={false}
          className="quick-add-input"
          data-testid="quick-add-input"
          placeholder={quick.connectFrom ? 'Add and connect a layer…' : 'Add a layer…'}
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setIndex(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setIndex((i) => Math.min(results.length - 1, i + 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setIndex((i) => Math.max(0, i - 1));
            } else if (e.key === 'Enter') {
              e.preventDefault();
              add(results[index]);
            } else if (e.key === 'Escape') {
              e.preventDefault();
              close();
            }
          }}
        />
        <div className="quick-add-list" ref={list} role="listbox">
          {results.length === 0 && <div className="quick-add-empty">No layer matches “{query}”</div>}
          {results.map((l, i) => (
            <div
              key={l.type}
              role="option"
              aria-selected={i === index}
              className={`quick-add-item ${groupClass(l.group)}${i === index ? ' active' : ''}`}
              data-testid={`quick-add-item-${l.type}`}
              onMouseEnter={() => setIndex(i)}
              onMouseDown={(e) => {
                e.preventDefault();
                add(l);
              }}
            >
              <span className="swatch" />
              <span className="qa-type">{l.type}</span>
              <span className="qa-group">{l.group}</span>
            </div>
          ))}
        </div>
      </div>
    </>
  );
}
