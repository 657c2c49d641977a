/**
 * The toast's button and how long a toast stays (the toast list itself is the store's UiSlice). Kept apart
 * from the store so the rules can be checked without a browser.
 */

/** One button on a toast ("Undo"): clicking it runs `perform` and dismisses the toast. */
export interface ToastAction {
  label: string;
  perform(): void;
}

/**
 * How long a toast stays: long enough to read, short enough not to sit on the canvas. An error stays
 * longer (its hint says what to do); one with a button stays until there is time to reach it.
 */
export function toastLifetimeMs(t: { kind: 'error' | 'info' | 'success'; action?: ToastAction }): number {
  if (t.kind === 'error') return 8000;
  return t.action ? 6000 : 3500;
}
