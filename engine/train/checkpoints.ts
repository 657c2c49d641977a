/**
 * Checkpoints: the model's state dict as safetensors, keys `<node name>.<param>` exactly as
 * PyTorch's model.state_dict() names them, loaded with load_state_dict's strict semantics:
 * missing, unexpected and mis-shaped keys are all reported in one error, and nothing is loaded
 * unless everything matches.
 *
 * A training checkpoint (saved "with optimizer") also holds the optimizer's state tensors under
 * `optimizer.state.<param key>.<torch state name>` (e.g. `optimizer.state.fc1.weight.exp_avg`)
 * and, in the metadata, where training stood (`netloom.step`, `netloom.epoch`, `netloom.batch`,
 * `netloom.scheduler_step`, `netloom.optimizer`), so a run can continue exactly. Those keys are
 * Netloom's own: a plain load (weights only) ignores them; to load such a file in PyTorch, save
 * it without the optimizer state, or as .pt, whose training checkpoint is PyTorch's own checkpoint
 * dict (torch-checkpoint.ts): a file read from it carries that dict (`checkpoint`), and its
 * position, from Netloom or from train.py, becomes the same netloom.* fields.
 *
 * Keys saved from a model wrapped in DataParallel or DistributedDataParallel all start with
 * `module.`: such a file loads without the prefix, and the load says so (a note).
 */
import { NetloomError } from '../errors.js';
import { TOO_DEEP, scanJson } from '../io/json-limits.js';
import { readCheckpointFile, writeCheckpointFile, type CheckpointFile, type TensorF32 } from '../io/checkpoint.js';
import { isPyDict, type PyDict } from '../io/pyvalue.js';
import type { CompiledProgram } from '../compile/ir.js';
import type { Session } from '../runtime/session.js';
import { checkStandardizeField, STANDARDIZE_FIELD, MAX_STANDARDIZE_CHARS } from '../io/standardize.js';
import { checkpointMetadata } from './torch-checkpoint.js';

/** The program's parameters as state-dict tensors, in its order (int64 buffers such as num_batches_tracked as I64). */
export function paramTensors(program: CompiledProgram, values: Map<string, Float32Array>): Record<string, TensorF32> {
  const tensors: Record<string, TensorF32> = {};
  for (const p of program.params) tensors[p.key] = { shape: [...p.shape], data: values.get(p.key)!, dtype: p.dtype === 'i64' ? 'I64' : 'F32' };
  return tensors;
}

/**
 * Saves the session's weights now, or `values` (e.g. the best epoch's copy) in the session's layout;
 * `extra` adds tensors of a training checkpoint (the optimizer state, under OPTIMIZER_PREFIX).
 */
export async function saveCheckpoint(
  path: string, session: Session, metadata: Record<string, string> = {}, values: Map<string, Float32Array> = session.getParams(), extra: Record<string, TensorF32> = {},
): Promise<void> {
  await writeCheckpointFile(path, { ...paramTensors(session.program, values), ...extra }, { format: 'pt', producer: 'netloom', ...metadata });
}

// ---- Netloom's metadata -------------------------------------------------------------------------

/** The most characters a netloom.* value may hold (an optimizer's JSON is about 200). */
export const MAX_FIELD_CHARS = 4096;
const INT32_MAX = 2 ** 31 - 1;
/**
 * The whole-number fields and their largest value: epochs and batches are counts a run shows
 * ("epoch 3/10"), so 32-bit; steps and the seed are 64-bit in the native session, and exact in
 * JavaScript up to 2^53 - 1.
 */
const WHOLE_NUMBERS: Record<string, number> = {
  'netloom.epoch': INT32_MAX,
  'netloom.batch': INT32_MAX,
  'netloom.best_epoch': INT32_MAX,
  'netloom.step': Number.MAX_SAFE_INTEGER,
  'netloom.scheduler_step': Number.MAX_SAFE_INTEGER,
  'netloom.seed': Number.MAX_SAFE_INTEGER,
};
const PHASES = ['train', 'test'];
const EDITED = 'The file was damaged or edited: save the checkpoint again from Netloom.';

/** A value as quoted in a message: short, so a long forged field is not echoed whole. */
const quote = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);

function badField(source: string, message: string, hint = EDITED): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);
}

/** netloom.optimizer: the optimizer's settings as JSON, an object with a "type"; every number finite, lr positive. */
function checkOptimizerField(v: string, source: string): void {
  const f = 'netloom.optimizer';
  const deep = scanJson(v);
  if (deep) throw badField(source, `${f} ${TOO_DEEP} (${deep.kind === 'depth' ? deep.path : ''})`);
  let opt: unknown;
  try {
    opt = JSON.parse(v);
  } catch {
    throw badField(source, `${f} is not valid JSON`);
  }
  if (typeof opt !== 'object' || opt === null || Array.isArray(opt) || typeof (opt as { type?: unknown }).type !== 'string')
    throw badField(source, `${f} must be a JSON object with the optimizer's "type"`);
  for (const [k, x] of Object.entries(opt)) {
    const numbers = Array.isArray(x) ? x : [x];
    if (numbers.some((n) => typeof n === 'number' && !Number.isFinite(n))) throw badField(source, `${f}: ${k} must be a finite number`);
  }
  const lr = (opt as { lr?: unknown }).lr;
  if (lr !== undefined && !(typeof lr === 'number' && Number.isFinite(lr) && lr > 0))
    throw badField(source, `${f}: lr must be a finite positive number, got ${JSON.stringify(lr)}`);
}

/**
 * Checks every netloom.* field a checkpoint holds (whatever the load: a forged field means a
 * damaged file), each refusal naming the field: length, whole numbers in range written as plain
 * digits, the phase, the optimizer's JSON. Other metadata (PyTorch's, a user's) is not ours to judge.
 */
export function checkNetloomMetadata(metadata: Record<string, string>, source: string): void {
  for (const [k, v] of Object.entries(metadata)) {
    if (!k.startsWith('netloom.')) continue;
    if (k === STANDARDIZE_FIELD) {
      // one mean and one divisor per feature column: a wide CSV's are longer than any other field
      if (v.length > MAX_STANDARDIZE_CHARS) throw badField(source, `${k} is ${v.length} characters long; at most ${MAX_STANDARDIZE_CHARS} are allowed`);
      checkStandardizeField(v, (message) => badField(source, `${k} ${message}`));
      continue;
    }
    if (v.length > MAX_FIELD_CHARS) throw badField(source, `${k} is ${v.length} characters long; at most ${MAX_FIELD_CHARS} are allowed`);
    const max = WHOLE_NUMBERS[k];
    if (max !== undefined && !(/^(0|[1-9][0-9]*)$/.test(v) && Number(v) <= max))
      throw badField(source, `${k} must be a whole number from 0 to ${max}, got ${quote(v)}`);
    if (k === 'netloom.phase' && !PHASES.includes(v)) throw badField(source, `${k} must be "train" or "test", got ${quote(v)}`);
    if (k === 'netloom.optimizer') checkOptimizerField(v, source);
  }
}

/** A checkpoint file as the engine uses it: keys as the model names them, metadata checked, notes for the user. */
export interface ReadCheckpoint extends CheckpointFile {
  /** PyTorch's checkpoint dict, when the file holds one (a .pt saved with the optimizer, train.py's) */
  checkpoint?: PyDict;
  /** what the load changed or noticed, for the user ("the keys had DataParallel's 'module.' prefix; ...") */
  notes: string[];
}

/** The prefix DataParallel and DistributedDataParallel put before every key of the model they wrap. */
export const MODULE_PREFIX = 'module.';
export const MODULE_PREFIX_NOTE = "the keys had DataParallel's 'module.' prefix; loaded without it";

/**
 * The state dict without DataParallel's prefix when every key of it (the optimizer state of a
 * safetensors training checkpoint aside) has it; a file where only some keys do is left as it is,
 * and its mismatch says why (mismatchError).
 */
export function withoutModulePrefix(tensors: Record<string, TensorF32>): { tensors: Record<string, TensorF32>; stripped: boolean } {
  const keys = Object.keys(tensors).filter((k) => !k.startsWith(OPTIMIZER_PREFIX));
  if (!keys.length || !keys.every((k) => k.startsWith(MODULE_PREFIX))) return { tensors, stripped: false };
  const out: Record<string, TensorF32> = Object.create(null);
  for (const [k, t] of Object.entries(tensors)) out[k.startsWith(OPTIMIZER_PREFIX) ? k : k.slice(MODULE_PREFIX.length)] = t;
  return { tensors: out, stripped: true };
}

/**
 * A decoded file as the engine uses it: a checkpoint dict's own metadata and position merged into
 * the metadata (checkpointMetadata), DataParallel's prefix removed, every netloom.* field checked.
 */
export function interpretCheckpoint(file: CheckpointFile & { checkpoint?: PyDict }, source: string): ReadCheckpoint {
  const checkpoint = isPyDict(file.checkpoint) ? file.checkpoint : undefined;
  const metadata: Record<string, string> = Object.assign(Object.create(null), file.metadata, checkpoint ? checkpointMetadata(source, checkpoint) : {});
  checkNetloomMetadata(metadata, source);
  const { tensors, stripped } = withoutModulePrefix(file.tensors);
  return { ...file, tensors, metadata, ...(checkpoint ? { checkpoint } : {}), notes: stripped ? [MODULE_PREFIX_NOTE] : [] };
}

/** A checkpoint file of any format Netloom reads, interpreted (interpretCheckpoint). */
export async function readCheckpoint(path: string): Promise<ReadCheckpoint> {
  // the torch-io reader adds `checkpoint` (the dict) to what it decodes from a .pt checkpoint dict
  return interpretCheckpoint(await readCheckpointFile(path) as CheckpointFile & { checkpoint?: PyDict }, path);
}

/**
 * Whether a checkpoint says where training stood, so a run can resume from it: Netloom's own files
 * record the step; train.py's dict gives its epoch (an SGD one without a step is at epoch x batches
 * per epoch + batch, which only the run resuming it knows).
 */
export function isResumable(metadata: Record<string, string>): boolean {
  return 'netloom.step' in metadata || 'netloom.epoch' in metadata;
}

export interface ResumePosition {
  epoch: number;
  batch: number;
  step: number;
  phase: 'train' | 'test';
}

/**
 * Where a training checkpoint (already checked by readCheckpoint, with every position field
 * present) stood, checked against the run that resumes it: an epoch within its epochs, a batch
 * within one of its epochs.
 */
export function resumePosition(metadata: Record<string, string>, source: string, run: { epochs: number; batchesPerEpoch: number }): ResumePosition {
  const epoch = Number(metadata['netloom.epoch']);
  const batch = Number(metadata['netloom.batch']);
  const step = Number(metadata['netloom.step']);
  const phase = metadata['netloom.phase'] === 'test' ? 'test' : 'train';
  if (epoch > run.epochs)
    throw badField(source, `netloom.epoch is ${epoch}, but this run has ${run.epochs} epochs`, `Set epochs to more than ${epoch} to continue that run, or load the weights only.`);
  if (batch > run.batchesPerEpoch || (epoch === run.epochs && batch > 0))
    throw badField(source, `netloom.batch is ${batch}, but an epoch of this run has ${run.batchesPerEpoch} batches${epoch === run.epochs ? ' and netloom.epoch is its end' : ''}`,
      'Resume with the batch size, sample limits and epochs it was saved with, or load the weights only.');
  return { epoch, batch, step, phase };
}

const shapeText = (s: readonly number[]) => `torch.Size([${s.join(', ')}])`;

/** Compares a state dict against the model; returns PyTorch-style problem lines (empty = match). */
export function stateDictProblems(model: readonly { key: string; shape: readonly number[] }[], file: Record<string, TensorF32>): string[] {
  const want = new Map(model.map((p) => [p.key, p.shape]));
  const missing = model.filter((p) => !(p.key in file)).map((p) => p.key);
  const unexpected = Object.keys(file).filter((k) => !want.has(k));
  const lines: string[] = [];
  if (missing.length) lines.push(`Missing key(s) in state_dict: ${missing.map((k) => `"${k}"`).join(', ')}.`);
  if (unexpected.length) lines.push(`Unexpected key(s) in state_dict: ${unexpected.map((k) => `"${k}"`).join(', ')}.`);
  for (const [k, shape] of want) {
    const t = file[k];
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])))
      lines.push(`size mismatch for ${k}: copying a param with shape ${shapeText(t.shape)} from checkpoint, the shape in current model is ${shapeText(shape)}.`);
  }
  return lines;
}

/** Prefix of the optimizer state tensors in a training checkpoint. */
export const OPTIMIZER_PREFIX = 'optimizer.state.';

/** A file's tensors split into the state dict proper and the optimizer state (keys without the prefix). */
export function splitCheckpoint(tensors: Record<string, TensorF32>): { model: Record<string, TensorF32>; optimizer: Record<string, TensorF32> } {
  // null prototypes: a key such as "optimizer.state.__proto__" must stay an ordinary entry
  const model: Record<string, TensorF32> = Object.create(null);
  const optimizer: Record<string, TensorF32> = Object.create(null);
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(OPTIMIZER_PREFIX)) optimizer[k.slice(OPTIMIZER_PREFIX.length)] = t;
    else model[k] = t;
  }
  return { model, optimizer };
}

/** One graph node's part of a load: keys the model wants but the file lacks, keys the file has but the node does not, shape mismatches. */
export interface NodeLoadReport {
  /** the flat graph's node (engine/graph/groups.ts): the drawn id, or `<id>@<i>` for copy i of a repeated group */
  nodeId: string;
  name: string;
  type: string;
  /** the node's state-dict keys */
  keys: string[];
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; fileShape: number[]; modelShape: number[] }[];
  ok: boolean;
}

export interface LoadReport {
  /** true when every key matches (strict load_state_dict would succeed) */
  ok: boolean;
  nodes: NodeLoadReport[];
  /** file keys that belong to no node of the graph (their prefix names no node) */
  unassigned: string[];
  /** the PyTorch-style lines (what loadCheckpoint would throw) */
  problems: string[];
  /** the file holds optimizer state (a training checkpoint) */
  hasOptimizerState: boolean;
  /** what the load changed or noticed (DataParallel's prefix removed, other standardisation statistics) */
  notes: string[];
}

/**
 * The strict comparison of stateDictProblems, broken down per graph node: a key `<name>.<param>`
 * belongs to the node called <name> (node names may contain dots; parameter names never do).
 */
export function loadReport(
  nodes: readonly { id: string; name: string; type: string }[],
  model: readonly { key: string; shape: readonly number[] }[],
  tensors: Record<string, TensorF32>,
  read: { notes?: readonly string[]; checkpoint?: PyDict } = {},
): LoadReport {
  const { model: file, optimizer } = splitCheckpoint(tensors);
  const owner = (key: string) => key.slice(0, Math.max(key.lastIndexOf('.'), 0));
  const byName = new Map<string, NodeLoadReport>();
  const out: NodeLoadReport[] = nodes.map((n) => {
    const r: NodeLoadReport = { nodeId: n.id, name: n.name, type: n.type, keys: [], missing: [], unexpected: [], mismatched: [], ok: true };
    byName.set(n.name, r);
    return r;
  });
  const want = new Map(model.map((p) => [p.key, p.shape]));
  const unassigned: string[] = [];
  for (const p of model) {
    const r = byName.get(owner(p.key));
    if (!r) continue;
    r.keys.push(p.key);
    const t = file[p.key];
    if (!t) r.missing.push(p.key);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
      r.mismatched.push({ key: p.key, fileShape: [...t.shape], modelShape: [...p.shape] });
  }
  for (const k of Object.keys(file)) {
    if (want.has(k)) continue;
    const r = byName.get(owner(k));
    if (r) r.unexpected.push(k);
    else unassigned.push(k);
  }
  for (const r of out) r.ok = !r.missing.length && !r.unexpected.length && !r.mismatched.length;
  const problems = [...stateDictProblems(model, file), ...nonFiniteTensors(file)];
  const hasOptimizerState = Object.keys(optimizer).length > 0 || !!read.checkpoint?.entries.has('optimizer_state_dict');
  return { ok: problems.length === 0, nodes: out, unassigned, problems, hasOptimizerState, notes: [...(read.notes ?? [])] };
}

/**
 * One line per tensor holding NaN or infinite values ("the tensor 'fc1.weight' holds 12 NaN values (of
 * 401,408)"). Such weights come from a run that diverged: evaluating them would only report a NaN
 * loss, and the hint for that (lower the learning rate) is about training, not about the file.
 */
export function nonFiniteTensors(tensors: Record<string, TensorF32>): string[] {
  const lines: string[] = [];
  for (const [key, t] of Object.entries(tensors)) {
    let nan = 0;
    let inf = 0;
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
    }
    if (nan + inf === 0) continue;
    const parts = [nan && `${nan.toLocaleString('en-US')} NaN value${nan === 1 ? '' : 's'}`, inf && `${inf.toLocaleString('en-US')} infinite value${inf === 1 ? '' : 's'}`].filter(Boolean);
    lines.push(`the tensor '${key}' holds ${parts.join(' and ')} (of ${t.data.length.toLocaleString('en-US')})`);
  }
  return lines;
}

/** Throws NL_BAD_CHECKPOINT naming every tensor of `path` that holds NaN or infinite values. */
export function requireFinite(path: string, tensors: Record<string, TensorF32>): void {
  const lines = nonFiniteTensors(tensors);
  if (lines.length)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${path}: ${lines.join('; ')}`,
      'These weights come from a run that diverged. Use the weights of an earlier or the best epoch (after a NaN stop, `netloom train --save` saves the best epoch\'s; the app saves them with Save checkpoint → best epoch), or train again with a lower learning rate.');
}

/** load_state_dict's strict refusal: every problem line of the comparison, PyTorch's wording. */
export function mismatchError(path: string, problems: readonly string[]): NetloomError {
  // every key prefixed loads (withoutModulePrefix): some prefixed and some not is a file worth explaining
  const partialPrefix = problems.some((l) => l.startsWith('Unexpected key(s)') && l.includes(`"${MODULE_PREFIX}`));
  return new NetloomError('NL_CHECKPOINT_MISMATCH', `Error(s) in loading state_dict from ${path}:\n  ${problems.join('\n  ')}`,
    partialPrefix
      ? "Some keys start with 'module.' (the prefix DataParallel and DistributedDataParallel add) and some do not: save model.module.state_dict() in PyTorch, or remove the prefix from every key."
      : 'The checkpoint was saved from a different network: load it onto the graph it came from, or rename nodes so their names match the keys.');
}

/** Loads a state dict onto the session, strictly (nothing unless every key matches); returns the file's metadata. */
export async function loadCheckpoint(path: string, session: Session): Promise<Record<string, string>> {
  return (await loadWeights(path, session)).metadata;
}

/** loadCheckpoint, with what the load noticed for the user (DataParallel's prefix removed). */
export async function loadWeights(path: string, session: Session): Promise<{ metadata: Record<string, string>; notes: string[] }> {
  const { tensors: all, metadata, notes } = await readCheckpoint(path);
  // A training checkpoint loads here as weights only.
  const tensors = splitCheckpoint(all).model;
  const problems = stateDictProblems(session.program.params, tensors);
  if (problems.length) throw mismatchError(path, problems);
  requireFinite(path, tensors);
  for (const p of session.program.params) session.setParam(p.key, tensors[p.key].data);
  return { metadata, notes };
}
