/**
 * The action registry and the one keyboard dispatcher. Actions register themselves on import
 * (actions/index.ts imports them all); `run` builds the context and turns failures into toasts.
 */
import { EngineCallError } from '../../engine/contract/api';
import { useStore } from '../state/store';
import type { Action, ActionContext } from './types';
import type { ReactFlowInstance } from '@xyflow/react';
import type { GraphEdge, LayerNode } from '../state/graph';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const registry: Action<any>[] = [];

export function register<A = void>(action: Action<A>): Action<A> {
  registry.push(action);
  return action;
}

export function listActions(): readonly Action<unknown>[] {
  return registry;
}

let flow: ReactFlowInstance<LayerNode, GraphEdge> | null = null;
export function setFlow(f: ReactFlowInstance<LayerNode, GraphEdge> | null) {
  flow = f;
}

export function reportError(e: unknown, what?: string) {
  const { toast } = useStore.getState();
  if (e instanceof EngineCallError) toast({ kind: 'error', message: what ? `${what}: ${e.message}` : e.message, hint: e.hint, code: e.code });
  else toast({ kind: 'error', message: `${what ? `${what}: ` : ''}${e instanceof Error ? e.message : String(e)}` });
  if (!(e instanceof EngineCallError)) console.error(e);
}

export function actionContext(): ActionContext | null {
  const api = useStore.getState().api;
  if (!api) return null;
  return { api, state: () => useStore.getState(), flow, reportError };
}

/** Runs an action (if its predicate allows); errors become toasts. Returns whether it ran. */
export function run<A>(action: Action<A>, arg: A): boolean {
  const ctx = actionContext();
  if (!ctx) return false;
  if (action.predicate && !action.predicate(ctx)) return false;
  try {
    const r = action.perform(ctx, arg);
    if (r instanceof Promise) r.catch((e) => reportError(e, action.label));
  } catch (e) {
    reportError(e, action.label);
  }
  return true;
}

function inTextField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable;
}

/** The global keydown handler: the first registered action whose keyTest matches runs. */
export function handleKeyDown(e: KeyboardEvent): void {
  if (e.defaultPrevented || e.isComposing) return;
  const typing = inTextField(e);
  // While a dialog or the quick-add search is open, its own keys apply, not the shortcuts.
  const s = useStore.getState();
  if (s.dialog !== null || s.quickAdd !== null) return;
  for (const a of registry) {
    if (!a.keyTest || !a.keyTest(e)) continue;
    if (typing && !a.keyInInputs) continue;
    const ctx = actionContext();
    if (!ctx || (a.predicate && !a.predicate(ctx))) continue;
    e.preventDefault();
    run(a, undefined);
    return;
  }
}

export const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
export const plainKey = (e: KeyboardEvent, key: string) => !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === key;
