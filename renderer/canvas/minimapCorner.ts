/**
 * Where the minimap may sit: a corner of the canvas where it covers no problem callout. The
 * minimap is an overlay, so wherever it sits some of the graph is under it; a callout is what
 * the user must read, so the minimap gets out of its way (and hides if no corner will do).
 */
export type Corner = 'bottom-right' | 'top-right' | 'top-left';

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface MinimapBox {
  /** outer size, our 1 px border included */
  width: number;
  height: number;
  /** the panel's distance from the pane's edges */
  margin: number;
}

/** React Flow's MiniMap at its default size: 200×150 plus its panel's 15 px margin (and our 1 px border). */
export const MINIMAP_BOX: MinimapBox = { width: 202, height: 152, margin: 15 };

/** Below this pane size (px) there is no minimap: it would cover a good part of what it maps. */
export const MINIMAP_MIN_PANE = { width: 480, height: 300 };
/** the share of the pane's width, and of its height, that the minimap may take */
const WIDTH_SHARE = 0.16;
const HEIGHT_SHARE = 0.25;
const MIN_WIDTH = 120;

/**
 * The minimap's size for a pane: a share of the pane, 4:3, between 120 px and React Flow's 200 px wide;
 * null (no minimap) on a pane smaller than MINIMAP_MIN_PANE. At 1280x720 the canvas is about 800x400,
 * where a 200x150 minimap covered a tenth of it.
 */
export function minimapBox(pane: { width: number; height: number }): MinimapBox | null {
  if (pane.width < MINIMAP_MIN_PANE.width || pane.height < MINIMAP_MIN_PANE.height) return null;
  const inner = Math.min(MINIMAP_BOX.width - 2, pane.width * WIDTH_SHARE, ((pane.height * HEIGHT_SHARE) * 4) / 3);
  const width = Math.round(Math.max(MIN_WIDTH, inner));
  return { width: width + 2, height: Math.round((width * 3) / 4) + 2, margin: MINIMAP_BOX.margin };
}
/** bottom-left holds the zoom controls */
export const CORNERS: readonly Corner[] = ['bottom-right', 'top-right', 'top-left'];

export function cornerRect(pane: Rect, corner: Corner, box: MinimapBox = MINIMAP_BOX): Rect {
  const left = corner === 'top-left' ? pane.left + box.margin : pane.right - box.margin - box.width;
  const top = corner === 'bottom-right' ? pane.bottom - box.margin - box.height : pane.top + box.margin;
  return { left, top, right: left + box.width, bottom: top + box.height };
}

const meets = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * The corner to use. No corner may have a callout under it. The minimap stays where it is while
 * it can (it must not jump about), and goes back to bottom-right, where React Flow puts it, when
 * it can; it moves to another corner only where it covers no node at all: a minimap that jumps
 * onto a node would land under the user's pointer (on the handle they were about to drag).
 * null: no corner will do; hide it until one does.
 */
export function chooseCorner(pane: Rect, callouts: readonly Rect[], nodes: readonly Rect[], current: Corner | null, box: MinimapBox = MINIMAP_BOX): Corner | null {
  const clear = (c: Corner, rs: readonly Rect[]) => !rs.some((r) => meets(r, cornerRect(pane, c, box)));
  const ok = (c: Corner) => clear(c, callouts) && (c === current || c === 'bottom-right' || clear(c, nodes));
  if (current && ok(current)) return current;
  return CORNERS.find(ok) ?? null;
}
