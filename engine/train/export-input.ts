/**
 * The ModelExportInput of a project (engine/io/model-export.ts): what every exporter is given. The
 * graph is analysed and compiled the way a job compiles it (job.ts), without a native session: the
 * program's params already say every state-dict key, shape, dtype and whether it is learnable, in
 * Netloom's order (= model.state_dict()'s order in the exported model.py). A CSV project with
 * standardisation also loads its CSV, to give the training split's statistics as a run computes them.
 */
import { compileGraph } from '../compile/compile.js';
import { NetloomError } from '../errors.js';
import { analyzeForTraining } from '../graph/analyze.js';
import type { ProjectDoc } from '../graph/document.js';
import type { ModelExportInput, StateEntry } from '../io/model-export.js';
import { datasetTargets, loadCsvDataset } from './job-dataset.js';

/**
 * Analyses and compiles `project` (read from `projectPath`, which relative dataset paths resolve
 * against) into what exporters need: state-dict entries in Netloom's order, the given weights (or none),
 * and for a CSV project the training split's standardisation.
 */
export async function buildExportInput(project: ProjectDoc, projectPath: string, o: { weights?: ReadonlyMap<string, Float32Array> } = {}): Promise<ModelExportInput> {
  const analysis = analyzeForTraining(project.graph, projectPath, { batchSize: 1 });
  const ds = project.training.dataset;
  // a regression CSV's point loss compiles against the target column; the statistics need its rows
  const csv = typeof ds !== 'string' && ds.type === 'csv' && (ds.standardize || ds.task === 'regression') ? await loadCsvDataset(ds, projectPath) : undefined;
  const program = compileGraph(analysis, { batchSize: 1, optimizer: project.training.optimizer, train: false, targets: csv ? datasetTargets(csv) : undefined });
  const state: StateEntry[] = program.params.map((p) => ({ key: p.key, shape: [...p.shape], kind: p.learnable ? 'param' : 'buffer', dtype: p.dtype }));
  if (o.weights) checkWeights(state, o.weights);
  return {
    project,
    analysis,
    state,
    ...(o.weights ? { weights: o.weights } : {}),
    ...(csv?.standardized ? { standardize: { columns: [...csv.features], mean: [...csv.stats.mean], std: [...csv.stats.std] } } : {}),
  };
}

/** The weights cover exactly the state dict, each of its size (the caller loaded them strictly; this keeps exporters safe). */
function checkWeights(state: readonly StateEntry[], weights: ReadonlyMap<string, Float32Array>): void {
  const wrong = state.filter((e) => weights.get(e.key)?.length !== e.shape.reduce((a, b) => a * b, 1)).map((e) => e.key);
  const extra = [...weights.keys()].filter((k) => !state.some((e) => e.key === k));
  if (wrong.length || extra.length)
    throw new NetloomError('NL_CHECKPOINT_MISMATCH',
      `the weights do not fit the model:${wrong.length ? ` missing or of the wrong size: ${wrong.join(', ')};` : ''}${extra.length ? ` not in the model: ${extra.join(', ')}` : ''}`,
      'Export with the weights trained for this project (netloom train --save), or without weights.');
}
