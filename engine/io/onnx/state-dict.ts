/**
 * An ONNX model read as a checkpoint (checkpoint.ts's READERS row 'onnx'): its initialisers as a state
 * dict keyed by their names, so a model Netloom exported to ONNX loads back as weights (Import Weights,
 * --weights), and its metadata_props as the checkpoint's metadata. Only initialisers named like a
 * state-dict key (`fc1.weight`, a module path then a parameter) are kept: exporters name their own
 * constants otherwise (Netloom `fc1/scale`, torch `onnx::Conv_123`). Netloom's export keeps BatchNorm's
 * num_batches_tracked in its metadata (no ONNX operator uses it): it comes back as an int64 tensor.
 */
import { NODE_NAME_RE } from '../../graph/document.js';
import { readNamedFile } from '../read-file.js';
import { MAX_CHECKPOINT_BYTES, type DecodedSafetensors, type TensorF32 } from '../safetensors.js';
import { decodeModel } from './codec.js';
import { NUM_BATCHES_KEY } from './conventions.js';
import { decodeTensor } from './tensors.js';

/** num_batches_tracked counts from the metadata, as int64 scalars; a malformed entry is ignored (it only describes). */
function counters(json: string | undefined): Record<string, TensorF32> {
  const out: Record<string, TensorF32> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json ?? '{}');
  } catch {
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return out;
  for (const [k, v] of Object.entries(parsed))
    if (NODE_NAME_RE.test(k) && typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) out[k] = { shape: [], data: Float32Array.of(v), dtype: 'I64' };
  return out;
}

/** An ONNX model's bytes as a state dict and metadata; `source` names it in messages. */
export function onnxStateDict(bytes: Uint8Array, source: string): DecodedSafetensors {
  const model = decodeModel(bytes, source);
  const tensors = Object.create(null) as Record<string, TensorF32>;
  const metadata = Object.create(null) as Record<string, string>;
  for (const e of model.metadata_props ?? []) if (e.key) metadata[e.key] = e.value ?? '';
  for (const t of model.graph?.initializer ?? []) {
    if (!t.name || !NODE_NAME_RE.test(t.name) || !t.name.includes('.')) continue;
    const d = decodeTensor(t, `the initialiser ${t.name}`, source);
    tensors[t.name] = { shape: d.dims, data: Float32Array.from(d.data), ...(d.integer ? { dtype: 'I64' as const } : {}) };
  }
  for (const [k, t] of Object.entries(counters(metadata[NUM_BATCHES_KEY]))) if (!(k in tensors)) tensors[k] = t;
  delete metadata[NUM_BATCHES_KEY];
  return { tensors, metadata };
}

/** Reads an ONNX model file as a checkpoint (at most MAX_CHECKPOINT_BYTES). */
export async function loadOnnxStateDict(path: string): Promise<DecodedSafetensors> {
  const bytes = await readNamedFile(path, { maxBytes: MAX_CHECKPOINT_BYTES, what: 'checkpoint', tooLarge: 'NL_BAD_CHECKPOINT', notFound: 'checkpoint file not found', ioHint: 'Check the path: a checkpoint is in the file it was saved to.' });
  return onnxStateDict(bytes, path);
}
