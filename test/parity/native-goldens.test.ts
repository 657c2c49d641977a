/**
 * The PyTorch values pasted into the native tests (test/native/*.cpp) are what their generator prints:
 * test/parity/gen_native_goldens.py recomputes each with torch 1.13, this test parses the same constants
 * out of the .cpp sources (C float literals, hex floats included) and compares them, float32 for
 * float32. A constant edited by hand, pasted from another setting than its comment says, or added to a
 * .cpp without its generator, fails here. Needs /usr/bin/python3 with torch: skipped with a message
 * without it, failing in CI (python.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { itWithPython, PYTHON } from './python.js';

const NATIVE = path.join('test', 'native');
const source = (file: string) => readFileSync(path.join(NATIVE, file), 'utf8');

/** A C float or double literal: 6.5f, .25f, 1e4f, -0.f, -0x1.8e543cp+0f, NAN / nan. */
function cNumber(literal: string): number {
  const s = literal.trim().replace(/[fF]$/, '');
  if (/^-?nan$/i.test(s)) return NaN;
  const hex = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(s);
  if (hex) {
    const [, sign, int, frac = '', exp] = hex;
    const mantissa = parseInt(int || '0', 16) + (frac ? parseInt(frac, 16) / 16 ** frac.length : 0);
    return (sign === '-' ? -1 : 1) * mantissa * 2 ** Number(exp);
  }
  const n = Number(s);
  if (s === '' || Number.isNaN(n)) throw new Error(`not a C number literal: ${JSON.stringify(literal)}`);
  return n;
}

const list = (body: string) => body.split(',').map((v) => v.trim()).filter((v) => v !== '').map(cNumber);

/** The initialiser of the first `name[...] = {...}` (or `name = value`) at or after `from` in `text`. */
function cArray(text: string, name: string, from = 0): number[] {
  const re = new RegExp(`\\b${name}(?:\\[[^\\]]*\\])?\\s*=\\s*(?:\\{([^}]*)\\}|([^;{]+);)`, 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m) throw new Error(`no constant ${name} after offset ${from}`);
  return m[1] !== undefined ? list(m[1]) : [cNumber(m[2])];
}

/** The text of the block that starts at `opening` (a unique string ending in "{") up to its matching "}". */
function block(text: string, opening: string): string {
  const at = text.indexOf(opening);
  if (at < 0 || text.indexOf(opening, at + 1) >= 0) throw new Error(`"${opening}" must occur once`);
  let depth = 0;
  for (let i = at + opening.length - 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(at, i + 1);
  }
  throw new Error(`"${opening}" is never closed`);
}

const pyFloat = (x: number) => (Number.isInteger(x) ? x.toFixed(1) : String(x));

/** Every recorded constant of the .cpp sources, by the generator's ids. */
function recorded(): Map<string, number[]> {
  const r = new Map<string, number[]>();
  const put = (id: string, values: number[]) => {
    if (r.has(id)) throw new Error(`${id} found twice`);
    r.set(id, values);
  };

  // test_norm_act.cpp: its static arrays, minus the random inputs the generator reads from it
  const normAct = source('test_norm_act.cpp');
  const INPUTS = new Set(['bn_x1', 'bn_x2', 'bn_g', 'bn_b', 'bn_dy', 'bn1_x0', 'bn1_x1', 'bn1_x2', 'ln_x', 'ln_g', 'ln_b', 'ln_dy', 'act_x', 'act_dy', 'sm_x', 'sm_dy', 'big_x']);
  for (const [, name, body] of normAct.matchAll(/static const float (\w+)\[\d+\] = \{([^}]*)\};/g)) if (!INPUTS.has(name)) put(name, list(body));
  const edges = block(normAct, 'const Edge edges[] = {');
  let n = 0;
  for (const [, kind, y, dx] of edges.matchAll(/\{Activation::(\w+),\s*[^,{}]+,\s*\{([^}]*)\},\s*\{([^}]*)\}\}/g)) {
    put(`edge ${kind} y`, list(y));
    put(`edge ${kind} dx`, list(dx));
    n++;
  }
  expect(n, 'activation edge cases parsed').toBe(7);

  // test_loss_optim.cpp
  const lossOptim = source('test_loss_optim.cpp');
  const rec = /\{(true|false),\s*([\d.]+)f,\s*Reduction::(MEAN|SUM),\s*([-\d.eE+]+)\}/g;
  const pyBool = (b: string) => (b === 'true' ? 'True' : 'False');
  n = 0;
  for (const [, w, eps, red, want] of block(lossOptim, 'const Rec ce[] = {').matchAll(rec)) {
    put(`CrossEntropyLoss weighted=${pyBool(w)} label_smoothing=${pyFloat(cNumber(eps))} ${red.toLowerCase()}`, [cNumber(want)]);
    n++;
  }
  for (const [, w, , red, want] of block(lossOptim, 'const Rec nll[] = {').matchAll(rec)) {
    put(`NLLLoss weighted=${pyBool(w)} ${red.toLowerCase()}`, [cNumber(want)]);
    n++;
  }
  expect(n, 'cross-entropy and NLL records parsed').toBe(12);
  n = 0;
  for (const [, name, mean, sum] of lossOptim.matchAll(/\{"([^"]+)",\s*PointLoss::\w+,\s*[\d.]+f,\s*\w+,\s*\w+,\s*([-\d.eE+]+),\s*([-\d.eE+]+)\}/g)) {
    put(`${name} mean`, [cNumber(mean)]);
    put(`${name} sum`, [cNumber(sum)]);
    n++;
  }
  expect(n, 'point-loss records parsed').toBe(6);
  const clip = lossOptim.indexOf('clip_grad_norm_(max_norm=1) as the engine composes it');
  for (const name of ['want_total', 'want_a', 'want_b']) put(`clip ${name}`, cArray(lossOptim, name, clip));

  // optimizer steps: `const float want[N] = {...};` then `run("<label>", ...)`, in test_loss_optim.cpp and test_ops.cpp
  n = 0;
  for (const text of [lossOptim, source('test_ops.cpp')])
    for (const [, body, label] of text.matchAll(/const float want\[N\] = \{([^}]*)\};\s*run\(\s*"([^"]+)"/g)) {
      put(label, list(body));
      n++;
    }
  expect(n, 'optimizer goldens parsed').toBe(10);

  // test_conv.cpp: the arrays after each torch golden's setup
  const conv = source('test_conv.cpp');
  const after = (anchor: string) => {
    const at = conv.indexOf(anchor);
    if (at < 0) throw new Error(`test_conv.cpp no longer has "${anchor}"`);
    return at;
  };
  put('avg_pool2d 5x5 k2 s2 ceil_mode', cArray(conv, 'want', after('for (int i = 0; i < 25; i++) x[i] = (float)i;')));
  put('avg_pool2d 2x2 k2 s1 p1 count_include_pad=True', cArray(conv, 'w1', after('for (int cip = 1; cip >= 0; cip--)')));
  put('avg_pool2d 2x2 k2 s1 p1 count_include_pad=False', cArray(conv, 'w0', after('for (int cip = 1; cip >= 0; cip--)')));
  put('avg_pool2d 6x6 k3 s2 p1 ceil_mode row 3', cArray(conv, 'want', after('for (int i = 0; i < 36; i++) x[i] = (float)i;')));
  put('adaptive_avg_pool2d 5x7 -> 3x4', cArray(conv, 'want', after('torch 1.13 golden: F.adaptive_avg_pool2d')));
  return r;
}

/** Units in the last place of float32 between a and b (0: the same float; NaN only equals NaN). */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const [x, y] = [Math.fround(a), Math.fround(b)];
  if (x === y) return 0; // 0 and -0 too
  const bits = (v: number) => {
    const i = new Int32Array(new Float32Array([v]).buffer)[0];
    return i < 0 ? -(i & 0x7fffffff) : i; // ordered: negative floats below zero
  };
  return Math.abs(bits(x) - bits(y));
}

describe('the native tests\' PyTorch constants', () => {
  it('C literals parse as C reads them', () => {
    expect([cNumber('6.5f'), cNumber('.25f'), cNumber('1e4f'), cNumber('-0.f'), cNumber('0x0p+0f'), cNumber('-0x1.8p+1f'), cNumber('0x1.99be3ep-5f')]).toEqual([6.5, 0.25, 1e4, -0, 0, -3, Math.fround(0x199be3e / 2 ** 24 / 32)]);
    expect(cNumber('nan')).toBeNaN();
  });

  itWithPython(['torch'], 'every recorded constant equals what gen_native_goldens.py computes with torch, float32 for float32', () => {
    const run = spawnSync(PYTHON, [path.join('test', 'parity', 'gen_native_goldens.py')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const generated = JSON.parse(run.stdout) as Record<string, (number | 'nan')[] | string>;
    const torchVersion = generated.torch as string;
    delete generated.torch;
    expect(torchVersion, 'the constants are torch 1.13\'s').toMatch(/^1\.13\./);
    const pasted = recorded();
    expect([...pasted.keys()].sort(), 'the same constants on both sides').toEqual(Object.keys(generated).sort());
    const wrong: string[] = [];
    for (const [id, want] of pasted) {
      const got = (generated[id] as (number | 'nan')[]).map((v) => (v === 'nan' ? NaN : v));
      if (got.length !== want.length) {
        wrong.push(`${id}: ${want.length} values pasted, ${got.length} generated`);
        continue;
      }
      want.forEach((w, i) => {
        const d = ulps(w, got[i]);
        if (d > 0) wrong.push(`${id}[${i}]: pasted ${w}, torch ${got[i]} (${d} ulp)`);
      });
    }
    expect(wrong).toEqual([]);
  }, 60_000);
});
