/**
 * Zoom the canvas in and out (React Flow's viewport), like the View menu's Zoom In / Zoom Out. The keys
 * are the browser's own page-zoom keys: handleKeyDown calls preventDefault when the action runs, so the
 * canvas zooms and the page does not (they work in text fields too, where the page would zoom as well).
 */
import { mod, register } from './registry';

const ZOOM_MS = 150;

export const actionZoomIn = register({
  name: 'zoomIn',
  label: 'Zoom in',
  category: 'View',
  keys: ['Ctrl+='],
  // '=' and the '+' on the same key (with Shift) or on the keypad
  keyTest: (e) => mod(e) && !e.altKey && (e.key === '=' || e.key === '+'),
  keyInInputs: true,
  predicate: (ctx) => ctx.flow !== null,
  perform(ctx) {
    void ctx.flow?.zoomIn({ duration: ZOOM_MS });
  },
});

export const actionZoomOut = register({
  name: 'zoomOut',
  label: 'Zoom out',
  category: 'View',
  keys: ['Ctrl+-'],
  keyTest: (e) => mod(e) && !e.altKey && (e.key === '-' || e.key === '_'),
  keyInInputs: true,
  predicate: (ctx) => ctx.flow !== null,
  perform(ctx) {
    void ctx.flow?.zoomOut({ duration: ZOOM_MS });
  },
});
