/**
 * Whether an element takes typed text (a text input, a text area, an editable region): the desktop's
 * Edit menu has already cut, copied or pasted in it through Chromium, so the canvas must not act too.
 * Duck-typed on the element's fields so it is tested without a DOM.
 */
export interface FocusedElement {
  tagName: string;
  /** an input's type ('text', 'checkbox', ...) */
  type?: string;
  isContentEditable?: boolean;
  readOnly?: boolean;
}

/** Input types that hold text a user edits (a checkbox or a button does not). */
const TEXT_INPUTS = new Set(['text', 'search', 'url', 'tel', 'email', 'password', 'number', '']);

export function isTextField(el: FocusedElement | null | undefined): boolean {
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA') return true;
  if (tag === 'INPUT') return TEXT_INPUTS.has((el.type ?? '').toLowerCase());
  return false;
}
