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
