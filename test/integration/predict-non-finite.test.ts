/**
 * predict on a sample the model cannot score (found by the fuzzer, test/fuzz): finite but huge
 * feature values overflow the model's output to Infinity and its probabilities to NaN. That is the
 * user's input, so it is a NetloomError naming what happened (NL_NON_FINITE), not a result that the
 * API refuses to carry (NaN is no JSON number) and the host reports as an internal error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProjectText } from '../../engine/graph/document.js';
import { TrainingRun } from '../../engine/train/run.js';

/** The Iris template, reading assets/samples/iris.csv. */
function iris(mutate: (p: any) => void = () => {}) {
  const p = JSON.parse(readFileSync('assets/templates/iris-mlp.json', 'utf8'));
  p.training.dataset.path = join(process.cwd(), 'assets', 'samples', 'iris.csv');
  mutate(p);
  return parseProjectText(JSON.stringify(p), 'iris-mlp.json');
}

describe('predict with an output that is not a number', () => {
  it('a classification model: huge features are NL_NON_FINITE, and the next sample still predicts', async () => {
    const run = await TrainingRun.create(iris(), 'iris', { epochs: 1, threads: 1 });
    await run.stop();
    await expect(run.predict([3e38, -3e38, 3e38, 3e38])).rejects.toMatchObject({
      name: 'NetloomError', code: 'NL_NON_FINITE', message: expect.stringMatching(/output .* (NaN|infinite)/),
    });
    const p = await run.predict([5.1, 3.5, 1.4, 0.2]);
    expect(p).toHaveLength(3);
    expect(p.every(Number.isFinite)).toBe(true);
  });

  it('a regression model: an infinite output is NL_NON_FINITE too', async () => {
    const project = iris((p) => {
      p.training.dataset = { ...p.training.dataset, label: 'petal_width', task: 'regression', features: ['sepal_length', 'sepal_width', 'petal_length'] };
      p.graph.nodes.find((n: any) => n.id === 'input').params.shape = [3];
      p.graph.nodes.find((n: any) => n.id === 'fc2').params.out_features = 1;
      p.graph.nodes.find((n: any) => n.id === 'loss').type = 'MSELoss';
    });
    const run = await TrainingRun.create(project, 'iris regression', { epochs: 1, threads: 1 });
    await run.stop();
    await expect(run.predictOutput([3e38, 3e38, 3e38])).rejects.toMatchObject({ name: 'NetloomError', code: 'NL_NON_FINITE' });
    expect((await run.predictOutput([5.1, 3.5, 1.4])).every(Number.isFinite)).toBe(true);
  });
});
