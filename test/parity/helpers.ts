/**
 * Shared by the PyTorch parity tests (parity.test.ts, layers.test.ts, curves.test.ts): golden-file
 * loading, gen_golden.py's hash init, the scale-aware tensor comparison with its worst-error report,
 * and session setup. Tolerances stay with the tests that choose them.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect } from 'vitest';
import { compileGraph, type CompileOptions } from '../../engine/compile/compile.js';
import type { CompiledProgram, ParamBinding } from '../../engine/compile/ir.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { Session } from '../../engine/runtime/session.js';

// ---------------------------------------------------------------------------------------------
// Golden files

export type Typed = Float32Array | Int32Array | Float64Array;
export interface GoldenTensor {
  shape: number[];
  data: Typed;
}

/** Reads `dir/file`: safetensors layout with F32, I32 and F64 tensors (little-endian host). */
export function readGolden(dir: string, file: string): Map<string, GoldenTensor> {
  const bytes = readFileSync(path.join(dir, file));
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, GoldenTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const raw = bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
    const copy = new Uint8Array(raw).buffer; // aligned copy
    const data = e.dtype === 'F32' ? new Float32Array(copy) : e.dtype === 'I32' ? new Int32Array(copy) : e.dtype === 'F64' ? new Float64Array(copy) : undefined;
    if (!data) throw new Error(`${file}: ${name} has unsupported dtype ${e.dtype}`);
    out.set(name, { shape: e.shape, data });
  }
  return out;
}

/** The tensor's values; a missing one says how to regenerate the golden files (`regen`). */
export function tensor(g: Map<string, GoldenTensor>, name: string, regen: string): Typed {
  const t = g.get(name);
  if (!t) throw new Error(`golden file has no tensor "${name}": ${regen}`);
  return t.data;
}

/** gen_golden.py hash_init, bit for bit: lowbias32 of (i ^ seed*0x9E3779B9), scaled to U(±1/√fan_in). */
export function hashInit(seed: number, elems: number, fanIn: number): Float32Array {
  const out = new Float32Array(elems);
  const s = Number((BigInt(seed) * 0x9e3779b9n) & 0xffffffffn);
  const bound = Math.sqrt(fanIn);
  for (let i = 0; i < elems; i++) {
    let x = (i ^ s) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    out[i] = ((x >>> 8) / 16777216 * 2 - 1) / bound;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Tol {
  rtol: number;
  /** absolute tolerance relative to the largest |expected| value of the tensor (scale-aware) */
  atol: number;
}

export interface CloseOptions {
  /** got[index[k]] is compared with want[k] (sampled golden tensors) */
  index?: Int32Array;
  /** per-element allowance added to the tolerance */
  extra?: Float64Array;
  /** appended to the length-mismatch error, e.g. how to regenerate the golden files */
  lengthHint?: string;
}

export type RecordWorst = (kind: string, err: number, where: string) => void;
export type ExpectClose = (what: string, kind: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, o?: CloseOptions) => void;

/**
 * The comparison for one test file: `expectClose` checks |got - want| <= atol * max|want| + rtol *
 * |want| (+ extra[k]) elementwise and names the worst element on failure; it and `record` keep the
 * worst ratio per kind of check, printed after the file's tests as `<title>: worst ...` (to size
 * the tolerances).
 */
export function parityChecks(title: string): { record: RecordWorst; expectClose: ExpectClose } {
  const worst = new Map<string, { err: number; where: string }>();
  const record: RecordWorst = (kind, err, where) => {
    const w = worst.get(kind);
    if (!w || err > w.err) worst.set(kind, { err, where });
  };
  afterAll(() => {
    const lines = [...worst].map(([k, w]) => `  ${k.padEnd(14)} ${w.err.toExponential(2)}  (${w.where})`);
    console.log(`${title}: worst |got - want| / (atol*scale + rtol*|want|) per check (<= 1 passes)\n${lines.join('\n')}`);
  });
  const expectClose: ExpectClose = (what, kind, got, want, tol, o = {}) => {
    const { index, extra } = o;
    const len = index ? index.length : got.length;
    if (!index && got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}${o.lengthHint ? ` (${o.lengthHint})` : ''}`);
    let scale = 0;
    for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
    const atol = tol.atol * (scale || 1);
    let bad = 0;
    let worstRatio = 0;
    let at = -1;
    for (let k = 0; k < len; k++) {
      const g = got[index ? index[k] : k];
      const w = want[k];
      const ratio = Math.abs(g - w) / (atol + tol.rtol * Math.abs(w) + (extra ? extra[k] : 0));
      if (!(ratio <= 1)) bad++;
      if (!(ratio <= worstRatio)) {
        worstRatio = ratio;
        at = k;
      }
    }
    record(kind, worstRatio, what);
    if (bad) {
      const i = index ? index[at] : at;
      throw new Error(
        `${what}: ${bad} of ${len} values differ from PyTorch; worst at [${i}]: got ${got[i]}, want ${want[at]} ` +
          `(|diff| ${Math.abs(got[i] - want[at]).toExponential(3)}, allowed ${(atol + tol.rtol * Math.abs(want[at]) + (extra ? extra[at] : 0)).toExponential(3)}; ` +
          `rtol ${tol.rtol}, atol ${tol.atol} x max|want| ${scale.toExponential(3)})`,
      );
    }
  };
  return { record, expectClose };
}

// ---------------------------------------------------------------------------------------------
// Session setup

export const paramElems = (p: ParamBinding) => p.shape.reduce((a, b) => a * b, 1);

/** analyzeForTraining + compileGraph at one batch size. */
export function compileFor(graph: GraphDoc, name: string, batch: number, o: Omit<CompileOptions, 'batchSize'>): CompiledProgram {
  return compileGraph(analyzeForTraining(graph, name, { batchSize: batch }), { batchSize: batch, ...o });
}

/** The program's state-dict keys are exactly `keys` (order aside). */
export function expectKeys(program: CompiledProgram, keys: string[], what?: string): void {
  expect(program.params.map((p) => p.key).sort(), what).toEqual([...keys].sort());
}

/** A session over `program` with the dropout seed (if given) and every parameter from `init`. */
export function openSession(program: CompiledProgram, threads: number, init: (p: ParamBinding, elems: number) => Float32Array, seed?: number): Session {
  const s = new Session(program, threads);
  if (seed !== undefined) s.native.seed = seed;
  for (const p of program.params) s.setParam(p.key, init(p, paramElems(p)));
  return s;
}
