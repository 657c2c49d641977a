/**
 * The main window's size and position, restored on the next start. Kept as JSON in the app's
 * user-data folder; a file that is missing, damaged or describes a place no display shows any more
 * (a monitor unplugged) gives the default size, centred.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../engine/io/atomic.js';

export const WindowState = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(400).max(20000),
  height: z.number().int().min(300).max(20000),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
});
export type WindowState = z.infer<typeof WindowState>;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_SIZE = { width: 1440, height: 900 } as const;
const MIN_VISIBLE = 120; // px of the title bar that must show on some display to reuse the position

export function readWindowState(file: string): WindowState | null {
  try {
    const parsed = WindowState.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writeWindowState(file: string, state: WindowState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Where to open: the saved bounds when enough of them lies on one of today's displays (work areas),
 * else the default size (no position: Electron centres it), shrunk to fit the primary work area.
 */
export function initialBounds(saved: WindowState | null, workAreas: readonly Rect[]): Partial<Rect> & { width: number; height: number } {
  const primary = workAreas[0];
  const fit = (w: number, h: number) => (primary ? { width: Math.min(w, primary.width), height: Math.min(h, primary.height) } : { width: w, height: h });
  if (saved) {
    const visible = workAreas.some((a) => {
      const overlapX = Math.min(saved.x + saved.width, a.x + a.width) - Math.max(saved.x, a.x);
      const titleOnScreen = saved.y >= a.y && saved.y < a.y + a.height - 20;
      return overlapX >= MIN_VISIBLE && titleOnScreen;
    });
    if (visible) return { x: saved.x, y: saved.y, width: saved.width, height: saved.height };
    return fit(saved.width, saved.height);
  }
  return fit(DEFAULT_SIZE.width, DEFAULT_SIZE.height);
}
