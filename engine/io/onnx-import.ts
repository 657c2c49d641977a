/** ONNX import onto the canvas: SEAM STUB, replaced by the ONNX work of issue 12. */
import { NetloomError } from '../errors.js';
import type { ProjectDoc } from '../graph/document.js';
import type { TensorF32 } from './safetensors.js';

export interface OnnxImport {
  /** a project with the ONNX graph's layers, laid out, node names from the initialisers' prefixes */
  project: ProjectDoc;
  /** its weights as a state dict keyed `<node name>.<param>` */
  tensors: Record<string, TensorF32>;
  /** what the user should know (a folded BatchNorm, an input shape assumed) */
  notes: string[];
}

/** Reads an ONNX model and turns it into a project; unsupported operators are refused, each by name and node. */
export async function importOnnx(path: string): Promise<OnnxImport> {
  void path;
  throw new NetloomError('NL_UNSUPPORTED', 'ONNX import is not built yet', 'Build the model on the canvas.');
}
