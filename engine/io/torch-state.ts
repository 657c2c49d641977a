/**
 * What a torch.save file's value means to Netloom, following the agreed layouts (issue 12):
 *
 * 1. a plain state dict: an (Ordered)Dict "<node>.<param>" -> tensor, Netloom's string metadata in
 *    the OrderedDict's `_metadata["netloom"]` (where torch's state_dict() keeps module versions);
 * 2. a checkpoint dict: {"model_state_dict" | "state_dict" | "model": <state dict>, "optimizer_state_dict",
 *    "epoch", ..., "netloom": {str: str}}, handed on whole (`checkpoint`) for train/checkpoints.ts.
 *
 * Anything else is refused saying what the file holds and what Netloom looks for.
 */
import { NetloomError } from '../errors.js';
import { describePickled } from './pickle-read.js';
import { isPyDict, isPyTensor, pyDict, type PyDict, type PyTensor, type PyValue } from './pyvalue.js';
import type { TensorF32 } from './safetensors.js';

export interface TorchStateDict {
  /** key -> tensor (float tensors as F32, integer and bool tensors as I64); a null-prototype object */
  tensors: Record<string, TensorF32>;
  /** Netloom's metadata (a null-prototype object); empty for a file PyTorch wrote */
  metadata: Record<string, string>;
  /** the whole dict when the file held a checkpoint dict (optimizer_state_dict, epoch, ...) */
  checkpoint?: PyDict;
}

/** The keys of a checkpoint dict that hold its model's state dict, in the order they are looked for. */
export const STATE_DICT_KEYS = ['model_state_dict', 'state_dict', 'model'] as const;
const METADATA_KEY = 'netloom';
const INTEGER_DTYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);
const SAVE_HINT = 'Save the weights with torch.save(model.state_dict(), path), or a checkpoint dict with the state dict under "model_state_dict".';

function keyList(d: PyDict, max = 8): string {
  const keys = [...d.entries.keys()].map(String);
  return keys.length > max ? `${keys.slice(0, max).join(', ')}, ... (${keys.length} keys)` : keys.join(', ');
}

/** A dict that holds tensors: a state dict (its other entries are refused when it is read). */
const holdsTensors = (d: PyDict) => [...d.entries.values()].some(isPyTensor);

/** Netloom's metadata strings from a {str: str} dict; anything else there is refused by key. */
function readMetadata(v: PyValue | undefined, where: string, source: string, into: Record<string, string>): void {
  if (v === undefined) return;
  if (!isPyDict(v)) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${where} is ${describePickled(v)}, not a dict of strings`, SAVE_HINT);
  for (const [k, s] of v.entries) {
    if (typeof k !== 'string' || typeof s !== 'string') throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${where} holds ${describePickled(k)} -> ${describePickled(s)}; Netloom's metadata is strings`, SAVE_HINT);
    into[k] = s;
  }
}

function toTensorF32(t: PyTensor): TensorF32 {
  // the dtype said outright, as the safetensors reader says it
  return { shape: [...t.shape], data: t.data, dtype: INTEGER_DTYPES.has(t.dtype) ? 'I64' : 'F32' };
}

function readTensors(sd: PyDict, where: string, source: string): Record<string, TensorF32> {
  const tensors: Record<string, TensorF32> = Object.create(null) as Record<string, TensorF32>;
  for (const [k, v] of sd.entries) {
    if (typeof k !== 'string') throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${where} has the key ${k}, a number; state dict keys are names`, SAVE_HINT);
    if (!isPyTensor(v))
      throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${where} entry "${k}" is ${describePickled(v)}, not a tensor (Netloom reads tensors only, so modules with extra state such as "_extra_state" are not read)`, SAVE_HINT);
    tensors[k] = toTensorF32(v);
  }
  return tensors;
}

/** The state dict, metadata and checkpoint dict a torch.save file's value holds (see the header). */
export function stateDictFromTorch(root: PyValue, source: string): TorchStateDict {
  if (!isPyDict(root)) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: the file holds ${describePickled(root)}, not a state dict`, SAVE_HINT);
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const modelKey = STATE_DICT_KEYS.find((k) => isPyDict(root.entries.get(k)));
  if (modelKey !== undefined && !holdsTensors(root)) {
    const sd = root.entries.get(modelKey) as PyDict;
    const tensors = readTensors(sd, `"${modelKey}"`, source);
    readMetadata(metaOf(sd), `"${modelKey}"._metadata["netloom"]`, source, metadata);
    readMetadata(root.entries.get(METADATA_KEY), `the "${METADATA_KEY}" entry`, source, metadata);
    return { tensors, metadata, checkpoint: root };
  }
  if (holdsTensors(root)) {
    const tensors = readTensors(root, 'the state dict', source);
    readMetadata(metaOf(root), 'the state dict\'s _metadata["netloom"]', source, metadata);
    return { tensors, metadata };
  }
  if (root.entries.size === 0) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: the file holds an empty dict, no weights`, SAVE_HINT);
  throw new NetloomError('NL_BAD_CHECKPOINT',
    `${source}: the file holds a dict with keys ${keyList(root)}; none is a state dict (Netloom looks for ${STATE_DICT_KEYS.join(', ').replace(/, (?=[^,]*$)/, ' or ')})`, SAVE_HINT);
}

/**
 * `_metadata["netloom"]` of a state dict, when `_metadata` is a dict (torch's own per-module entries
 * there, and any other `_metadata`, are ignored as the layout says).
 */
function metaOf(sd: PyDict): PyValue | undefined {
  const meta = sd.attributes?.get('_metadata');
  return isPyDict(meta) ? meta.entries.get(METADATA_KEY) : undefined;
}

/** Layout 1: the OrderedDict torch.save(model.state_dict()) writes, Netloom's metadata in `_metadata["netloom"]`. */
export function torchStateDict(tensors: Record<string, TensorF32>, metadata: Record<string, string>): PyDict {
  const sd = pyDict(Object.entries(tensors).map(([k, t]): [string, PyValue] => [k, {
    kind: 'tensor', dtype: t.dtype === 'I64' ? 'int64' : 'float32', shape: [...t.shape], data: t.data,
  }]), true);
  const netloom = pyDict(Object.entries(metadata).map(([k, v]): [string, PyValue] => [k, v]));
  sd.attributes = new Map([['_metadata', pyDict([[METADATA_KEY, netloom]], true)]]);
  return sd;
}
