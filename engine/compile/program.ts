/**
 * Encodes a CompiledProgram into the Int32 word stream native/core/program.cpp decodes.
 * The layout is documented in native/core/program.h; both sides change together (VERSION).
 */
import type { CompiledProgram, Instr } from './ir.js';
import { opcode, opInfo } from './ops.js';

export const PROGRAM_MAGIC = 0x47504c4e; // "NLPG"
export const PROGRAM_VERSION = 3;
/** magic, version, max_batch, arena, 4 counts, 6 well-known buffers, classes, targets (v3) */
const HEADER_WORDS = 16;

export function encodeProgram(p: CompiledProgram): Int32Array {
  const instrs: Instr[] = [...p.forward, ...p.backward, ...p.step];
  let words = HEADER_WORDS + 4 * p.buffers.length;
  for (const i of instrs) words += 4 + i.bufs.length + i.ints.length + i.floats.length;
  const out = new Int32Array(words);
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  let k = 0;
  // Every word is an int32: a value outside that range would wrap silently (a tensor of 2^32 + 5
  // values would read as 5). checkMemory refuses such models with a message first; this is the
  // backstop for any other caller.
  const put = (v: number) => {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) throw new Error(`internal: program word ${k} is ${v}, outside int32`);
    out[k++] = v;
  };
  for (const v of [PROGRAM_MAGIC, PROGRAM_VERSION, p.maxBatch, p.arena16, p.buffers.length, p.forward.length, p.backward.length, p.step.length]) put(v);
  for (const v of [p.io.input, p.io.labels, p.io.logits, p.io.probs, p.io.loss, p.io.correct, p.classes, p.io.targets]) put(v);
  for (const b of p.buffers) {
    put(b.dtype === 'f32' ? 0 : 1);
    put(b.batched ? 1 : 0);
    put(b.elems);
    put(b.offset16);
  }
  for (const i of instrs) {
    const info = opInfo(i.op);
    if (i.bufs.length !== info.buffers || i.ints.length !== info.ints || i.floats.length !== info.floats)
      throw new Error(`internal: ${i.op} built with ${i.bufs.length}/${i.ints.length}/${i.floats.length} operands`);
    put(opcode(i.op));
    put(i.bufs.length);
    put(i.ints.length);
    put(i.floats.length);
    for (const b of i.bufs) put(b);
    for (const v of i.ints) put(v);
    for (const v of i.floats) {
      f32[0] = v;
      put(bits[0]);
    }
  }
  return out;
}
