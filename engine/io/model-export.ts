/**
 * What every model exporter (ONNX, PyTorch code) is given: the project, its analysis (topological
 * order, resolved parameters, shapes) and the state dict's entries in Netloom's order (the order of
 * session.program.params, which is model.state_dict()'s order in the exported model.py).
 */
import type { Analysis } from '../graph/analyze.js';
import type { ProjectDoc } from '../graph/document.js';

export interface StateEntry {
  key: string;
  shape: readonly number[];
  /** 'param' is learnable (in model.parameters()), 'buffer' is state (BatchNorm's running stats) */
  kind: 'param' | 'buffer';
  dtype: 'f32' | 'i64';
}

export interface ModelExportInput {
  project: ProjectDoc;
  analysis: Analysis;
  state: readonly StateEntry[];
  /** weights by state-dict key; absent: exporters that need values (ONNX) refuse */
  weights?: ReadonlyMap<string, Float32Array>;
  /** CSV projects: the training split's per-feature statistics features are standardised with */
  standardize?: { columns: string[]; mean: number[]; std: number[] };
}
