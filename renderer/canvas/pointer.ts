/** The last pointer position over the canvas (client coordinates), for quick-add and paste. */
let last: { x: number; y: number } | null = null;
let pane: HTMLElement | null = null;

export function trackPointer(x: number, y: number) {
  last = { x, y };
}
export function setPane(el: HTMLElement | null) {
  pane = el;
}
/** the pointer if it is over the canvas, else the canvas centre */
export function canvasPoint(): { x: number; y: number } {
  const r = pane?.getBoundingClientRect();
  if (last && r && last.x >= r.left && last.x <= r.right && last.y >= r.top && last.y <= r.bottom) return last;
  if (r) return { x: r.left + r.width / 2, y: r.top + r.height / 3 };
  return { x: window.innerWidth / 2, y: window.innerHeight / 2 };
}
