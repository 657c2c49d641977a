/**
 * Refits the view, readably, when the canvas pane changes size (the splitters, the window, the dock
 * opening) and the user has not panned or zoomed since the last fit (fit.ts, refitIfUntouched): a
 * graph that was centred stays centred, and a view the user chose stays theirs.
 */
import { useStore as useFlowStore } from '@xyflow/react';
import { useEffect } from 'react';
import { actionContext } from '../actions/registry';
import { refitIfUntouched } from './fit';

export function useRefitOnResize(): void {
  // React Flow measures its pane with a ResizeObserver; these change whenever the pane does
  const width = useFlowStore((s) => s.width);
  const height = useFlowStore((s) => s.height);
  useEffect(() => {
    // after the frame: fitReadable reads the pane's box, which the layout has settled by then
    const frame = requestAnimationFrame(() => {
      const ctx = actionContext();
      if (ctx) refitIfUntouched(ctx);
    });
    return () => cancelAnimationFrame(frame);
  }, [width, height]);
}
