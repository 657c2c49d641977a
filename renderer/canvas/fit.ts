import type { ActionContext } from '../actions/types';

/**
 * Zoom to fit, unless that makes the layers unreadably small (a long ResNet): then fit the
 * first few layers from the top, and let the user scroll down.
 */
export function fitReadable(ctx: ActionContext) {
  const flow = ctx.flow;
  if (!flow) return;
  const nodes = ctx.state().nodes;
  if (nodes.length === 0) return;
  const bounds = flow.getNodesBounds(nodes);
  const pane = document.querySelector('.canvas')?.getBoundingClientRect();
  const zoom = pane ? Math.min(pane.width / (bounds.width * 1.3), pane.height / (bounds.height * 1.3)) : 1;
  if (zoom >= 0.55) {
    void flow.fitView({ padding: 0.15, maxZoom: 1.1 });
    return;
  }
  const top = [...nodes].sort((a, b) => a.position.y - b.position.y).slice(0, 6);
  void flow.fitView({ nodes: top.map((n) => ({ id: n.id })), padding: 0.2, maxZoom: 0.9, minZoom: 0.55 });
}
