/** What Netloom's ONNX files agree on, for the exporter, the importer and the checkpoint reader. */

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** The graph's input and output names (what onnxruntime's session.run is given and returns). */
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';
/** metadata_props key: JSON {state-dict key: count} of the int64 scalars (num_batches_tracked) the graph does not use */
export const NUM_BATCHES_KEY = 'netloom.num_batches_tracked';
/** metadata_props key of a CSV project's standardisation (layout.md item 3) */
export const STANDARDIZE_KEY = 'netloom.standardize';
/** the built-in dataset a model was trained on (a name such as "mnist"), for the import to choose it again */
export const DATASET_KEY = 'netloom.dataset';
