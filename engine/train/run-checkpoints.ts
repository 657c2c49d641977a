/**
 * A run's part of a training checkpoint (train/checkpoints.ts has the format's rules): the optimizer
 * state tensors and where training stood, written beside the weights so that a run loaded with
 * resume continues exactly; and the checks that such a file fits the run that resumes it. In a .pt
 * the same state is PyTorch's checkpoint dict (torch-checkpoint.ts): torchTrainingCheckpoint builds
 * it, torchResumeState reads one (Netloom's or train.py's) back into the same terms.
 */
import { NetloomError } from '../errors.js';
import type { CompiledProgram } from '../compile/ir.js';
import type { OptimizerDoc } from '../contract/optimizers.js';
import type { SchedulerDoc } from '../contract/schedulers.js';
import type { TensorF32 } from '../io/checkpoint.js';
import type { PyDict } from '../io/pyvalue.js';
import { torchStateDict } from '../io/torch-state.js';
import { native, type Session } from '../runtime/session.js';
import { OPTIMIZER_PREFIX, paramTensors, resumePosition, type LoadReport, type ResumePosition } from './checkpoints.js';
import type { Position } from './run-types.js';
import type { LrSchedule } from './schedules.js';
import { checkpointDict } from './torch-checkpoint.js';
import { optimizerStateDict, readOptimizerStateDict } from './torch-optimizer-state.js';
import { schedulerGroup, schedulerStateDict } from './torch-scheduler-state.js';

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

/** The run's scheduler, when it has one: its document, its lr replay and how many times it has stepped. */
export interface RunScheduler {
  doc: SchedulerDoc;
  schedule: LrSchedule;
  steps: number;
}

/** The learnable parameters in state-dict order: index i of torch.optim's state_dict(). */
const learnable = (program: CompiledProgram) => program.params.filter((p) => p.learnable);

/**
 * A training checkpoint as PyTorch's checkpoint dict: the state dict `values` in the program's order
 * (with `metadata` in its _metadata), the optimizer state of trainingState() in torch.optim's layout,
 * the scheduler's state_dict(), the position, and every metadata field under "netloom".
 */
export function torchTrainingCheckpoint(session: Session, o: {
  values: Map<string, Float32Array>; metadata: Record<string, string>; training: ReturnType<typeof trainingState>; position: Position;
  optimizer: OptimizerDoc; scheduler?: RunScheduler;
}): PyDict {
  const program = session.program;
  const model = torchStateDict(paramTensors(program, o.values), o.metadata);
  const state: Record<string, TensorF32> = {};
  for (const [k, t] of Object.entries(o.training.tensors)) state[k.slice(OPTIMIZER_PREFIX.length)] = t;
  const steps = session.native.steps;
  const s = o.scheduler;
  const group = s ? schedulerGroup(s.doc, s.schedule, s.steps, o.optimizer).write : undefined;
  return checkpointDict({
    model,
    optimizer: optimizerStateDict({ optimizer: o.optimizer, params: learnable(program), state, steps, group }),
    scheduler: s ? schedulerStateDict(s.doc, s.schedule, s.steps, o.optimizer) : undefined,
    position: o.position,
    steps,
    metadata: { ...o.metadata, ...o.training.metadata },
  });
}

/**
 * A checkpoint dict's optimizer state in Netloom's terms (what splitCheckpoint gives for a safetensors
 * training checkpoint), its hyperparameters checked against the run's, and the metadata completed:
 * a file that does not count steps (train.py with SGD) is at epoch x batches per epoch + batch; one
 * whose optimizer counts them must agree with its "step".
 */
export function torchResumeState(path: string, checkpoint: PyDict, metadata: Record<string, string>, run: {
  program: CompiledProgram; optimizer: OptimizerDoc; scheduler?: Omit<RunScheduler, 'steps'>; batchesPerEpoch: number;
}): { optimizer: Record<string, TensorF32>; metadata: Record<string, string> } {
  // param_groups cannot tell Adam from AdamW (the same keys): a file that names its optimizer can
  const saved = metadata['netloom.optimizer'] === undefined ? undefined : savedOptimizer(metadata);
  if (saved !== undefined && saved !== run.optimizer.type)
    throw new NetloomError('NL_CHECKPOINT_MISMATCH', `${path} was saved by a run training with ${saved}, but this project trains with ${run.optimizer.type}`,
      `Resume with the optimizer it was saved with (training.optimizer.type "${saved}"), or load the weights only.`);
  const group = run.scheduler ? schedulerGroup(run.scheduler.doc, run.scheduler.schedule, 0, run.optimizer) : undefined;
  const { state, step } = readOptimizerStateDict(path, checkpoint.entries.get('optimizer_state_dict'), {
    optimizer: run.optimizer, params: learnable(run.program), stateNames: run.program.states, expectedGroup: group?.expected, driven: group?.driven,
  });
  const out = { ...metadata };
  if (!('netloom.step' in out) && 'netloom.epoch' in out)
    out['netloom.step'] = String(step ?? Number(out['netloom.epoch']) * run.batchesPerEpoch + Number(out['netloom.batch'] ?? 0));
  if (step !== undefined && 'netloom.step' in out && Number(out['netloom.step']) !== step)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${path}: "step" is ${out['netloom.step']}, but the optimizer's state is at step ${step}`,
      'The file was edited or written by a script that counts steps differently: save it again, or load the weights only.');
  return { optimizer: state, metadata: out };
}
