/** Accumulates buffers and instructions while a graph is lowered. */
import type { BufferRole, BufferSpec, Instr } from './ir.js';
import type { OpName } from './ops.js';

export class ProgramBuilder {
  readonly buffers: BufferSpec[] = [];

  buffer(name: string, role: BufferRole, elems: number, batched: boolean, dtype: 'f32' | 'i32' = 'f32'): number {
    const id = this.buffers.length;
    this.buffers.push({ id, name, role, elems, batched, dtype, offset16: 0 });
    return id;
  }

  static instr(op: OpName, bufs: number[], ints: number[] = [], floats: number[] = []): Instr {
    return { op, bufs, ints, floats };
  }
}
