import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { compileGraph } from '../../engine/compile/compile.js';
import type { CompiledProgram } from '../../engine/compile/ir.js';
import { encodeProgram, PROGRAM_MAGIC } from '../../engine/compile/program.js';
import { Session } from '../../engine/runtime/session.js';

const project = parseProjectText(readFileSync('assets/templates/quickstart.json', 'utf8'), 'quickstart');
const compile = (opts: Partial<Parameters<typeof compileGraph>[1]> = {}) =>
  compileGraph(analyzeForTraining(project.graph, 'q'), { batchSize: 64, optimizer: project.training.optimizer, ...opts });

/** Live range [first use, last use] of each buffer over forward, backward, step. */
function liveRanges(p: CompiledProgram) {
  const r = new Map<number, [number, number]>();
  [...p.forward, ...p.backward, ...p.step].forEach((ins, t) =>
    ins.bufs.filter((b) => b >= 0).forEach((b) => r.set(b, [r.get(b)?.[0] ?? t, t])),
  );
  return r;
}

describe('compile', () => {
  it('lowers the quickstart to the expected instruction streams', () => {
    const p = compile();
    expect(p.forward.map((i) => i.op)).toEqual(['linear_forward', 'relu_forward', 'linear_forward', 'relu_forward', 'linear_forward', 'softmax_cross_entropy_forward']);
    expect(p.backward.map((i) => i.op)).toEqual(['softmax_cross_entropy_backward', 'linear_backward', 'relu_backward', 'linear_backward', 'relu_backward', 'linear_backward']);
    expect(p.backward.at(-1)!.bufs[3]).toBe(-1); // no gradient for the input batch
    expect(p.step.map((i) => i.op)).toEqual(Array(6).fill('sgd_step'));
    expect(p.params.map((q) => `${q.key}:${q.shape.join('x')}`)).toEqual([
      'linear_relu_stack.0.weight:512x784', 'linear_relu_stack.0.bias:512',
      'linear_relu_stack.2.weight:512x512', 'linear_relu_stack.2.bias:512',
      'linear_relu_stack.4.weight:10x512', 'linear_relu_stack.4.bias:10',
    ]);
    expect(p.params.reduce((n, q) => n + q.shape.reduce((a, b) => a * b, 1), 0)).toBe(669_706);
  });

  it('Adam keeps exp_avg and exp_avg_sq per parameter, as torch names them', () => {
    const p = compile({ optimizer: { type: 'Adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: true, maximize: false } });
    expect(p.states.filter((s) => s.param === 'linear_relu_stack.0.weight').map((s) => s.key)).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
  });

  it('the memory plan never lets two buffers that are live at once share memory', () => {
    const p = compile();
    const live = liveRanges(p);
    const words = (id: number) => (p.buffers[id].batched ? p.buffers[id].elems * p.maxBatch : p.buffers[id].elems);
    let shared = 0;
    for (const a of p.buffers)
      for (const b of p.buffers) {
        if (a.id >= b.id) continue;
        const [a0, a1] = [a.offset16 * 16, a.offset16 * 16 + words(a.id)];
        const [b0, b1] = [b.offset16 * 16, b.offset16 * 16 + words(b.id)];
        if (a0 >= b1 || b0 >= a1) continue;
        shared++;
        const [s0, e0] = live.get(a.id) ?? [-1, -1];
        const [s1, e1] = live.get(b.id) ?? [-1, -1];
        expect(s0 > e1 || s1 > e0, `${a.name} and ${b.name} overlap in memory while both live`).toBe(true);
      }
    expect(shared).toBeGreaterThan(0); // the planner does reuse memory
    const unplanned = compile({ planMemory: false });
    expect(p.arena16).toBeLessThan(unplanned.arena16);
  });

  it('planned and unplanned programs compute the same loss and gradients', () => {
    const run = (plan: boolean) => {
      const s = new Session(compile({ planMemory: plan, batchSize: 8 }), 1);
      for (const q of s.program.params) s.setParam(q.key, Float32Array.from({ length: q.shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) * 0.05));
      s.native.setBuffer(s.program.io.input, Float32Array.from({ length: 8 * 784 }, (_, i) => (i % 17) / 17));
      s.native.setBuffer(s.program.io.labels, Int32Array.from({ length: 8 }, (_, i) => i % 10));
      s.native.runStep(8, true, false);
      return [s.native.getBuffer(s.program.io.loss)[0], ...s.program.params.map((q) => s.native.getBuffer(q.grad)[3])];
    };
    expect(run(true)).toEqual(run(false));
  });

  it('encodes a header the native decoder accepts, and the native side rejects a corrupted one', () => {
    const p = compile();
    const words = encodeProgram(p);
    expect(words[0]).toBe(PROGRAM_MAGIC);
    expect(() => new Session(p, 1)).not.toThrow();
    const bad = { ...p, forward: [{ ...p.forward[0], ints: [700, 512] }, ...p.forward.slice(1)] };
    expect(() => new Session(bad, 1)).toThrow(/instruction 0 \(forward #0, linear_forward\): operand 'x' \(buffer 0\) holds 784 values per sample, expected 700/);
  });
});
