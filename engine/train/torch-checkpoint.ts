/**
 * PyTorch's usual resumable checkpoint (AGREED FILE LAYOUT 2), the dict train.py scripts torch.save:
 *
 *   {"model_state_dict": OrderedDict(<key> -> tensor, _metadata={"netloom": {...}}),
 *    "optimizer_state_dict": torch.optim's state_dict() (torch-optimizer-state.ts),
 *    "scheduler_state_dict": lr_scheduler's state_dict() (torch-scheduler-state.ts; with a scheduler only),
 *    "epoch": whole epochs completed, "batch": batches done in the current one, "step": optimizer steps,
 *    "netloom": {<str>: <str>} Netloom's metadata (absent from a file train.py wrote)}
 *
 * Building it from a run (the model_state_dict is io/torch-state.ts's torchStateDict), and reading where such a file stood, in Netloom's metadata terms
 * (netloom.epoch/batch/step/phase), so that the rest of the resume path treats a .pt like a
 * safetensors training checkpoint.
 */
import { NetloomError } from '../errors.js';
import { isPyDict, isPyTensor, pyDict, type PyDict, type PyValue } from '../io/pyvalue.js';

/** The checkpoint dict of a run at `position` (batch: batches done in the current epoch). */
export function checkpointDict(o: {
  model: PyDict; optimizer: PyDict; scheduler?: PyDict; position: { epoch: number; batch: number }; steps: number; metadata: Record<string, string>;
}): PyDict {
  const entries: [string, PyValue][] = [['model_state_dict', o.model], ['optimizer_state_dict', o.optimizer]];
  if (o.scheduler) entries.push(['scheduler_state_dict', o.scheduler]);
  entries.push(['epoch', BigInt(o.position.epoch)], ['batch', BigInt(o.position.batch)], ['step', BigInt(o.steps)], ['netloom', pyDict(Object.entries(o.metadata))]);
  return pyDict(entries);
}

const bad = (source: string, message: string) =>
  new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, 'Resume from a checkpoint saved by Netloom or by the exported train.py, or load the weights only.');

/** A whole number from a Python int (or an integral float, which hand-written scripts produce). */
function wholeNumber(source: string, d: PyDict, k: string): number | undefined {
  const v = d.entries.get(k);
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : isPyTensor(v) && v.data.length === 1 ? v.data[0] : NaN;
  if (!(Number.isSafeInteger(n) && n >= 0)) throw bad(source, `"${k}" must be a whole number from 0, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'bigint' || typeof v === 'number' ? String(v) : 'an object'}`);
  return n;
}

/** The per-parameter step torch's Adam/AdamW/RMSprop/Adagrad keep (state[0].step), if any. */
function optimizerStep(sd: PyValue | undefined): number | undefined {
  if (!isPyDict(sd)) return undefined;
  const state = sd.entries.get('state');
  const first = isPyDict(state) ? state.entries.get(0n) : undefined;
  const step = isPyDict(first) ? first.entries.get('step') : undefined;
  const n = isPyTensor(step) ? step.data[0] : typeof step === 'bigint' ? Number(step) : typeof step === 'number' ? step : undefined;
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The metadata a checkpoint dict carries, as Netloom's string fields: its "netloom" entry (a dict of
 * strings; anything else there is refused), and for a resumable dict without one (train.py's) the
 * position derived from "epoch", "batch" and "step" (else the optimizer's per-parameter step). A
 * file with the optimizer state but no "epoch" cannot say where it stood and gets no position: it
 * then loads as weights only. The fields are checked afterwards with every other netloom.* field.
 */
export function checkpointMetadata(source: string, dict: PyDict): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const own = dict.entries.get('netloom');
  if (own !== undefined) {
    if (!isPyDict(own)) throw bad(source, '"netloom" must be a dict of strings');
    for (const [k, v] of own.entries) {
      if (typeof k !== 'string' || typeof v !== 'string') throw bad(source, `"netloom" must be a dict of strings; ${JSON.stringify(String(k).slice(0, 40))} is not a string entry`);
      out[k] = v;
    }
  }
  // Netloom's own position (checked with the other fields) is never replaced by one derived here
  if (!dict.entries.has('optimizer_state_dict') || 'netloom.step' in out || 'netloom.epoch' in out) return out;
  const epoch = wholeNumber(source, dict, 'epoch');
  if (epoch === undefined) return out;
  const batch = wholeNumber(source, dict, 'batch') ?? 0;
  const step = wholeNumber(source, dict, 'step') ?? optimizerStep(dict.entries.get('optimizer_state_dict'));
  out['netloom.epoch'] = String(epoch);
  out['netloom.batch'] = String(batch);
  out['netloom.phase'] = 'train';
  // without one (SGD keeps no step), the run derives it from the position: epoch x batches per epoch + batch
  if (step !== undefined) out['netloom.step'] = String(step);
  return out;
}
