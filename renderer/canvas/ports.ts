/**
 * Which sides of a node its ports sit on. They follow the layout direction (state/layoutPrefs.ts):
 * top to bottom, inputs on the top and the output at the bottom; left to right, inputs on the left and
 * the output on the right. Otherwise edges leave a left-to-right chain at the bottom and loop back
 * into the next layer's top.
 */
import { Position, useUpdateNodeInternals } from '@xyflow/react';
import { useEffect, type CSSProperties } from 'react';
import { useLayoutPrefs, type LayoutDirection } from '../state/layoutPrefs';

export interface PortSides {
  input: Position;
  output: Position;
}

export function portSides(direction: LayoutDirection): PortSides {
  return direction === 'right' ? { input: Position.Left, output: Position.Right } : { input: Position.Top, output: Position.Bottom };
}

/**
 * Where the i-th of n input ports sits along its side (Concat's in0, in1; a loss's input and target):
 * spread evenly, so each has its own spot to drop a connection on.
 */
export function spreadAlong(direction: LayoutDirection, i: number, n: number): CSSProperties {
  const at = `${((i + 1) / (n + 1)) * 100}%`;
  return direction === 'right' ? { top: at } : { left: at };
}

/**
 * The port sides for a node, and React Flow told when they change: it caches handle positions per
 * node and would keep drawing edges to the old sides until the node was next measured.
 */
export function usePortSides(id: string, handleCount = 1): { direction: LayoutDirection; sides: PortSides } {
  const direction = useLayoutPrefs((s) => s.direction);
  const updateInternals = useUpdateNodeInternals();
  useEffect(() => updateInternals(id), [direction, handleCount, id, updateInternals]);
  return { direction, sides: portSides(direction) };
}
