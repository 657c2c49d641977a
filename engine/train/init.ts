/**
 * Parameter initialisation with PyTorch's rules (reset_parameters()): Linear/Conv weights
 * kaiming_uniform_(a=√5), i.e. U(±gain·√(3/fan_in)) with gain = √(2/(1+a²)) = U(±1/√fan_in);
 * their biases U(±1/√fan_in); norm weights 1 and biases 0; running_var 1, running_mean 0.
 * Drawn from our seeded Rng, one independent stream per tensor (keyed by its state-dict name),
 * so adding a layer does not change the others' values.
 */
import type { InitSpec } from '../graph/catalog.js';
import { Rng } from '../rng.js';

export function initBound(init: InitSpec): number {
  switch (init.kind) {
    case 'uniform':
      return init.bound;
    case 'kaiming_uniform': {
      const gain = Math.sqrt(2 / (1 + init.a * init.a));
      return init.fanIn > 0 ? gain * Math.sqrt(3 / init.fanIn) : 0;
    }
    default:
      return 0;
  }
}

export function initTensor(key: string, elems: number, init: InitSpec, seed: number): Float32Array {
  const out = new Float32Array(elems);
  if (init.kind === 'ones') return out.fill(1);
  if (init.kind === 'zeros') return out;
  const rng = new Rng(seed).fork(`init:${key}`);
  const bound = initBound(init);
  for (let i = 0; i < elems; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}
