/**
 * Optimizer step instructions with torch.optim's semantics and hyper-parameter names, one fused
 * instruction per learnable parameter, and the state buffers torch keeps (momentum_buffer,
 * exp_avg, square_avg, sum, ...). With clip_grad_norm, the gradients are first measured
 * (grad_norm_sq into one scalar) and scaled (clip_grad), as torch.nn.utils.clip_grad_norm_.
 */
import { optimizerDefaults, type OptimizerDoc } from '../contract/optimizers.js';
import { ProgramBuilder } from './builder.js';
import type { ConstBinding, Instr, ParamBinding, StateBinding } from './ir.js';

export function buildOptimizer(
  opt: OptimizerDoc,
  allParams: ParamBinding[],
  b: ProgramBuilder,
  clipGradNorm: number | null = null,
): { step: Instr[]; states: StateBinding[]; constants: ConstBinding[] } {
  const params = allParams.filter((p) => p.learnable);
  const step: Instr[] = [];
  const states: StateBinding[] = [];
  const constants: ConstBinding[] = [];
  const state = (p: ParamBinding, key: string, initial = 0) => {
    const elems = b.buffers[p.buffer].elems;
    const buffer = b.buffer(`${key}(${p.key})`, 'optim-state', elems, false);
    states.push({ param: p.key, key, buffer, shape: p.shape });
    if (initial !== 0) constants.push({ buffer, data: new Float32Array(elems).fill(initial) });
    return buffer;
  };
  const I = ProgramBuilder.instr;
  const flag = (v: boolean) => (v ? 1 : 0);

  if (clipGradNorm !== null && params.length) {
    const norm = b.buffer('grad_norm_sq', 'scalar', 1, false);
    params.forEach((p, k) => step.push(I('grad_norm_sq', [p.grad, norm], [flag(k === 0)])));
    for (const p of params) step.push(I('clip_grad', [p.grad, norm], [], [clipGradNorm]));
  }

  for (const p of params) {
    switch (opt.type) {
      case 'SGD': {
        const buf = opt.momentum !== 0 ? state(p, 'momentum_buffer') : -1;
        step.push(I('sgd_step', [p.buffer, p.grad, buf], [flag(opt.nesterov), flag(opt.maximize)], [opt.lr, opt.momentum, opt.dampening, opt.weight_decay]));
        break;
      }
      case 'Adam':
      case 'AdamW': {
        const decoupled = opt.type === 'AdamW';
        const wd = opt.weight_decay ?? (optimizerDefaults(opt.type).weight_decay as number); // torch's: Adam 0, AdamW 0.01
        const m = state(p, 'exp_avg');
        const v = state(p, 'exp_avg_sq');
        const vmax = opt.amsgrad ? state(p, 'max_exp_avg_sq') : -1;
        step.push(I('adam_step', [p.buffer, p.grad, m, v, vmax], [flag(opt.amsgrad), flag(opt.maximize), flag(decoupled)], [opt.lr, opt.betas[0], opt.betas[1], opt.eps, wd]));
        break;
      }
      case 'RMSprop': {
        const sq = state(p, 'square_avg');
        const mom = opt.momentum > 0 ? state(p, 'momentum_buffer') : -1;
        const avg = opt.centered ? state(p, 'grad_avg') : -1;
        step.push(I('rmsprop_step', [p.buffer, p.grad, sq, mom, avg], [flag(opt.centered), flag(opt.maximize)], [opt.lr, opt.alpha, opt.eps, opt.weight_decay, opt.momentum]));
        break;
      }
      case 'Adagrad': {
        const sum = state(p, 'sum', opt.initial_accumulator_value);
        step.push(I('adagrad_step', [p.buffer, p.grad, sum], [flag(opt.maximize)], [opt.lr, opt.lr_decay, opt.weight_decay, opt.eps]));
        break;
      }
    }
  }
  return { step, states, constants };
}
