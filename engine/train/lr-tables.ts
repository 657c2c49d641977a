/**
 * A learning-rate schedule as the native loop takes it: one table of per-batch learning rates (and
 * momenta, when the schedule cycles them) per epoch, computed before the epoch runs so that no
 * JavaScript runs per batch.
 */
import { NetloomError } from '../errors.js';
import { OPTIMIZERS, type OptimizerDoc } from '../contract/optimizers.js';
import type { LrSchedule } from './schedules.js';
import { LR_MAX } from '../contract/settings.js';

/** The momentum a scheduler may cycle: SGD/RMSprop momentum, Adam's beta1 (none for Adagrad). */
export function baseMomentum(opt: OptimizerDoc): number | undefined {
  const cycled = OPTIMIZERS[opt.type].cycledMomentum;
  if (cycled === 'momentum' && 'momentum' in opt) return opt.momentum;
  if (cycled === 'beta1' && 'betas' in opt) return opt.betas[0];
  return undefined;
}

/**
 * Per-batch learning rates (and momenta, when the schedule cycles them) for one epoch. A schedule
 * that drives the lr past LR_MAX (an ExponentialLR with gamma > 1, say) stops here, naming the
 * scheduler and the epoch: in float32 the table would soon hold infinity, which the native side
 * can only call "lr values must be finite".
 */
export function epochTables(schedule: LrSchedule, epoch: number, batches: number): { lr: Float32Array; momentum?: Float32Array } {
  const lr = new Float32Array(batches);
  const mom = new Float32Array(batches);
  let cycles = false;
  for (let b = 0; b < batches; b++) {
    const k = schedule.interval === 'epoch' ? epoch : epoch * batches + b;
    const v = schedule.lrAt(k);
    if (!(v >= 0 && v <= LR_MAX))
      throw new NetloomError('NL_INVALID_ARGUMENT',
        `${schedule.type} sets the learning rate to ${String(v).replace('e+', 'e')} in epoch ${epoch + 1}${schedule.interval === 'step' ? ` (batch ${b + 1})` : ''}, above the largest Netloom trains with (${LR_MAX})`,
        'Make the schedule end lower: a smaller gamma (below 1 lowers the lr), fewer epochs, or a smaller starting lr.');
    lr[b] = v;
    const m = schedule.momentumAt(k);
    if (m !== undefined) mom[b] = m;
    cycles ||= m !== undefined && m !== schedule.momentumAt(0);
  }
  return cycles ? { lr, momentum: mom } : { lr };
}

