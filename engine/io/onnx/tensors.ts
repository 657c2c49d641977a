/**
 * TensorProto <-> typed arrays. Netloom writes float32 and int64 tensors as raw_data (little-endian,
 * as the schema requires); it reads float32, float64, int32 and int64 tensors from raw_data or the
 * typed fields, and refuses external data (the weights live in another file) and other types by name.
 */
import { NetloomError } from '../../errors.js';
import { MAX_CHECKPOINT_BYTES } from '../safetensors.js';
import { REEXPORT_HINT } from './codec.js';
import { DataType, type TensorProto } from './schema.js';

/** A tensor's values as float64 (exact for float32, int32 and the int64 values a shape holds). */
export interface DecodedTensor {
  dims: number[];
  data: Float64Array;
  /** INT64 or INT32: integer state (num_batches_tracked) or a shape */
  integer: boolean;
}

const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL',
  10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};
const BYTES: Partial<Record<number, number>> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT32]: 4, [DataType.INT64]: 8 };

export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: raw };
}

export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(Math.round(values[i])), true);
  return { name, dims: [...dims], data_type: DataType.INT64, raw_data: raw };
}

function bad(source: string, message: string, hint = REEXPORT_HINT): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`, hint);
}

/** The element count of `dims`, refusing negative, fractional or oversized shapes. */
function elementCount(t: TensorProto, what: string, source: string): number {
  let n = 1;
  for (const d of t.dims ?? []) {
    if (!Number.isSafeInteger(d) || d < 0) throw bad(source, `${what} has the impossible dimension ${d}`);
    n *= d;
    if (n > MAX_CHECKPOINT_BYTES / 4) throw bad(source, `${what} is larger than a checkpoint Netloom reads (shape [${(t.dims ?? []).join(', ')}])`);
  }
  return n;
}

function fromRaw(raw: Uint8Array, type: number, n: number): Float64Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = type === DataType.FLOAT ? view.getFloat32(i * 4, true)
      : type === DataType.DOUBLE ? view.getFloat64(i * 8, true)
        : type === DataType.INT32 ? view.getInt32(i * 4, true)
          : Number(view.getBigInt64(i * 8, true));
  return out;
}

/** The values of an initialiser or Constant tensor; `what` names it in messages ("initialiser fc1.weight"). */
export function decodeTensor(t: TensorProto, what: string, source: string): DecodedTensor {
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0)
    throw bad(source, `${what} keeps its values in an external data file, which Netloom does not read`,
      'Save the model with its weights inside: onnx.save_model(model, "model.onnx", save_as_external_data=False) (models under 2 GB).');
  const type = t.data_type ?? 0;
  const width = BYTES[type];
  if (width === undefined) throw bad(source, `${what} holds ${TYPE_NAMES[type] ?? `data type ${type}`} values; Netloom reads FLOAT, DOUBLE, INT32 and INT64 tensors`, 'Convert the model to float32 before exporting it.');
  const n = elementCount(t, what, source);
  const dims = [...(t.dims ?? [])];
  const integer = type === DataType.INT32 || type === DataType.INT64;
  if (t.raw_data && t.raw_data.length > 0) {
    if (t.raw_data.length !== n * width) throw bad(source, `${what} has ${t.raw_data.length} bytes of data, but its shape [${dims.join(', ')}] needs ${n * width}`);
    return { dims, data: fromRaw(t.raw_data, type, n), integer };
  }
  const typed = type === DataType.FLOAT ? t.float_data : type === DataType.DOUBLE ? t.double_data : type === DataType.INT32 ? t.int32_data : t.int64_data;
  const values = typed ?? [];
  if (values.length !== n) throw bad(source, `${what} has ${values.length} values, but its shape [${dims.join(', ')}] needs ${n}`);
  return { dims, data: Float64Array.from(values), integer };
}
