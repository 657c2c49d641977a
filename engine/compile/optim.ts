/**
 * Optimizer step instructions with torch.optim's semantics and hyper-parameter names, one fused
 * instruction per parameter, and the state buffers torch keeps (momentum_buffer, exp_avg, ...).
 */
import type { OptimizerDoc } from '../graph/document.js';
import { ProgramBuilder } from './builder.js';
import type { Instr, ParamBinding, StateBinding } from './ir.js';

export function buildOptimizer(opt: OptimizerDoc, params: ParamBinding[], b: ProgramBuilder): { step: Instr[]; states: StateBinding[] } {
  const step: Instr[] = [];
  const states: StateBinding[] = [];
  const state = (p: ParamBinding, key: string) => {
    const elems = b.buffers[p.buffer].elems;
    const buffer = b.buffer(`${key}(${p.key})`, 'optim-state', elems, false);
    states.push({ param: p.key, key, buffer, shape: p.shape });
    return buffer;
  };
  for (const p of params) {
    if (opt.type === 'SGD') {
      const buf = opt.momentum !== 0 ? state(p, 'momentum_buffer') : -1;
      step.push(ProgramBuilder.instr('sgd_step', [p.buffer, p.grad, buf], [opt.nesterov ? 1 : 0, opt.maximize ? 1 : 0], [opt.lr, opt.momentum, opt.dampening, opt.weight_decay]));
    } else {
      const decoupled = opt.type === 'AdamW';
      // torch defaults: Adam weight_decay=0, AdamW weight_decay=0.01
      const wd = opt.weight_decay ?? (decoupled ? 0.01 : 0);
      const m = state(p, 'exp_avg');
      const v = state(p, 'exp_avg_sq');
      const vmax = opt.amsgrad ? state(p, 'max_exp_avg_sq') : -1;
      step.push(ProgramBuilder.instr('adam_step', [p.buffer, p.grad, m, v, vmax], [opt.amsgrad ? 1 : 0, opt.maximize ? 1 : 0, decoupled ? 1 : 0], [opt.lr, opt.betas[0], opt.betas[1], opt.eps, wd]));
    }
  }
  return { step, states };
}
