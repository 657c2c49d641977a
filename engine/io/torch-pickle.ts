/**
 * What torch.save's pickle may name, and how its tensors are rebuilt: the allowlist the restricted
 * unpickler (pickle-read.ts) is given, shared by the zip (torch-file.ts) and legacy (torch-legacy.ts)
 * readers. The globals are the ones torch.load(weights_only=True) needs for a state dict
 * (torch/_weights_only_unpickler.py): collections.OrderedDict, torch._utils' tensor and parameter
 * rebuilders, and the typed storage classes torch's persistent ids name. Nothing else is resolved.
 *
 * A tensor is rebuilt in two steps because the legacy format stores the bytes after the pickle: during
 * unpickling _rebuild_tensor_v2 records (storage, offset, size, stride) and checks what it can; finish()
 * then gathers each tensor from its storage into row-major float32 (handling views, transposes and
 * storages shared by several tensors) once every storage's bytes are known.
 */
import { NetloomError } from '../errors.js';
import { describePickled, type PickleValue, type PyOpaque, type UnpickleOptions } from './pickle-read.js';
import { pyDict, type PyKey, type PyTensor, type PyValue, type TorchDtype } from './pyvalue.js';
import { MAX_CHECKPOINT_BYTES } from './safetensors.js';

/** torch's typed storage classes and what they hold (element size in bytes). */
export const STORAGE_DTYPES: Readonly<Record<string, { dtype: TorchDtype; size: number }>> = {
  FloatStorage: { dtype: 'float32', size: 4 },
  DoubleStorage: { dtype: 'float64', size: 8 },
  HalfStorage: { dtype: 'float16', size: 2 },
  BFloat16Storage: { dtype: 'bfloat16', size: 2 },
  LongStorage: { dtype: 'int64', size: 8 },
  IntStorage: { dtype: 'int32', size: 4 },
  ShortStorage: { dtype: 'int16', size: 2 },
  CharStorage: { dtype: 'int8', size: 1 },
  ByteStorage: { dtype: 'uint8', size: 1 },
  BoolStorage: { dtype: 'bool', size: 1 },
};

export const STORAGE_CLASS: Readonly<Record<TorchDtype, string>> = Object.fromEntries(
  Object.entries(STORAGE_DTYPES).map(([cls, d]) => [d.dtype, cls]),
) as Record<TorchDtype, string>;

/**
 * The most values all tensors of one file may hold together: as many float32 as the largest
 * checkpoint holds (MAX_CHECKPOINT_BYTES). A tensor whose strides repeat one stored value (stride 0)
 * can claim far more values than its file has bytes; this keeps such a file from filling memory.
 */
export const MAX_TENSOR_VALUES = MAX_CHECKPOINT_BYTES / 4;
// Stryker disable next-line all: only the fast path of gather depends on it, and both paths give the same values
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A storage a persistent id names; its bytes are known at once (zip) or after the pickle (legacy). */
export interface StorageRef {
  key: string;
  dtype: TorchDtype;
  /** values the persistent id says it holds */
  numel: number;
  bytes?: Uint8Array;
}

/** The fields of a persistent id ('storage', StorageClass, key, location, numel[, view_metadata]). */
export interface StorageId {
  dtype: TorchDtype;
  key: string;
  numel: number;
  /** legacy format only: (view_key, offset, size) of a view into the storage, or null */
  view: PickleValue;
}

const MODEL_HINT = 'This file holds a whole pickled model (torch.save(model)), which only Python with that class\'s code can load. Save the weights instead: torch.save(model.state_dict(), path).';
const GLOBAL_HINT =
  'Do not load this file in Python either unless you trust it: a pickle that names such a global runs it when loaded. If you saved it yourself, save the weights instead: torch.save(model.state_dict(), path).';

interface Pending {
  tensor: PyTensor;
  storage: StorageRef;
  offset: number;
  stride: number[];
}

const isTuple = (v: PickleValue): v is { kind: 'tuple'; items: PyValue[] } => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'tuple';
const isOpaque = (v: PickleValue): v is PyOpaque => typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'opaque';

/** The unpickler options and tensor rebuilding for one torch.save file. */
export class TorchPickle {
  private readonly pending: Pending[] = [];
  private values = 0;

  /** `storage`: the StorageRef a persistent id stands for (the reader looks its bytes up by key). */
  constructor(readonly source: string, private readonly storage: (id: StorageId) => StorageRef) {}

  bad(message: string, hint = 'The file is damaged or was not written by torch.save. Save it again with torch.save(model.state_dict(), path).'): NetloomError {
    return new NetloomError('NL_BAD_CHECKPOINT', `${this.source}: ${message}`, hint);
  }

  options(): UnpickleOptions {
    return {
      source: this.source,
      global: (module, name) => this.global(module, name),
      persistentLoad: (pid) => this.persistentLoad(pid),
      refusedHint: (module) => (module === '__main__' || module.startsWith('torch.nn.') ? MODEL_HINT : GLOBAL_HINT),
    };
  }

  private global(module: string, name: string): PyOpaque | undefined {
    const what = `${module}.${name}`;
    if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return { kind: 'opaque', what, payload: STORAGE_DTYPES[name] };
    if (module === 'collections' && name === 'OrderedDict') return { kind: 'opaque', what, call: (args) => this.orderedDict(args) };
    if (module !== 'torch._utils') return undefined;
    if (name === '_rebuild_tensor_v2') return { kind: 'opaque', what, call: (args) => this.rebuildTensor(args) };
    if (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state') return { kind: 'opaque', what, call: (args) => this.rebuildParameter(what, args) };
    return undefined;
  }

  private orderedDict(args: PickleValue[]): PickleValue {
    const d = pyDict([], true);
    if (args.length === 0) return d;
    const items = args[0];
    if (args.length > 1 || !Array.isArray(items)) throw this.bad('collections.OrderedDict is called with arguments other than a list of pairs');
    for (const pair of items) {
      if (!isTuple(pair) || pair.items.length !== 2) throw this.bad('collections.OrderedDict is given an item that is not a (key, value) pair');
      const k = pair.items[0];
      if (typeof k !== 'string' && typeof k !== 'bigint') throw this.bad(`collections.OrderedDict is given a key that is ${describePickled(k)}`);
      d.entries.set(k as PyKey, pair.items[1]);
    }
    return d;
  }

  private persistentLoad(pid: PickleValue): PickleValue {
    if (!isTuple(pid) || pid.items[0] !== 'storage' || (pid.items.length !== 5 && pid.items.length !== 6))
      throw this.bad(`a persistent id is ${describePickled(pid)}, not ('storage', class, key, location, size)`);
    const [, cls, key, location, numel, view] = pid.items as PickleValue[];
    if (!isOpaque(cls) || cls.payload === undefined || cls.call !== undefined) throw this.bad(`a storage's class is ${describePickled(cls)}, not one of torch's storage classes`);
    if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'bigint' || numel < 0n || numel > BigInt(Number.MAX_SAFE_INTEGER))
      throw this.bad('a persistent id has a key, location or size of the wrong kind');
    const ref = this.storage({ dtype: (cls.payload as { dtype: TorchDtype }).dtype, key, numel: Number(numel), view: view ?? null });
    return { kind: 'opaque', what: `storage ${key}`, payload: ref };
  }

  private int(v: PickleValue, what: string): number {
    if (typeof v !== 'bigint' || v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.bad(`torch._utils._rebuild_tensor_v2: ${what} is ${describePickled(v)}, not a size`);
    return Number(v);
  }

  private ints(v: PickleValue, what: string): number[] {
    if (!isTuple(v) && !Array.isArray(v)) throw this.bad(`torch._utils._rebuild_tensor_v2: ${what} is ${describePickled(v)}, not a tuple`);
    const items = isTuple(v) ? v.items : (v as PickleValue[]);
    if (items.length > 64) throw this.bad(`torch._utils._rebuild_tensor_v2: ${what} has ${items.length} dimensions`);
    return items.map((x) => this.int(x, `an entry of ${what}`));
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
  private rebuildTensor(args: PickleValue[]): PickleValue {
    if (args.length < 6 || args.length > 7) throw this.bad(`torch._utils._rebuild_tensor_v2 is called with ${args.length} arguments instead of 6 or 7`);
    const storage = args[0];
    if (!isOpaque(storage) || !storage.what.startsWith('storage ')) throw this.bad(`torch._utils._rebuild_tensor_v2 is given ${describePickled(storage)} instead of a storage`);
    const ref = storage.payload as StorageRef;
    const offset = this.int(args[1], 'the storage offset');
    const shape = this.ints(args[2], 'the size');
    const stride = this.ints(args[3], 'the stride');
    if (stride.length !== shape.length) throw this.bad(`torch._utils._rebuild_tensor_v2: size [${shape.join(', ')}] and stride [${stride.join(', ')}] differ in length`);
    const count = shape.reduce((n, d) => n * d, 1);
    this.values += count;
    if (this.values > MAX_TENSOR_VALUES) throw this.bad(`the tensors hold more than ${MAX_TENSOR_VALUES} values in all, more than Netloom reads`, 'Netloom trains networks of at most a few hundred million parameters.');
    const extent = count === 0 ? 0 : offset + 1 + shape.reduce((n, d, i) => n + (d - 1) * stride[i], 0);
    if (extent > ref.numel) throw this.bad(`a tensor of size [${shape.join(', ')}] at offset ${offset} needs ${extent} values of storage ${ref.key}, which holds ${ref.numel}`);
    const tensor: PyTensor = { kind: 'tensor', dtype: ref.dtype, shape, data: new Float32Array(0) };
    this.pending.push({ tensor, storage: ref, offset, stride });
    return tensor;
  }

  /** _rebuild_parameter(data, requires_grad, backward_hooks[, state]): the tensor, marked a Parameter. */
  private rebuildParameter(what: string, args: PickleValue[]): PickleValue {
    const t = args[0];
    if (args.length < 3 || args.length > 4 || typeof t !== 'object' || t === null || Array.isArray(t) || t.kind !== 'tensor') throw this.bad(`${what} is called with ${describePickled(t)} instead of a tensor`);
    t.parameter = true;
    return t;
  }

  /** Gathers every tensor from its storage (every storage's bytes must be set by now). */
  finish(): void {
    for (const p of this.pending) {
      const bytes = p.storage.bytes;
      if (bytes === undefined) throw this.bad(`the file has no data for storage ${p.storage.key}`);
      const size = STORAGE_DTYPES[STORAGE_CLASS[p.storage.dtype]].size;
      if (bytes.length < p.storage.numel * size) throw this.bad(`storage ${p.storage.key} holds ${bytes.length} bytes, shorter than the ${p.storage.numel} ${p.storage.dtype} values (${p.storage.numel * size} bytes) its tensors use`);
      p.tensor.data = gather(bytes, p.storage.dtype, p.tensor.shape, p.stride, p.offset);
    }
  }
}

/** A reader of element i of little-endian storage bytes, widened to a JS number. */
function elementReader(bytes: Uint8Array, dtype: TorchDtype): (i: number) => number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32': return (i) => v.getFloat32(i * 4, true);
    case 'float64': return (i) => v.getFloat64(i * 8, true);
    case 'float16': return (i) => halfToFloat(v.getUint16(i * 2, true));
    case 'bfloat16': {
      const f = new DataView(new ArrayBuffer(4));
      return (i) => {
        f.setUint32(0, v.getUint16(i * 2, true) << 16, false);
        return f.getFloat32(0, false);
      };
    }
    // float32 holds integers exactly up to 2^24; beyond, the nearest float32 (PyTensor's data is float32)
    case 'int64': return (i) => Number(v.getBigInt64(i * 8, true));
    case 'int32': return (i) => v.getInt32(i * 4, true);
    case 'int16': return (i) => v.getInt16(i * 2, true);
    case 'int8': return (i) => v.getInt8(i);
    case 'uint8': return (i) => v.getUint8(i);
    case 'bool': return (i) => (v.getUint8(i) !== 0 ? 1 : 0);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The row-major values of the view (shape, stride, offset) of a storage. */
function gather(bytes: Uint8Array, dtype: TorchDtype, shape: number[], stride: number[], offset: number): Float32Array {
  const count = shape.reduce((n, d) => n * d, 1);
  const contiguous = shape.every((d, i) => d === 1 || stride[i] === shape.slice(i + 1).reduce((n, x) => n * x, 1));
  const at0 = bytes.byteOffset + offset * 4;
  // the common case, a contiguous aligned float32 tensor: one copy instead of a read per value
  if (dtype === 'float32' && contiguous && LITTLE_ENDIAN && at0 % 4 === 0) return new Float32Array(bytes.buffer, at0, count).slice();
  const out = new Float32Array(count);
  if (count === 0) return out;
  const read = elementReader(bytes, dtype);
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let k = 0; k < count; k++) {
    out[k] = read(at);
    // odometer over the dimensions, last fastest
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        at += stride[d];
        break;
      }
      at -= (shape[d] - 1) * stride[d];
      index[d] = 0;
    }
  }
  return out;
}
