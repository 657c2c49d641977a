/** ONNX export: SEAM STUB, replaced by the ONNX work of issue 12. */
import { NetloomError } from '../errors.js';
import type { ModelExportInput } from './model-export.js';

/** The model as an ONNX ModelProto (opset 17, dynamic batch dimension), with its weights as initialisers. */
export function exportOnnx(input: ModelExportInput): Uint8Array {
  void input;
  throw new NetloomError('NL_UNSUPPORTED', 'ONNX export is not built yet', 'Export safetensors.');
}
