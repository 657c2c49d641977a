/**
 * Keeps the minimap off the problem callouts: re-measures the callouts on screen whenever the
 * view moves or the graph (or its analysis) changes, and picks a free corner (minimapCorner.ts).
 */
import { useStore as useFlowStore } from '@xyflow/react';
import { useEffect, useState } from 'react';
import { useStore } from '../state/store';
import { chooseCorner, type Corner, type Rect } from './minimapCorner';

const rectOf = (r: DOMRect): Rect => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });

export function useMinimapCorner(): Corner | null {
  const pane = useFlowStore((s) => s.domNode);
  const transform = useFlowStore((s) => s.transform);
  const size = useFlowStore((s) => `${s.width}x${s.height}`);
  const nodes = useStore((s) => s.nodes);
  const analysis = useStore((s) => s.analysis);
  const [corner, setCorner] = useState<Corner | null>('bottom-right');
  useEffect(() => {
    // after the frame: callouts appear when the analysis lands, nodes move when they are measured
    const frame = requestAnimationFrame(() => {
      const el = pane;
      if (!el) return;
      const rects = (selector: string) => [...el.querySelectorAll(selector)].map((c) => rectOf(c.getBoundingClientRect()));
      setCorner((current) => chooseCorner(rectOf(el.getBoundingClientRect()), rects('.layer-issue'), rects('.react-flow__node'), current));
    });
    return () => cancelAnimationFrame(frame);
  }, [pane, transform, size, nodes, analysis]);
  return corner;
}
