/**
 * A toolbar button that opens a short menu of registered actions (the toolbar's Import and Export, the browser's
 * stand-in for the desktop's File ▸ Import / Export submenus). Keyboard first, as WAI-ARIA's menu button pattern:
 * Enter, Space or ↓ opens it on the first enabled item, ↑/↓/Home/End move, Enter runs, Escape closes back to
 * the button, Tab or a click elsewhere closes. A disabled item says why (the action's disabledReason) as its tooltip.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { actionContext, run } from '../actions/registry';
import type { Action } from '../actions/types';
import { useStore } from '../state/store';

export interface MenuItemSpec {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  action: Action<any>;
  label: string;
  testId: string;
}

/** Each item's enabled state and reason, re-evaluated whenever the run or the graph changes. */
function useItemStates(items: readonly MenuItemSpec[]): { enabled: boolean; reason: string | null }[] {
  // flat primitives (enabled, reason, enabled, reason, …): useShallow keeps the same answer while none changed
  const flat = useStore(
    useShallow((s) => {
      void s.run;
      void s.nodes.length;
      const ctx = actionContext();
      const connected = s.connection.status === 'open';
      return items.flatMap(({ action }) => {
        const ok = !!ctx && connected && (!action.predicate || action.predicate(ctx));
        return [ok, !ok && ctx && action.disabledReason ? action.disabledReason(ctx) : null];
      });
    }),
  );
  return items.map((_, i) => ({ enabled: flat[2 * i] === true, reason: (flat[2 * i + 1] as string | null) ?? null }));
}

export function MenuButton({ label, icon, testId, items }: { label: string; icon?: ReactNode; testId: string; items: readonly MenuItemSpec[] }) {
  const [open, setOpen] = useState(false);
  const states = useItemStates(items);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const itemEls = () => Array.from(menu.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? []);
  const focusItem = (pick: (enabled: HTMLButtonElement[], current: number) => HTMLButtonElement | undefined) => {
    const all = itemEls().filter((el) => el.getAttribute('aria-disabled') !== 'true');
    pick(all, all.indexOf(document.activeElement as HTMLButtonElement))?.focus();
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    // the first enabled item takes the focus, so the arrows and Enter work at once
    menu.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not([aria-disabled="true"])')?.focus();
    const away = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('pointerdown', away);
    return () => window.removeEventListener('pointerdown', away);
  }, [open]);

  const onMenuKey = (e: KeyboardEvent) => {
    const moves: Record<string, (all: HTMLButtonElement[], i: number) => HTMLButtonElement | undefined> = {
      ArrowDown: (all, i) => all[(i + 1) % all.length],
      ArrowUp: (all, i) => all[(i - 1 + all.length) % all.length],
      Home: (all) => all[0],
      End: (all) => all.at(-1),
    };
    if (moves[e.key]) focusItem(moves[e.key]!);
    else if (e.key === 'Escape') close(true);
    else if (e.key === 'Tab') setOpen(false);
    else return;
    // the app's shortcuts (F, L, T, …) must not fire while the menu has the keys
    e.preventDefault();
    e.stopPropagation();
  };
  const choose = (i: number) => {
    if (!states[i]?.enabled) return;
    close(false);
    run(items[i]!.action, undefined);
  };

  return (
    <span className="menu-button">
      <button
        ref={button}
        className="tool"
        data-testid={testId}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          } else if (e.key === 'Escape' && open) {
            // every item disabled: the focus stayed on the button
            e.preventDefault();
            setOpen(false);
          }
        }}
      >
        {icon}
        <span>{label}</span>
        <span className="menu-caret" aria-hidden="true">▾</span>
      </button>
      {open && (
        <div ref={menu} className="menu-popup" role="menu" aria-label={label} data-testid={`${testId}-menu`} onKeyDown={onMenuKey}>
          {items.map((item, i) => (
            <button
              key={item.testId}
              role="menuitem"
              className="menu-item"
              data-testid={item.testId}
              aria-disabled={!states[i]?.enabled}
              title={states[i]?.reason ?? undefined}
              tabIndex={-1}
              onClick={() => choose(i)}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
