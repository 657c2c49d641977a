/**
 * Which way auto-layout runs the graph: top to bottom (the default, like PyTorch's printout and most
 * papers' figures) or left to right (long chains such as LeNet-5 read better across a wide screen).
 *
 * A per-user preference (localStorage, the Electron profile in the desktop app), not a project setting:
 * it is how this user likes to read graphs, not part of the model. The project already keeps its node
 * positions, so a project laid out left to right opens left to right for everyone; the preference only
 * decides what the next Layout does.
 */
import { create } from 'zustand';

export type LayoutDirection = 'down' | 'right';

const KEY = 'netloom.layoutDirection';

function initialDirection(): LayoutDirection {
  try {
    return globalThis.localStorage?.getItem(KEY) === 'right' ? 'right' : 'down';
  } catch {
    return 'down';
  }
}

interface LayoutPrefs {
  direction: LayoutDirection;
  setDirection(d: LayoutDirection): void;
}

export const useLayoutPrefs = create<LayoutPrefs>((set) => ({
  direction: initialDirection(),
  setDirection(direction) {
    try {
      globalThis.localStorage?.setItem(KEY, direction);
    } catch {
      // not remembered; still used for this session
    }
    set({ direction });
  },
}));

/** ELK's name for a direction (elk.direction). */
export const ELK_DIRECTION: Readonly<Record<LayoutDirection, 'DOWN' | 'RIGHT'>> = { down: 'DOWN', right: 'RIGHT' };

/**
 * The gap between consecutive layers (elk.layered.spacing.nodeNodeBetweenLayers), in canvas pixels.
 * An edge's shape label sits in that gap: top to bottom it is one 18 px line across a vertical edge;
 * left to right the whole label ("1×16×10×10", about 90 px) lies along a horizontal edge, so the gap
 * must be wider or the label covers the layers at both ends.
 */
export const LAYER_GAP: Readonly<Record<LayoutDirection, number>> = { down: 44, right: 120 };
