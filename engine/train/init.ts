/**
 * Parameter initialisation with PyTorch's rules (nn.Linear.reset_parameters): weights
 * kaiming_uniform_(a=√5), i.e. U(±gain·√(3/fan_in)) with gain = √(2/(1+a²)), which is
 * U(±1/√fan_in); biases U(±1/√fan_in). Drawn from our seeded Rng, one independent stream per
 * tensor (keyed by its state-dict name), so adding a layer does not change the others' values.
 */
import type { InitSpec } from '../graph/catalog.js';
import { Rng } from '../rng.js';

export function initBound(init: InitSpec): number {
  if (init.kind === 'uniform') return init.bound;
  const gain = Math.sqrt(2 / (1 + init.a * init.a));
  return init.fanIn > 0 ? gain * Math.sqrt(3 / init.fanIn) : 0;
}

export function initTensor(key: string, elems: number, init: InitSpec, seed: number): Float32Array {
  const rng = new Rng(seed).fork(`init:${key}`);
  const bound = initBound(init);
  const out = new Float32Array(elems);
  for (let i = 0; i < elems; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}
