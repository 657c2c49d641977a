import type { ActionContext } from '../actions/types';

/**
 * The smallest zoom a fit goes to: a layer's title (13 px, .layer-type) still renders at 9 px or more.
 * Below it a long chain would fit the pane as a column of unreadable 27 px boxes (LeNet-5 at 1280x720);
 * at it the user sees the start of the graph, readable, and pans or scrolls for the rest.
 */
export const MIN_READABLE_ZOOM = 0.7;
const MAX_FIT_ZOOM = 1.1;
/** space kept between the graph and the pane's edges, in screen pixels */
const PAD = 24;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where to put the view: the zoom that fits the graph in the pane, clamped to [MIN_READABLE_ZOOM,
 * MAX_FIT_ZOOM]; along each axis the graph is centred when it fits, else its start (top or left:
 * where a chain begins, whichever way it was laid out) sits at the pane's edge.
 */
export function readableViewport(bounds: Box, pane: { width: number; height: number }): { x: number; y: number; zoom: number } {
  const fit = Math.min((pane.width - 2 * PAD) / Math.max(bounds.width, 1), (pane.height - 2 * PAD) / Math.max(bounds.height, 1));
  const zoom = Math.min(MAX_FIT_ZOOM, Math.max(MIN_READABLE_ZOOM, fit));
  const place = (start: number, size: number, room: number) => (size * zoom <= room - 2 * PAD ? (room - size * zoom) / 2 - start * zoom : PAD - start * zoom);
  return { x: place(bounds.x, bounds.width, pane.width), y: place(bounds.y, bounds.height, pane.height), zoom };
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * The view the last fit set. While the view is still there the user has not panned or zoomed since,
 * so a resized pane may refit (refitIfUntouched); once they move it, it is theirs and stays.
 */
let lastFit: Viewport | null = null;

/** The same view, give or take rounding (React Flow stores the transform it was given, not a copy). */
export function sameViewport(a: Viewport, b: Viewport): boolean {
  return Math.abs(a.x - b.x) < 0.5 && Math.abs(a.y - b.y) < 0.5 && Math.abs(a.zoom - b.zoom) < 1e-3;
}

/** Zoom to fit, never below a readable zoom (readableViewport). */
export function fitReadable(ctx: ActionContext, opts: { duration?: number } = {}): void {
  const flow = ctx.flow;
  if (!flow) return;
  const nodes = ctx.state().nodes;
  if (nodes.length === 0) return;
  const pane = document.querySelector('.canvas')?.getBoundingClientRect();
  if (!pane || pane.width === 0 || pane.height === 0) {
    lastFit = null;
    void flow.fitView({ padding: 0.15, maxZoom: MAX_FIT_ZOOM, minZoom: MIN_READABLE_ZOOM });
    return;
  }
  lastFit = readableViewport(flow.getNodesBounds(nodes), pane);
  void flow.setViewport(lastFit, opts.duration ? { duration: opts.duration } : undefined);
}

/**
 * After the pane was resized (splitters, window, the dock opening): fit again, readably, if the view is
 * still the last fit's; a view the user panned or zoomed is left alone. Returns whether it refitted.
 */
export function refitIfUntouched(ctx: ActionContext): boolean {
  const flow = ctx.flow;
  if (!flow || !lastFit || !sameViewport(flow.getViewport(), lastFit)) return false;
  fitReadable(ctx);
  return true;
}
