/**
 * Keeps the minimap off the problem callouts: re-measures the callouts on screen whenever the
 * view moves or the graph (or its analysis) changes, and picks a free corner (minimapCorner.ts).
 * Its size follows the pane's (minimapBox): smaller on a small pane, none on a tiny one.
 */
import { useStore as useFlowStore } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { useStore } from '../state/store';
import { chooseCorner, minimapBox, type Corner, type MinimapBox, type Rect } from './minimapCorner';

const rectOf = (r: DOMRect): Rect => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });

export interface MinimapPlace {
  corner: Corner;
  box: MinimapBox;
}

export function useMinimapCorner(): MinimapPlace | null {
  const pane = useFlowStore((s) => s.domNode);
  const transform = useFlowStore((s) => s.transform);
  const nodes = useStore((s) => s.nodes);
  const analysis = useStore((s) => s.analysis);
  const width = useFlowStore((s) => s.width);
  const height = useFlowStore((s) => s.height);
  const box = useMemo(() => minimapBox({ width, height }), [width, height]);
  const [corner, setCorner] = useState<Corner | null>('bottom-right');
  useEffect(() => {
    // after the frame: callouts appear when the analysis lands, nodes move when they are measured
    const frame = requestAnimationFrame(() => {
      const el = pane;
      if (!el || !box) return;
      const rects = (selector: string) => [...el.querySelectorAll(selector)].map((c) => rectOf(c.getBoundingClientRect()));
      setCorner((current) => chooseCorner(rectOf(el.getBoundingClientRect()), rects('.layer-issue'), rects('.react-flow__node'), current, box));
    });
    return () => cancelAnimationFrame(frame);
  }, [pane, transform, box, nodes, analysis]);
  return corner && box ? { corner, box } : null;
}
