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

/** What `netloom export --format` and the app's File ▸ Export write. */
export type ExportFormat = 'safetensors' | 'pt' | 'onnx' | 'pytorch';

/**
 * Writes `input` in `format` at `out` (a file; a folder for 'pytorch'), every file atomically; returns the
 * paths written. SEAM STUB until the checkpoint/CLI work of issue 12 lands it.
 */
export async function writeModelExport(format: ExportFormat, input: ModelExportInput, out: string): Promise<string[]> {
  void format;
  void input;
  void out;
  throw new Error('writeModelExport is not built yet');
}
