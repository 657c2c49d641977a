import { describe, expect, it } from 'vitest';
import { OPS } from '../../engine/compile/ops.js';
import { loadBinding } from '../../engine/runtime/binding.js';

describe('op table', () => {
  it('engine/compile/ops.ts lists exactly the ops of native/core/ops.def, in order', () => {
    expect(OPS.map((o) => o.name)).toEqual(loadBinding().opNames());
  });
});
