/**
 * The optimizer's state in torch.optim's own state_dict() layout (AGREED FILE LAYOUT 2), both ways:
 *
 *   {"state": {0: {"exp_avg": tensor, ...}, 1: {...}}, "param_groups": [{"lr": ..., <every torch 1.13
 *    hyperparameter of the class>, "params": [0, 1, ..., n-1]}]}
 *
 * Index i is the i-th learnable parameter in state-dict order (session.program.params without the
 * buffers), which is model.parameters() of the exported model.py; per-parameter state uses torch's
 * names, as Netloom's StateBindings already do (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq,
 * square_avg, grad_avg, sum), plus torch's per-parameter "step" where the class keeps one.
 *
 * Inside Netloom the same state is a record `<param key>.<state name>` -> tensor (the safetensors
 * layout's `optimizer.state.*` keys without the prefix) and one global step counter.
 */
import { NetloomError } from '../errors.js';
import { OptimizerSchema, optimizerDefaults, type OptimizerDoc, type OptimizerType } from '../contract/optimizers.js';
import type { TensorF32 } from '../io/checkpoint.js';
import { isPyDict, isPyTensor, pyDict, pyTuple, type PyDict, type PyValue } from '../io/pyvalue.js';

/** A learnable parameter as the optimizer sees it. */
export interface LearnableParam {
  key: string;
  shape: readonly number[];
}

/** Where torch 1.13 keeps a per-parameter step: a float32 scalar tensor, a Python int, or none (SGD). */
const STEP_KIND: Record<OptimizerType, 'tensor' | 'int' | null> = { SGD: null, Adam: 'tensor', AdamW: 'tensor', RMSprop: 'int', Adagrad: 'tensor' };

/** torch 1.13's param_group keys that choose an implementation, not the maths (written as torch writes them, never compared). */
const IMPLEMENTATION: Record<OptimizerType, Record<string, PyValue>> = {
  SGD: { foreach: null, differentiable: false },
  Adam: { foreach: null, capturable: false, differentiable: false, fused: null },
  AdamW: { foreach: null, capturable: false, differentiable: false, fused: null },
  RMSprop: { foreach: null, differentiable: false },
  Adagrad: { foreach: null },
};

/** The hyperparameters of `opt` with torch's defaults filled in, in torch's order, as Python values. */
export function hyperparameters(opt: OptimizerDoc): Map<string, PyValue> {
  const filled = { ...optimizerDefaults(opt.type), ...opt } as Record<string, unknown>;
  const out = new Map<string, PyValue>();
  for (const [k, v] of Object.entries(filled)) {
    if (k === 'type') continue;
    out.set(k, Array.isArray(v) ? pyTuple(...(v as number[])) : (v as PyValue));
  }
  for (const [k, v] of Object.entries(IMPLEMENTATION[opt.type])) out.set(k, v);
  return out;
}

const tensor = (shape: readonly number[], data: Float32Array): PyValue => ({ kind: 'tensor', dtype: 'float32', shape: [...shape], data });

/**
 * torch.optim's state_dict() for Netloom's optimizer state. `group` overrides or adds param_group
 * entries (a scheduler's current lr, initial_lr, OneCycleLR's max_lr...). Before the first step torch
 * has no per-parameter state yet (SGD's momentum buffer is created from the first gradient, which
 * dampening would otherwise scale), so none is written; Adagrad's, created at construction, always is.
 */
export function optimizerStateDict(o: {
  optimizer: OptimizerDoc; params: readonly LearnableParam[]; state: Record<string, TensorF32>; steps: number; group?: Record<string, PyValue>;
}): PyDict {
  const step = STEP_KIND[o.optimizer.type];
  const state = pyDict([]);
  o.params.forEach((p, i) => {
    if (o.steps === 0 && o.optimizer.type !== 'Adagrad') return;
    const entries = new Map<string, PyValue>();
    if (step === 'tensor') entries.set('step', tensor([], Float32Array.of(o.steps)));
    if (step === 'int') entries.set('step', BigInt(o.steps));
    for (const [k, t] of Object.entries(o.state)) if (k.startsWith(`${p.key}.`) && !k.slice(p.key.length + 1).includes('.')) entries.set(k.slice(p.key.length + 1), tensor(t.shape, t.data));
    state.entries.set(BigInt(i), { kind: 'dict', ordered: false, entries });
  });
  const group = hyperparameters(o.optimizer);
  for (const [k, v] of Object.entries(o.group ?? {})) group.set(k, v);
  group.set('params', o.params.map((_, i) => BigInt(i)));
  return pyDict([['state', state], ['param_groups', [{ kind: 'dict', ordered: false, entries: group }]]]);
}

// ---- reading ------------------------------------------------------------------------------------

const refuse = (source: string, message: string, hint = 'Resume from a checkpoint saved by Netloom or by the exported train.py for this project, or load the weights only.') =>
  new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);

/** A field of a Python dict by string key. */
const field = (d: PyDict, k: string) => d.entries.get(k);

/** The optimizer family a param_group's keys belong to (Adam and AdamW share theirs: `netloom.optimizer` or the project tells them apart). */
function familyOf(group: PyDict): 'SGD' | 'Adam' | 'RMSprop' | 'Adagrad' | undefined {
  if (group.entries.has('nesterov')) return 'SGD';
  if (group.entries.has('betas')) return 'Adam';
  if (group.entries.has('centered')) return 'RMSprop';
  if (group.entries.has('lr_decay')) return 'Adagrad';
  return undefined;
}

const sameNumber = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
const asNumber = (v: PyValue | undefined) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined);
const show = (v: PyValue | undefined) => (typeof v === 'bigint' ? String(v) : isPyDict(v) || isPyTensor(v) ? '(an object)' : JSON.stringify(v === undefined ? null : v));

/**
 * Checks that a file's param_group trains as the project does. A difference is refused, naming the
 * field: resuming is asked to continue *that* run exactly, so neither silently keeping the project's
 * value (the run would change course) nor silently taking the file's (the project would no longer say
 * what trained the model) is what a user expects; the hint gives the value to set. `expected` are the
 * entries the project would write (the scheduler's lr fields among them); `skip` names the fields a
 * scheduler drives (OneCycleLR's momentum), whose current value is the position's business.
 */
function checkGroup(source: string, group: PyDict, opt: OptimizerDoc, expected: Map<string, PyValue>, skip: ReadonlySet<string>): void {
  const family = familyOf(group);
  // a setting an older torch did not have yet (maximize before 1.11) means its default
  const defaults = hyperparameters(OptimizerSchema.parse({ type: opt.type }) as OptimizerDoc);
  const ours = opt.type === 'AdamW' ? 'Adam' : opt.type;
  if (family !== ours)
    throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${source}: optimizer_state_dict is ${family ? `${family}'s` : "an unknown optimizer's"}, but this project trains with ${opt.type}`,
      `Resume with the optimizer it was saved with (training.optimizer.type${family ? ` "${family}"` : ''}), or load the weights only.`);
  for (const [k, want] of expected) {
    if (k in IMPLEMENTATION[opt.type] || skip.has(k)) continue;
    const got = group.entries.has(k) || !defaults.has(k) ? field(group, k) : defaults.get(k);
    // a scheduler sets initial_lr in the group: without one, the file's run had no schedule
    if (k === 'initial_lr' && got === undefined)
      throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${source}: optimizer_state_dict's param_groups[0] has no initial_lr: the run that saved it had no learning-rate scheduler, but this project has one`,
        'Resume without the scheduler (remove training.scheduler), or load the weights only.');
    if (!samePyValue(want, got))
      throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${source}: optimizer_state_dict's param_groups[0].${k} is ${show(got)}, but this project's ${opt.type} has ${k} = ${show(want)}`,
        `Resume with the settings the run was saved with (set training.optimizer.${k === 'initial_lr' ? 'lr' : k} in the project to the file's value), or load the weights only.`);
  }
}

/** Two settings alike: numbers to 1e-12 relative (Python int or float), tuples and lists item by item, the rest exactly. */
function samePyValue(want: PyValue | undefined, got: PyValue | undefined): boolean {
  const items = (v: PyValue | undefined) => (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'tuple' ? v.items : Array.isArray(v) ? v : [v]);
  const w = items(want);
  const g = items(got);
  return w.length === g.length && w.every((x, i) => {
    const a = asNumber(x);
    const b = asNumber(g[i]);
    return a !== undefined && b !== undefined ? sameNumber(a, b) : x === g[i];
  });
}

/** A scalar step: a tensor of one element, a Python int or float; a whole number or undefined. */
function stepValue(v: PyValue | undefined): number | undefined {
  const n = isPyTensor(v) ? (v.data.length === 1 ? v.data[0] : undefined) : asNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** One parameter's state entry -> Netloom's record entries; returns its step, if it keeps one. */
function readParamState(source: string, i: number, p: LearnableParam, entry: PyValue, names: readonly string[], out: Record<string, TensorF32>): number | undefined {
  if (!isPyDict(entry)) throw refuse(source, `optimizer_state_dict's state[${i}] is not a dict`);
  const numel = p.shape.reduce((a, b) => a * b, 1);
  for (const name of names) {
    const t = field(entry, name);
    if (t === null || t === undefined) continue; // torch's SGD keeps momentum_buffer None before a momentum step
    if (!isPyTensor(t)) throw refuse(source, `optimizer_state_dict's state[${i}].${name} is not a tensor`);
    if (t.data.length !== numel || t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j]))
      throw new NetloomError('NL_CHECKPOINT_MISMATCH',
        `${source}: optimizer_state_dict's state[${i}].${name} has shape [${t.shape.join(', ')}], but parameter ${i} of this model (${p.key}) has shape [${p.shape.join(', ')}]`,
        'The checkpoint was saved from a different network (index i is the i-th learnable parameter in state-dict order): resume it on the graph it came from, or load the weights only.');
    out[`${p.key}.${name}`] = { shape: [...p.shape], data: Float32Array.from(t.data) };
  }
  if (!entry.entries.has('step')) return undefined;
  const step = stepValue(field(entry, 'step'));
  if (step === undefined) throw refuse(source, `optimizer_state_dict's state[${i}].step is not a whole number`);
  return step;
}

/**
 * A torch.optim state_dict() back into Netloom's record (`<param key>.<state name>`) for `stateNames`
 * (the program's StateBindings), checked against the project: one param group over exactly the
 * model's learnable parameters, its hyperparameters the project's, every tensor of its parameter's
 * shape. A parameter without state (torch creates it at the first step) gets the initial value of each
 * tensor (zeros; Adagrad's `sum` starts at initial_accumulator_value). `step` is the per-parameter
 * step torch keeps (Adam, AdamW, RMSprop, Adagrad), the same for every parameter; undefined for SGD.
 */
export function readOptimizerStateDict(source: string, sd: PyValue | undefined, o: {
  optimizer: OptimizerDoc; params: readonly LearnableParam[]; stateNames: readonly { param: string; key: string }[]; expectedGroup?: Record<string, PyValue>; driven?: ReadonlySet<string>;
}): { state: Record<string, TensorF32>; step: number | undefined } {
  if (!isPyDict(sd)) throw refuse(source, 'optimizer_state_dict is not a dict');
  const groups = field(sd, 'param_groups');
  const states = field(sd, 'state');
  if (!Array.isArray(groups) || !isPyDict(states)) throw refuse(source, 'optimizer_state_dict lacks "state" or "param_groups" (it is not torch.optim\'s state_dict() layout)');
  if (groups.length !== 1 || !isPyDict(groups[0]))
    throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${source}: optimizer_state_dict has ${groups.length} param groups; Netloom trains with one`, 'Resume from a run whose optimizer had one parameter group (optimizer(model.parameters(), ...)), or load the weights only.');
  const group = groups[0];
  const ids = field(group, 'params');
  const n = o.params.length;
  if (!Array.isArray(ids) || ids.length !== n || ids.some((v, i) => v !== BigInt(i)))
    throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${source}: optimizer_state_dict's param_groups[0].params is not [0, ..., ${n - 1}]: it covers ${Array.isArray(ids) ? ids.length : 0} parameters, this model has ${n} learnable ones`,
      'The checkpoint was saved from a different network: resume it on the graph it came from, or load the weights only.');
  const expected = hyperparameters(o.optimizer);
  for (const [k, v] of Object.entries(o.expectedGroup ?? {})) expected.set(k, v);
  checkGroup(source, group, o.optimizer, expected, o.driven ?? new Set());
  for (const k of states.entries.keys())
    if (typeof k !== 'bigint' || k < 0n || k >= BigInt(n)) throw refuse(source, `optimizer_state_dict's state has the key ${String(k)}, which names no parameter of the group`);
  const state: Record<string, TensorF32> = Object.create(null);
  const steps = new Set<number>();
  o.params.forEach((p, i) => {
    const names = o.stateNames.filter((s) => s.param === p.key).map((s) => s.key);
    const entry = states.entries.get(BigInt(i));
    const step = entry === undefined ? undefined : readParamState(source, i, p, entry, names, state);
    if (step !== undefined) steps.add(step);
    else if (STEP_KIND[o.optimizer.type] && entry !== undefined && isPyDict(entry) && entry.entries.size) throw refuse(source, `optimizer_state_dict's state[${i}] has no "step"`);
    for (const name of names) {
      if (`${p.key}.${name}` in state) continue;
      const initial = name === 'sum' && o.optimizer.type === 'Adagrad' ? o.optimizer.initial_accumulator_value : 0;
      state[`${p.key}.${name}`] = { shape: [...p.shape], data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)).fill(initial) };
    }
  });
  if (steps.size > 1) throw refuse(source, `optimizer_state_dict's parameters are at different steps (${[...steps].join(', ')}); Netloom steps every parameter together`);
  return { state, step: steps.size ? [...steps][0] : undefined };
}
