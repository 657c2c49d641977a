/**
 * Editing a paused run's optimizer settings: the edit is checked against the optimizer's own
 * settings, then the program is recompiled with the new ones and everything that carries training
 * moves across to a new session: the weights, the optimizer state (by torch's state names,
 * program.states), the step counter and the RNG seed.
 */
import { nativeDeviceOptions } from '../runtime/devices.js';
import { NetloomError } from '../errors.js';
import { compileGraph } from '../compile/compile.js';
import { OptimizerSchema, hasOptimizerParam, type OptimizerDoc } from '../contract/optimizers.js';
import { Session, native } from '../runtime/session.js';
import type { Job } from './job.js';
import { datasetTargets, uploadDataset } from './job-dataset.js';
import type { HyperChange, HyperEdit } from './run-types.js';

/** The optimizer with `hyper` applied and what changed (from, to); null when nothing does. */
export function editedOptimizer(optimizer: OptimizerDoc, hyper: HyperEdit): { next: OptimizerDoc; changes: HyperChange['changes'] } | null {
  const current = optimizer as Record<string, unknown>;
  for (const k of Object.keys(hyper))
    if (!hasOptimizerParam(optimizer.type, k))
      throw new NetloomError('NL_INVALID_ARGUMENT', `${optimizer.type} has no setting "${k}"`,
        `Its settings: ${Object.keys(current).filter((x) => x !== 'type').join(', ')}.`);
  const parsed = OptimizerSchema.safeParse({ ...current, ...hyper });
  if (!parsed.success)
    throw new NetloomError('NL_INVALID_ARGUMENT', `invalid optimizer settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      'Learning rates and eps must be positive; momentum and weight decay non-negative; betas in [0, 1).');
  const next = parsed.data;
  const changes: HyperChange['changes'] = {};
  for (const k of Object.keys(hyper)) {
    const from = current[k];
    const to = (next as Record<string, unknown>)[k];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[k] = { from: from ?? null, to };
  }
  return Object.keys(changes).length ? { next, changes } : null;
}

/** Recompiles the job's program for `next` and moves the training state to a new session (job.session, job.optimizer). */
export function switchOptimizer(job: Job, next: OptimizerDoc): void {
  const old = job.session;
  const program = compileGraph(job.analysis, { batchSize: job.loader.batchSize, optimizer: next, clipGradNorm: job.clipGradNorm, targets: datasetTargets(job.dataset) });
  const fresh = new Session(program, job.threads, { device: nativeDeviceOptions(job.device) });   // on the run's device
  fresh.native.seed = old.native.seed;
  fresh.native.steps = old.native.steps;
  const values = old.getParams();
  for (const p of program.params) fresh.setParam(p.key, values.get(p.key)!);
  const oldStates = new Map(old.program.states.map((s) => [`${s.param}\u0000${s.key}`, s.buffer]));
  for (const s of program.states) {
    const from = oldStates.get(`${s.param}\u0000${s.key}`);
    if (from !== undefined) native(() => fresh.native.setBuffer(s.buffer, old.native.getBuffer(from)));
  }
  uploadDataset(fresh, job.dataset, job.trainCount, job.testCount);
  job.session = fresh;
  old.close(); // its memory and threads now, not whenever the garbage collector gets to them
  job.optimizer = next;
}
