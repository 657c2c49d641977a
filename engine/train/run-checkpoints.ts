/**
 * A run's part of a training checkpoint (train/checkpoints.ts has the format's rules): the optimizer
 * state tensors and where training stood, written beside the weights so that a run loaded with
 * resume continues exactly; and the checks that such a file fits the run that resumes it.
 */
import { NetloomError } from '../errors.js';
import type { CompiledProgram } from '../compile/ir.js';
import type { OptimizerDoc } from '../contract/optimizers.js';
import type { TensorF32 } from '../io/checkpoint.js';
import { native, type Session } from '../runtime/session.js';
import { OPTIMIZER_PREFIX, resumePosition, type LoadReport, type ResumePosition } from './checkpoints.js';
import type { Position } from './run-types.js';

/** The metadata fields a training checkpoint must hold to be resumed. */
const POSITION_FIELDS = ['netloom.step', 'netloom.epoch', 'netloom.batch', 'netloom.phase'];

/** The optimizer state tensors and the position metadata of a training checkpoint (saved with the last weights). */
export function trainingState(session: Session, o: { position: Position; schedulerStep: number; optimizer: OptimizerDoc }): { tensors: Record<string, TensorF32>; metadata: Record<string, string> } {
  const tensors: Record<string, TensorF32> = {};
  for (const s of session.program.states)
    tensors[`${OPTIMIZER_PREFIX}${s.param}.${s.key}`] = { shape: [...s.shape], data: Float32Array.from(native(() => session.native.getBuffer(s.buffer))) };
  const metadata = {
    'netloom.step': String(session.native.steps),
    'netloom.epoch': String(o.position.epoch),
    'netloom.batch': String(o.position.batch),
    'netloom.phase': o.position.phase,
    'netloom.scheduler_step': String(o.schedulerStep),
    'netloom.seed': String(session.native.seed),
    'netloom.optimizer': JSON.stringify(o.optimizer),
  };
  return { tensors, metadata };
}

/** The optimizer type a training checkpoint was saved with, for messages. */
function savedOptimizer(metadata: Record<string, string>): string {
  try {
    return (JSON.parse(metadata['netloom.optimizer'] ?? '{}') as { type?: string }).type ?? 'another optimizer';
  } catch {
    return 'another optimizer';
  }
}

/**
 * Checks that a training checkpoint (keys already matching: `report`) can resume this run: it holds the
 * position and the optimizer state of this run's optimizer, every tensor of the right size, and a
 * position within the run. Returns that position.
 */
export function checkResumable(
  path: string,
  file: { metadata: Record<string, string>; optimizer: Record<string, TensorF32>; report: LoadReport },
  run: { program: CompiledProgram; optimizer: OptimizerDoc; epochs: number; batchesPerEpoch: number },
): ResumePosition {
  const { metadata, optimizer } = file;
  if (POSITION_FIELDS.some((k) => !(k in metadata)) || (!file.report.hasOptimizerState && run.program.states.length))
    throw new NetloomError('NL_BAD_CHECKPOINT', `${path} holds weights only: it was saved without the optimizer state`, 'Load it as weights, or save a checkpoint with the optimizer state to resume from.');
  const want = new Map(run.program.states.map((s) => [`${s.param}.${s.key}`, s]));
  const missing = [...want.keys()].filter((k) => !(k in optimizer));
  const unexpected = Object.keys(optimizer).filter((k) => !want.has(k));
  const wrong = [...want].filter(([k, s]) => k in optimizer && optimizer[k].data.length !== s.shape.reduce((a, b) => a * b, 1)).map(([k]) => k);
  if (missing.length || unexpected.length || wrong.length)
    throw new NetloomError('NL_CHECKPOINT_MISMATCH',
      `the optimizer state in ${path} does not fit this run's ${run.optimizer.type}:` +
        (missing.length ? ` missing ${missing.join(', ')};` : '') + (unexpected.length ? ` unexpected ${unexpected.join(', ')};` : '') + (wrong.length ? ` wrong size ${wrong.join(', ')};` : ''),
      `It was saved with ${savedOptimizer(metadata)}: resume with the same optimizer, or load the weights only.`);
  return resumePosition(metadata, path, { epochs: run.epochs, batchesPerEpoch: run.batchesPerEpoch });
}

/** Puts a checked training checkpoint's optimizer state and step counter into the session. */
export function restoreOptimizerState(session: Session, optimizer: Record<string, TensorF32>, step: number): void {
  for (const s of session.program.states) native(() => session.native.setBuffer(s.buffer, optimizer[`${s.param}.${s.key}`].data));
  session.native.steps = step;
}
