/**
 * Commands are registered actions (Excalidraw's actions/types.ts): a name, a label for menus and
 * the help overlay, an optional key test, an optional predicate, and `perform`. Graph edits inside
 * `perform` are GraphChange lists handed to store.commit, so each command is one undo step.
 */
import type { ReactFlowInstance } from '@xyflow/react';
import type { EngineApi } from '../../engine/contract/api';
import type { GraphEdge, LayerNode } from '../state/graph';
import type { State } from '../state/store';

export interface ActionContext {
  api: EngineApi;
  state(): State;
  /** the canvas, once React Flow has mounted */
  flow: ReactFlowInstance<LayerNode, GraphEdge> | null;
  /** shows an API error (EngineCallError) or any other failure as a toast with its hint */
  reportError(e: unknown, what?: string): void;
}

export type ActionCategory = 'File' | 'Edit' | 'Canvas' | 'View' | 'Train' | 'Help';

export interface Action<A = void> {
  name: string;
  label: string;
  category: ActionCategory;
  /** shortcut(s) as shown in the help overlay, e.g. ['Ctrl+Z'] */
  keys?: string[];
  keyTest?(e: KeyboardEvent): boolean;
  /** let the shortcut work while a text field has focus (Ctrl+S does; Delete does not) */
  keyInInputs?: boolean;
  predicate?(ctx: ActionContext): boolean;
  /** when the predicate fails for a reason the user can fix, that reason (a disabled button's tooltip) */
  disabledReason?(ctx: ActionContext): string | null;
  perform(ctx: ActionContext, arg: A): void | Promise<void>;
}
