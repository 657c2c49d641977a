/**
 * The op table across languages, checked from the source text (no native build needed):
 * native/core/ops.def against engine/compile/ops.ts (names, order, operand and attribute names and
 * counts), and activation.def / reduction.def / point-loss.def against engine/compile/kernel-codes.ts.
 * test/addon/ops.test.ts checks the built addon's op names as well.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTIVATION, POINT_LOSS, REDUCTION } from '../../engine/compile/kernel-codes.js';
import { floatAttrs, intAttrs, OPS, operands, operandsOf } from '../../engine/compile/ops.js';

const CORE = join(dirname(fileURLToPath(import.meta.url)), '../../native/core');
const source = (file: string) => readFileSync(join(CORE, file), 'utf8').replace(/\/\/[^\n]*/g, '');

/** The argument lists of every `macro(...)` call in `text`, split at top-level commas. */
function macroCalls(text: string, macro: string): string[][] {
  const calls: string[][] = [];
  for (let at = text.indexOf(`${macro}(`); at >= 0; at = text.indexOf(`${macro}(`, at + 1)) {
    let depth = 0;
    let arg = '';
    const args: string[] = [];
    for (let k = at + macro.length; k < text.length; k++) {
      const ch = text[k];
      if (ch === '(' && depth++ === 0) continue;
      if (ch === ')' && --depth === 0) {
        args.push(arg.trim());
        break;
      }
      if (ch === ',' && depth === 1) {
        args.push(arg.trim());
        arg = '';
      } else arg += ch;
    }
    calls.push(args);
  }
  return calls;
}

/** "(x, weight, bias)" -> ['x', 'weight', 'bias']; "()" -> [] */
const names = (list: string) => {
  expect(list.startsWith('(') && list.endsWith(')'), `a name list in parentheses, got ${list}`).toBe(true);
  return list.slice(1, -1).split(',').map((s) => s.trim()).filter((s) => s !== '');
};

const DEF_OPS = macroCalls(source('ops.def'), 'NL_OP').map(([, name, ops, ints, floats]) => ({
  name: JSON.parse(name) as string,
  operands: names(ops),
  intAttrs: names(ints),
  floatAttrs: names(floats),
}));

describe('op table: engine/compile/ops.ts against native/core/ops.def', () => {
  it('has the same ops in the same order (the opcode is the position)', () => {
    expect(DEF_OPS.length).toBeGreaterThan(40);
    expect(OPS.map((o) => o.name)).toEqual(DEF_OPS.map((o) => o.name));
  });

  it('gives every op the same operand, int and float attribute names, so the same counts', () => {
    for (const [k, def] of DEF_OPS.entries()) {
      const ts = OPS[k];
      expect({ name: ts.name, operands: ts.operands, intAttrs: ts.intAttrs, floatAttrs: ts.floatAttrs }).toEqual(def);
      expect([ts.buffers, ts.ints, ts.floats]).toEqual([def.operands.length, def.intAttrs.length, def.floatAttrs.length]);
    }
  });

  it('names each operand once per op and reads/writes only operands it has', () => {
    for (const o of OPS) {
      expect(new Set(o.operands).size, o.name).toBe(o.operands.length);
      for (const p of [...o.reads, ...o.writes]) expect(p >= 0 && p < o.buffers, `${o.name} position ${p}`).toBe(true);
    }
  });

  it('matches the C++ op count the core asserts', () => {
    const count = /static_assert\(\(int\)Op::COUNT == (\d+)/.exec(readFileSync(join(CORE, 'op-table.cpp'), 'utf8'));
    expect(Number(count?.[1])).toBe(OPS.length);
  });

  it('places operands and attributes given by name at their ops.def positions, and reads operands back by name', () => {
    const bufs = operands('batch_norm_backward', { dy: 1, x: 2, weight: -1, save_mean: 3, save_invstd: 4, dx: 5, dweight: -1, dbias: -1 });
    expect(bufs).toEqual([1, 2, -1, 3, 4, 5, -1, -1]);
    expect(operandsOf('layer_norm_forward', [7, 8, 9, 10, 11, 12])).toEqual({ x: 7, weight: 8, bias: 9, y: 10, mean: 11, rstd: 12 });
    expect(intAttrs('concat_backward', { offset: 4, accumulate: 1, outer: 1, y_inner: 3, x_inner: 2 })).toEqual([1, 2, 3, 4, 1]);
    expect(floatAttrs('adam_step', { eps: 1e-8, lr: 0.1, weight_decay: 0, beta2: 0.999, beta1: 0.9 })).toEqual([0.1, 0.9, 0.999, 1e-8, 0]);
  });
});

describe('kernel codes: engine/compile/kernel-codes.ts against the native .def files', () => {
  const rows = (file: string, macro: string) => macroCalls(source(file), macro).map(([, engineName]) => JSON.parse(engineName) as string);
  const codes = (table: Record<string, number>) => Object.entries(table).sort((a, b) => a[1] - b[1]).map(([name]) => name);

  it.each([
    ['activation.def', 'NL_ACTIVATION', ACTIVATION],
    ['reduction.def', 'NL_REDUCTION', REDUCTION],
    ['point-loss.def', 'NL_POINT_LOSS', POINT_LOSS],
  ] as const)('%s: each engine name has the code of its row, and no other name has one', (file, macro, table) => {
    const def = rows(file, macro);
    expect(def.length).toBeGreaterThan(1);
    expect(codes(table)).toEqual(def);
    expect(Object.values(table).sort((a, b) => a - b)).toEqual(def.map((_, k) => k));
  });

  it('kernels.h takes its enums from those files', () => {
    const header = readFileSync(join(CORE, 'kernels.h'), 'utf8');
    for (const file of ['activation.def', 'reduction.def', 'point-loss.def']) expect(header).toContain(`#include "${file}"`);
  });
});
