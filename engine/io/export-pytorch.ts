/** PyTorch code export: SEAM STUB, replaced by the PyTorch-code work of issue 12. */
import { NetloomError } from '../errors.js';
import type { ModelExportInput } from './model-export.js';

/** model.py, train.py and README.md for the project: relative file name -> content. */
export function exportPytorchCode(input: ModelExportInput): Record<string, string> {
  void input;
  throw new NetloomError('NL_UNSUPPORTED', 'PyTorch code export is not built yet', 'Export safetensors.');
}
