/**
 * Where the minimap may sit: a corner of the canvas where it covers no problem callout. The
 * minimap is an overlay, so wherever it sits some of the graph is under it; a callout is what
 * the user must read, so the minimap gets out of its way (and hides if every corner is taken).
 */
export type Corner = 'bottom-right' | 'top-right' | 'top-left';

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** React Flow's MiniMap: 200×150 plus its panel's 15 px margin (and our 1 px border). */
export const MINIMAP_BOX = { width: 202, height: 152, margin: 15 };
/** bottom-left holds the zoom controls */
export const CORNERS: readonly Corner[] = ['bottom-right', 'top-right', 'top-left'];

export function cornerRect(pane: Rect, corner: Corner, box = MINIMAP_BOX): Rect {
  const left = corner === 'top-left' ? pane.left + box.margin : pane.right - box.margin - box.width;
  const top = corner === 'bottom-right' ? pane.bottom - box.margin - box.height : pane.top + box.margin;
  return { left, top, right: left + box.width, bottom: top + box.height };
}

const meets = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * The corner to use: the current one while it is free (so the minimap does not jump about),
 * else the first free one in CORNERS order, else null (hide it).
 */
export function chooseCorner(pane: Rect, callouts: readonly Rect[], current: Corner | null, box = MINIMAP_BOX): Corner | null {
  const free = (c: Corner) => !callouts.some((r) => meets(r, cornerRect(pane, c, box)));
  if (current && free(current)) return current;
  return CORNERS.find(free) ?? null;
}
