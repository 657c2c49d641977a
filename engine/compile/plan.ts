/**
 * Static memory plan: gives every buffer an offset in one arena. Buffers that must survive a
 * step (parameters, their gradients, optimizer state, the batch, the well-known outputs) get
 * their own space; activations and activation gradients share space whenever their lifetimes
 * (first write .. last read over forward, backward, step) do not overlap. Greedy best-fit by
 * size, like tinygrad's memory planner. `enabled: false` gives every buffer its own space
 * (useful to rule the planner out when debugging).
 */
import type { BufferSpec, Instr, ProgramIO } from './ir.js';

const LINE = 16; // words per unit: 64-byte alignment for SIMD loads

export function planMemory(buffers: BufferSpec[], instrs: Instr[], io: ProgramIO & Record<string, number>, maxBatch: number, enabled = true): number {
  const units = (b: BufferSpec) => Math.ceil((b.batched ? b.elems * maxBatch : b.elems) / LINE);
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  instrs.forEach((ins, t) => {
    for (const id of ins.bufs) {
      if (id < 0) continue;
      if (!first.has(id)) first.set(id, t);
      last.set(id, t);
    }
  });
  const pinned = new Set(Object.values(io).filter((v) => v >= 0));
  const transient = (b: BufferSpec) => enabled && (b.role === 'activation' || b.role === 'activation-grad') && !pinned.has(b.id) && first.has(b.id);

  let top = 0;
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  for (const b of buffers)
    if (!transient(b)) {
      b.offset16 = top;
      top += units(b);
    }
  const shared = top;
  const order = buffers.filter(transient).sort((x, y) => units(y) - units(x) || x.id - y.id);
  for (const b of order) {
    const size = units(b);
    const from = first.get(b.id)!;
    const to = last.get(b.id)!;
    const busy = placed.filter((p) => p.from <= to && from <= p.to).sort((p, q) => p.start - q.start);
    let at = shared;
    for (const p of busy) {
      if (at + size <= p.start) break;
      at = Math.max(at, p.end);
    }
    b.offset16 = at;
    placed.push({ start: at, end: at + size, from, to });
    top = Math.max(top, at + size);
  }
  return Math.max(top, 1);
}
