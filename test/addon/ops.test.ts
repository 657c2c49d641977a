import { describe, expect, it } from 'vitest';
import { OPS } from '../../engine/compile/ops.js';
import { loadBinding } from '../../engine/runtime/binding.js';

describe('op table', () => {
  it('engine/compile/ops.ts lists exactly the ops of native/core/ops.def, in order', () => {
    expect(OPS.map((o) => o.name)).toEqual(loadBinding().opNames());
  });

  it('gives every op the operand and attribute counts the built core counts from ops.def', () => {
    expect(OPS.map(({ name, buffers, ints, floats }) => ({ name, buffers, ints, floats }))).toEqual(loadBinding().opTable());
  });
});
