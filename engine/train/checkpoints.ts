/**
 * Checkpoints: the model's state dict as safetensors, keys `<node name>.<param>` exactly as
 * PyTorch's model.state_dict() names them, loaded with load_state_dict's strict semantics:
 * missing, unexpected and mis-shaped keys are all reported in one error, and nothing is loaded
 * unless everything matches.
 */
import { NetloomError } from '../errors.js';
import { loadSafetensors, saveSafetensors, type TensorF32 } from '../io/safetensors.js';
import type { Session } from '../runtime/session.js';

export async function saveCheckpoint(path: string, session: Session, metadata: Record<string, string> = {}): Promise<void> {
  const values = session.getParams();
  const tensors: Record<string, TensorF32> = {};
  for (const p of session.program.params) tensors[p.key] = { shape: [...p.shape], data: values.get(p.key)!, dtype: p.dtype === 'i64' ? 'I64' : 'F32' };
  await saveSafetensors(path, tensors, { format: 'pt', producer: 'netloom', ...metadata });
}

const shapeText = (s: readonly number[]) => `torch.Size([${s.join(', ')}])`;

/** Compares a state dict against the model; returns PyTorch-style problem lines (empty = match). */
export function stateDictProblems(model: { key: string; shape: readonly number[] }[], file: Record<string, TensorF32>): string[] {
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

export async function loadCheckpoint(path: string, session: Session): Promise<Record<string, string>> {
  const { tensors, metadata } = await loadSafetensors(path);
  const problems = stateDictProblems(session.program.params, tensors);
  if (problems.length)
    throw new NetloomError('NL_CHECKPOINT_MISMATCH', `Error(s) in loading state_dict from ${path}:\n  ${problems.join('\n  ')}`,
      'The checkpoint was saved from a different network: load it onto the graph it came from, or rename nodes so their names match the keys.');
  for (const p of session.program.params) session.setParam(p.key, tensors[p.key].data);
  return metadata;
}
