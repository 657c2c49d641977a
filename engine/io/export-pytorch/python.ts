/**
 * Python source text from Netloom values: literals (numbers, strings, tuples), identifiers, and the
 * names a generated nn.Module must not take as attributes. Everything the exporter writes into a
 * .py file that came from a user (parameters, names, the project's title) passes through here, so a
 * value can only ever become a literal or a comment, never code.
 */

/** Python's keywords (3.8-3.12): not usable as attribute or variable names. */
const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield',
]);

/**
 * dir(nn.Module()) in torch 1.13, public and private: `self.<name> = module` would overwrite (or be
 * refused by) nn.Module's own attribute, and add_module() refuses them too.
 */
export const NN_MODULE_ATTRS: ReadonlySet<string> = new Set([
  'T_destination', '_apply', '_backward_hooks', '_buffers', '_call_impl', '_forward_hooks', '_forward_pre_hooks',
  '_get_backward_hooks', '_get_name', '_is_full_backward_hook', '_load_from_state_dict', '_load_state_dict_post_hooks',
  '_load_state_dict_pre_hooks', '_maybe_warn_non_full_backward_hook', '_modules', '_named_members',
  '_non_persistent_buffers_set', '_parameters', '_register_load_state_dict_pre_hook', '_register_state_dict_hook',
  '_replicate_for_data_parallel', '_save_to_state_dict', '_slow_forward', '_state_dict_hooks', '_version', 'add_module',
  'apply', 'bfloat16', 'buffers', 'children', 'cpu', 'cuda', 'double', 'dump_patches', 'eval', 'extra_repr', 'float', 'forward',
  'get_buffer', 'get_extra_state', 'get_parameter', 'get_submodule', 'half', 'ipu', 'load_state_dict', 'modules',
  'named_buffers', 'named_children', 'named_modules', 'named_parameters', 'parameters', 'register_backward_hook',
  'register_buffer', 'register_forward_hook', 'register_forward_pre_hook', 'register_full_backward_hook',
  'register_load_state_dict_post_hook', 'register_module', 'register_parameter', 'requires_grad_', 'set_extra_state',
  'share_memory', 'state_dict', 'to', 'to_empty', 'train', 'training', 'type', 'xpu', 'zero_grad',
]);

/** A plain Python identifier that is not a keyword (ASCII only: Netloom's node names are ASCII). */
export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !KEYWORDS.has(s);
}

/** Whether `self.<s>` can name a child module: an identifier that nn.Module does not use itself (and no dunder). */
export function isAttributeName(s: string): boolean {
  return isIdentifier(s) && !NN_MODULE_ATTRS.has(s) && !s.startsWith('__');
}

/** A Python string literal: JSON's escapes are Python's too; non-ASCII is escaped so the file stays ASCII. */
export function pyStr(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text that is safe inside a `#` comment: one line, printable ASCII (anything else escaped as \uXXXX). */
export function commentText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A Python number literal for a finite JS number. JS prints the shortest text that round-trips
 * (0.1, 1e-7), which Python reads as the same double; `float` keeps a decimal point on whole
 * numbers where the value must be a float (1.0, not 1).
 */
export function pyNum(v: number, kind: 'int' | 'float' = Number.isInteger(v) ? 'int' : 'float'): string {
  if (!Number.isFinite(v)) throw new Error(`pyNum: ${v} is not a finite number`);
  const s = String(v);
  if (kind === 'float' && /^-?\d+$/.test(s)) return `${s}.0`;
  return s;
}

/** A JSON-like value as a Python literal: arrays become tuples (torch's int-or-tuple parameters), null None. */
export function pyValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'string') return pyStr(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${pyValue(v[0])},)` : `(${v.map(pyValue).join(', ')})`;
  throw new Error(`pyValue: cannot write ${typeof v} as a Python literal`);
}

/** A list literal (Python list, not tuple): class weights, key lists. */
export function pyList(items: readonly unknown[]): string {
  return `[${items.map(pyValue).join(', ')}]`;
}

/** `name[, key=value...]` call arguments: positional values first, then keywords; undefined entries left out. */
export function pyArgs(positional: readonly string[], keywords: ReadonlyArray<[string, string | undefined]>): string {
  return [...positional, ...keywords.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)].join(', ');
}

/** Python builtins a node name could shadow as a variable (`input`, `sum`, ...). */
const BUILTINS = new Set([
  'abs', 'all', 'any', 'bool', 'bytes', 'dict', 'dir', 'filter', 'float', 'format', 'hash', 'id', 'input', 'int', 'iter', 'len',
  'list', 'map', 'max', 'min', 'next', 'object', 'open', 'pow', 'print', 'range', 'round', 'set', 'slice', 'str', 'sum', 'tuple',
  'type', 'vars', 'zip',
]);

/**
 * A local variable name from a node name: `layer1.conv2` -> layer1_conv2. A keyword or a builtin gets
 * PEP 8's trailing underscore (`input_`); `taken` names get a number.
 */
export function variableName(nodeName: string, taken: ReadonlySet<string>): string {
  let base = nodeName.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = `out_${base}`;
  if (!isIdentifier(base) || BUILTINS.has(base)) base = `${base}_`;
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  return name;
}
