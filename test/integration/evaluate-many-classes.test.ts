/**
 * Evaluating a model whose last layer scores far more classes than its dataset has (found by the
 * fuzzer, test/fuzz: a Linear with out_features 65536 at the end of fashion-cnn). Such a model trains,
 * but its evaluation built a 65536 x 65536 confusion matrix in JavaScript, which ran the heap out of
 * memory and killed `netloom serve`. It is refused with the class counts and the fix instead.
 * The evaluation runs in a child process with a small heap, so the unfixed code dies there, fast.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limited } from '../fuzz/sandbox.js';

const script = `
import { readFileSync } from 'node:fs';
import { parseProjectText } from './dist/engine/graph/document.js';
import { TrainingRun } from './dist/engine/train/run.js';
const p = JSON.parse(readFileSync('assets/templates/iris-mlp.json', 'utf8'));
p.training.dataset.path = ${JSON.stringify(join(process.cwd(), 'assets', 'samples', 'iris.csv'))};
p.graph.nodes.find((n) => n.id === 'fc2').params.out_features = Number(process.argv[1]);
const run = await TrainingRun.create(parseProjectText(JSON.stringify(p), 'iris'), 'iris', { epochs: 1, threads: 1 });
await run.stop();
for (const what of ['evaluate', 'samples']) {
  try {
    const r = what === 'evaluate' ? await run.evaluate() : await run.samples({ actual: 0, predicted: 0, limit: 1 });
    console.log(JSON.stringify({ what, ok: true, classes: r.classNames?.length }));
  } catch (e) {
    console.log(JSON.stringify({ what, ok: false, code: e.code, message: e.message, hint: e.hint }));
  }
}
`;

function evaluateWith(outFeatures: number) {
  const [cmd, ...args] = limited([process.execPath, '--max-old-space-size=256', '--input-type=module', '-e', script, String(outFeatures)]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr.slice(-600)).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('evaluating a model with many more outputs than classes', () => {
  it('65536 outputs for 3 classes: evaluate and the confusion-cell samples are NL_UNSUPPORTED naming both counts', () => {
    for (const r of evaluateWith(65536)) {
      expect(r).toMatchObject({ ok: false, code: 'NL_UNSUPPORTED' });
      expect(r.message).toMatch(/65536 classes.*up to \d+.*has 3/);
      expect(r.hint).toMatch(/out_features .* 3/);
    }
  });

  it('a few more outputs than classes still evaluate, one row and column per output', () => {
    expect(evaluateWith(5)).toEqual([{ what: 'evaluate', ok: true, classes: 5 }, { what: 'samples', ok: true }]);
  });
});
