/**
 * PyTorch parity of training on CSV data: the CSV loader's parsing and standardisation, the session's
 * float dataset, the native gather of features and regression targets batch by batch, and one epoch
 * of training (batch 16, no shuffle, short last batch), against PyTorch 1.13.
 *
 * Golden files: test/parity/golden_csv/, regenerate with /usr/bin/python3 test/parity/gen_csv.py (its
 * docstring says how the torch side reads and standardises the CSV). Cases: the iris-mlp template
 * (assets/samples/iris.csv, the template's own graph and optimizer) and a generated regression CSV
 * (Linear-ReLU-Linear, MSELoss against the target column). Initial weights come from gen_golden.py's
 * hash init, reproduced here bit for bit.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TargetSpec } from '../../engine/compile/ir.js';
import { loadCsv } from '../../engine/data/csv.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { compileFor, expectKeys, hashInit, openSession, parityChecks, readGolden, tensor as goldenTensor, type Tol } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const GOLDEN = path.join(HERE, 'golden_csv');
const REGEN = 'regenerate with /usr/bin/python3 test/parity/gen_csv.py';

interface CsvCase {
  file: string;
  csv: string;
  label: string;
  task: 'classification' | 'regression';
  features: string[];
  classes: string[] | null;
  rows: number;
  batch: number;
  mean: number[];
  std: number[];
  graph: GraphDoc;
  optimizer: Record<string, unknown>;
  keys: string[];
  init: Record<string, { hash: number; fan_in: number }>;
}
const manifest = JSON.parse(readFileSync(path.join(GOLDEN, 'manifest.json'), 'utf8')) as { cases: Record<string, CsvCase> };

/**
 * Per-batch losses and parameters after the epoch. Ten Adam / seven SGD-momentum steps through float32
 * GEMMs summed in another order than torch's: measured worst ratios are printed after the run.
 */
const LOSS: Tol = { rtol: 1e-5, atol: 1e-7 };
const PARAM: Tol = { rtol: 1e-5, atol: 1e-6 };

const { expectClose } = parityChecks('csv parity');

async function helperTestCsv(name: string): Promise<void> {
  const c = manifest.cases[name];
  const g = readGolden(GOLDEN, c.file);
  const t = (key: string) => goldenTensor(g, key, REGEN);

  // The loader, with every row in the training split: its standardised features are torch's, bit for bit.
  const ds = await loadCsv(path.join(ROOT, c.csv), { features: 'all-but-label', label: c.label, task: c.task, standardize: true, validationFraction: 0 });
  expect(ds.features).toEqual(c.features);
  expect(ds.train.count).toBe(c.rows);
  expect(ds.stats.mean).toEqual(c.mean);
  expect(ds.stats.std).toEqual(c.std);
  expect(ds.train.x, `${name}: standardised features (${REGEN} if csv.ts changed its rule)`).toEqual(t('x'));
  if (ds.task === 'classification') {
    expect(ds.classes).toEqual(c.classes);
    expect(Int32Array.from(ds.train.y)).toEqual(t('y'));
  } else {
    expect(ds.train.y).toEqual(t('y'));
  }

  // One epoch through the session's float dataset: batches gathered natively, in order.
  const targets: TargetSpec | undefined = c.task === 'regression' ? { width: 1, names: [c.label], source: path.basename(c.csv) } : undefined;
  const program = compileFor(c.graph, name, c.batch, { optimizer: OptimizerSchema.parse(c.optimizer), targets });
  expectKeys(program, c.keys, `${name}: state-dict keys`);
  expect(program.io.targets >= 0, 'a regression CSV is compared through the targets buffer, a classification CSV through labels').toBe(c.task === 'regression');
  const s = openSession(program, 2, (p, elems) => hashInit(c.init[p.key].hash, elems, c.init[p.key].fan_in));
  s.setFloatDataset('train', ds.train.x, ds.train.y, ds.train.count);
  const r = await s.runEpoch('train', { count: ds.train.count, batch: c.batch, dropLast: false, train: true, losses: true });
  expect(r.batches).toBe(Math.ceil(c.rows / c.batch));
  expectClose(`${name}: per-batch losses`, 'losses', r.losses!, t('losses'), LOSS);
  const params = s.getParams();
  for (const key of c.keys) expectClose(`${name}: ${key} after one epoch`, 'params', params.get(key)!, t(`final/${key}`), PARAM);
}

describe('PyTorch 1.13 parity: one epoch on a CSV (loader -> standardisation -> float gather -> targets -> training)', () => {
  it.each(Object.keys(manifest.cases))('%s', (name) => helperTestCsv(name));
});
