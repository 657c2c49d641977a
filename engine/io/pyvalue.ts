/**
 * The Python values a PyTorch checkpoint holds, as the restricted unpickler (torch-file.ts) yields
 * them and the pickler writes them. Only what a state dict, torch.save's usual checkpoint dict and
 * torch.optim's state_dict() need: no objects, no callables, nothing that could run code.
 *
 * Python int is a bigint (so `0` and `0.0`, and the optimizer's integer state keys, stay apart);
 * Python float is a number.
 */

/** torch dtypes a storage may hold (torch.save's storage classes: FloatStorage, LongStorage, ...). */
export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor, contiguous and row-major, its values widened to float64-exact JS numbers where read. */
export interface PyTensor {
  kind: 'tensor';
  dtype: TorchDtype;
  shape: number[];
  /** the values in row-major order: float32 for every float dtype read, exact integers for int dtypes */
  data: Float32Array;
  /** torch.nn.Parameter rather than a plain tensor (torch.save of a whole model's parameters) */
  parameter?: boolean;
}

export interface PyTuple {
  kind: 'tuple';
  items: PyValue[];
}

/** dict or collections.OrderedDict; keys keep their insertion order. */
export interface PyDict {
  kind: 'dict';
  ordered: boolean;
  entries: Map<PyKey, PyValue>;
  /** an OrderedDict's instance attributes (state_dict()'s `_metadata`), when it has any */
  attributes?: Map<string, PyValue>;
}

export type PyKey = string | bigint;

export type PyValue = null | boolean | bigint | number | string | PyValue[] | PyTuple | PyDict | PyTensor;

export const pyDict = (entries: Iterable<[PyKey, PyValue]>, ordered = false): PyDict => ({ kind: 'dict', ordered, entries: new Map(entries) });
export const pyTuple = (...items: PyValue[]): PyTuple => ({ kind: 'tuple', items });
export const isPyDict = (v: PyValue | undefined): v is PyDict => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'dict';
export const isPyTensor = (v: PyValue | undefined): v is PyTensor => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'tensor';
