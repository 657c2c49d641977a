/** The ModelExportInput of a project: SEAM STUB until the checkpoint/CLI work of issue 12 lands it. */
import type { ProjectDoc } from '../graph/document.js';
import type { ModelExportInput } from '../io/model-export.js';

/**
 * Analyses and compiles `project` (read from `projectPath`, which relative dataset paths resolve
 * against) into what exporters need: state-dict entries in Netloom's order, the given weights (or none),
 * and for a CSV project the training split's standardisation.
 */
export async function buildExportInput(project: ProjectDoc, projectPath: string, o: { weights?: ReadonlyMap<string, Float32Array> } = {}): Promise<ModelExportInput> {
  void project;
  void projectPath;
  void o;
  throw new Error('buildExportInput is not built yet');
}
