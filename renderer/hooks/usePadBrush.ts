/**
 * Drawing on the playground's pad with the pointer (mouse, pen, touch): the left button starts a stroke, moves
 * extend it, and letting go (or a cancelled pointer) hands the drawing on with onDone.
 */
import { useRef } from 'react';
import { brushStroke, type PadPoint } from '../state/playgroundCanvas';

export interface PadBrushOptions {
  /** the pad's 2D context, or null while it is not mounted */
  ctx2d: () => CanvasRenderingContext2D | null;
  /** the pad's size in model pixels */
  height: number;
  width: number;
  /** drawing is allowed (a trained run, a one-channel pad) */
  drawable: boolean;
  /** a stroke began: the pad has ink */
  onInk: () => void;
  /** a stroke ended */
  onDone: () => void;
}

type PadPointerEvent = React.PointerEvent<HTMLCanvasElement>;

export function usePadBrush({ ctx2d, height: H, width: W, drawable, onInk, onDone }: PadBrushOptions) {
  const last = useRef<PadPoint | null>(null);

  const toPad = (e: PadPointerEvent): PadPoint => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * W, y: ((e.clientY - r.top) / r.height) * H };
  };
  const stroke = (from: PadPoint, to: PadPoint) => {
    const g = ctx2d();
    if (g) brushStroke(g, from, to, H, W);
  };
  const onDown = (e: PadPointerEvent) => {
    if (!drawable || e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = toPad(e);
    last.current = p;
    stroke(p, p);
    onInk();
  };
  const onMove = (e: PadPointerEvent) => {
    if (!last.current) return;
    const p = toPad(e);
    stroke(last.current, p);
    last.current = p;
  };
  const onUp = () => {
    if (!last.current) return;
    last.current = null;
    onDone();
  };
  return { onDown, onMove, onUp };
}
