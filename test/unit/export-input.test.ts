/**
 * buildExportInput: what every exporter is given, from a project file alone (no native session): the
 * state dict's entries in Netloom's order with their kind and dtype, the weights checked against them,
 * and a CSV project's standardisation computed as a run computes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { loadCsvDataset } from '../../engine/train/job-dataset.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { loadProjectJson } from '../../engine/io/project.js';
import { buildExportInput } from '../../engine/train/export-input.js';

const template = (name: string) => {
  const file = join(process.cwd(), 'assets', 'templates', `${name}.json`);
  return { file, project: loadProjectJson(JSON.parse(readFileSync(file, 'utf8')), file) };
};

describe('buildExportInput', () => {
  it("lists the state dict in the compiled program's order: learnable parameters and BatchNorm's buffers (num_batches_tracked int64)", async () => {
    const { file, project } = template('fashion-cnn');
    const input = await buildExportInput(project, file);
    const program = compileGraph(analyzeForTraining(project.graph, file, { batchSize: 1 }), { batchSize: 1, optimizer: project.training.optimizer, train: false });
    expect(input.state.map((e) => e.key)).toEqual(program.params.map((p) => p.key));
    expect(input.state.filter((e) => e.kind === 'buffer').map((e) => e.key.split('.').pop())).toEqual(expect.arrayContaining(['running_mean', 'running_var', 'num_batches_tracked']));
    expect(input.state.filter((e) => e.dtype === 'i64').every((e) => e.key.endsWith('num_batches_tracked') && e.kind === 'buffer')).toBe(true);
    expect(input.weights).toBeUndefined();
    expect(input.standardize).toBeUndefined();
    expect(input.analysis.inputId).toBeDefined();
  });

  it("a CSV project: the training split's statistics, as the run that trains it standardises with", async () => {
    const { file, project } = template('iris-mlp');
    const input = await buildExportInput(project, file);
    const ds = project.training.dataset;
    if (typeof ds === 'string' || ds.type !== 'csv') throw new Error('iris-mlp trains on a CSV');
    const loaded = await loadCsvDataset(ds, file);
    expect(input.standardize).toEqual({ columns: loaded.features, mean: loaded.stats.mean, std: loaded.stats.std });
    const off = await buildExportInput({ ...project, training: { ...project.training, dataset: { ...ds, standardize: false } } }, file);
    expect(off.standardize).toBeUndefined();
  });

  it('takes weights that fit the state dict exactly, and refuses others naming the keys', async () => {
    const { file, project } = template('iris-mlp');
    const { state } = await buildExportInput(project, file);
    const weights = new Map(state.map((e) => [e.key, new Float32Array(e.shape.reduce((a, b) => a * b, 1))]));
    expect((await buildExportInput(project, file, { weights })).weights).toBe(weights);
    const wrong = new Map(weights);
    wrong.set('net.0.bias', new Float32Array(3));
    wrong.set('stray.weight', new Float32Array(1));
    await expect(buildExportInput(project, file, { weights: wrong })).rejects.toMatchObject({
      code: 'NL_CHECKPOINT_MISMATCH', message: 'the weights do not fit the model: missing or of the wrong size: net.0.bias; not in the model: stray.weight',
    });
  });
});
