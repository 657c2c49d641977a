/**
 * PyTorch's torch.save format, read and written without Python and without running anything a file
 * says: the zip format of PyTorch >= 1.6 (torch-zip.ts) and the legacy format before it
 * (torch-legacy.ts), both decoded by the restricted unpickler (pickle-read.ts) with torch's allowlist
 * (torch-pickle.ts). What the value means (a state dict, a checkpoint dict) is torch-state.ts's business.
 *
 * The zip format (torch/serialization.py, _save):
 *   <archive>/data.pkl      the pickled object; a storage is the persistent id
 *                           ('storage', torch.FloatStorage, key, location, numel)
 *   <archive>/data/<key>    each storage's bytes, little-endian
 *   <archive>/version       "3"; <archive>/byteorder "little" (newer torch writes it; absent means little)
 */
import { NetloomError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { CONVERT_HINT } from './checkpoint-formats.js';
import { checkTreeSize, describePickled, unpickle, walkPickled, type PickleValue } from './pickle-read.js';
import { PickleWriter } from './pickle-write.js';
import type { PyTensor, PyValue, TorchDtype } from './pyvalue.js';
import { readNamedFile } from './read-file.js';
import { MAX_CHECKPOINT_BYTES } from './safetensors.js';
import { readLegacyTorch } from './torch-legacy.js';
import { STORAGE_CLASS, TorchPickle, type StorageId, type StorageRef } from './torch-pickle.js';
import { readZip, writeZip } from './torch-zip.js';

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const RESAVE = 'The file is damaged or was not written by torch.save. Save it again with torch.save(model.state_dict(), path).';

/** The object of a torch.save zip archive. */
function readZipTorch(bytes: Uint8Array, source: string): PyValue {
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name) || name === 'data.pkl');
  if (pkl === undefined)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: this zip archive is not a torch.save checkpoint: it has no data.pkl entry`, CONVERT_HINT['pytorch-zip']);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined && new TextDecoder().decode(byteorder).trim() !== 'little')
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: the file was saved on a big-endian machine`, 'Load it in PyTorch and save it again with torch.save(model.state_dict(), path) on a little-endian machine (x86, ARM).');
  const storages = new Map<string, StorageRef>();
  const storage = (id: StorageId): StorageRef => {
    // a storage view (the legacy format's view_metadata) has no place in a zip's persistent id
    if (id.view !== null) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: data.pkl's persistent id for storage ${id.key} has a sixth field, which the zip format never writes`, RESAVE);
    const seen = storages.get(`${id.key}/${id.dtype}`);
    if (seen !== undefined) return seen;
    const data = entries.get(`${prefix}data/${id.key}`);
    if (data === undefined) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: data.pkl points at storage ${id.key}, which the archive does not have`, RESAVE);
    const ref: StorageRef = { key: id.key, dtype: id.dtype, numel: id.numel, bytes: data };
    storages.set(`${id.key}/${id.dtype}`, ref);
    return ref;
  };
  const torch = new TorchPickle(source, storage);
  const { value, end } = unpickle(entries.get(pkl) as Uint8Array, torch.options());
  if (end !== (entries.get(pkl) as Uint8Array).length) throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: data.pkl has bytes after its end (STOP)`, RESAVE);
  torch.finish();
  return value as PyValue;
}

/**
 * A value is only tensors, dicts, lists, tuples and scalars (no storage or class left bare), with no
 * cycle, at most PICKLE_LIMITS.nesting deep and PICKLE_LIMITS.treeValues in all: safe for any consumer
 * to recurse through.
 */
function checkPlain(value: PickleValue, source: string): PyValue {
  walkPickled(value, source, (v, path) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'opaque')
      throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${path} is ${describePickled(v)}, not a tensor or a plain value`, RESAVE);
  });
  checkTreeSize(value, source);
  return value as PyValue;
}

/** The object of a torch.save file's bytes (zip or legacy); `source` names the file in messages. */
export function decodeTorchFile(bytes: Uint8Array, source: string): PyValue {
  const zip = bytes.length >= 4 && ZIP_SIGNATURE.every((b, i) => bytes[i] === b);
  try {
    return checkPlain(zip ? readZipTorch(bytes, source) : readLegacyTorch(bytes, source), source);
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    // every check above throws a NetloomError; this is the net under them (an allocation that fails, a
    // limit of the JS engine), so that a file still never ends as an uncaught exception
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: could not be read as a torch.save file (${(e as Error).message})`, RESAVE, { cause: e });
  }
}

/** Reads a torch.save file (zip, or the legacy pickle format) through a restricted unpickler. */
export async function readTorchFile(path: string): Promise<PyValue> {
  const bytes = await readNamedFile(path, { maxBytes: MAX_CHECKPOINT_BYTES, what: 'checkpoint', tooLarge: 'NL_BAD_CHECKPOINT', hint: 'Choose the .pt/.pth file of a state dict, not another kind of file.',
    notFound: 'checkpoint file not found', ioHint: 'Check the path: a checkpoint is in the file it was saved to.' });
  return decodeTorchFile(bytes, path);
}

const badArgument = (message: string) => new NetloomError('NL_INVALID_ARGUMENT', message, 'This is a bug in the caller building the checkpoint; please report it.');

/** A tensor's values as little-endian storage bytes of its dtype. */
function storageBytes(t: PyTensor): Uint8Array {
  const n = t.data.length;
  const writers: Partial<Record<TorchDtype, [number, (v: DataView, i: number, x: number) => void]>> = {
    float32: [4, (v, i, x) => v.setFloat32(i * 4, x, true)],
    float64: [8, (v, i, x) => v.setFloat64(i * 8, x, true)],
    int64: [8, (v, i, x) => v.setBigInt64(i * 8, BigInt(x), true)],
    int32: [4, (v, i, x) => v.setInt32(i * 4, x, true)],
    int16: [2, (v, i, x) => v.setInt16(i * 2, x, true)],
    int8: [1, (v, i, x) => v.setInt8(i, x)],
    uint8: [1, (v, i, x) => v.setUint8(i, x)],
    bool: [1, (v, i, x) => v.setUint8(i, x !== 0 ? 1 : 0)],
  };
  const w = writers[t.dtype];
  if (w === undefined) throw badArgument(`Netloom does not write ${t.dtype} tensors to .pt files`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64' && !t.data.every((x) => Number.isInteger(x))) throw badArgument(`a ${t.dtype} tensor holds non-integer values`);
  const out = new Uint8Array(n * w[0]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) w[1](view, i, t.data[i]);
  return out;
}

/** torch.save's zip format for `root` (what torch.load(f, weights_only=True) reads). */
export function encodeTorchFile(root: PyValue, archiveName = 'archive'): Uint8Array {
  const storages: Uint8Array[] = [];
  const keys = new Map<PyTensor, number>(); // one storage per tensor object, shared where a tensor repeats
  const writer = new PickleWriter((w, t) => {
    const count = t.shape.reduce((n, d) => n * d, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== t.data.length) throw badArgument(`a tensor has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    let key = keys.get(t);
    if (key === undefined) {
      keys.set(t, (key = storages.length));
      storages.push(storageBytes(t));
    }
    if (t.parameter) {
      // torch.nn.Parameter(tensor): _rebuild_parameter(tensor, requires_grad, backward_hooks)
      w.global('torch._utils', '_rebuild_parameter');
      w.mark();
    }
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.mark(); // the persistent id
    w.string('storage');
    w.global('torch', STORAGE_CLASS[t.dtype]);
    w.string(String(key));
    w.string('cpu');
    w.int(BigInt(count));
    w.tuple();
    w.binpersid();
    w.int(0n); // storage offset
    w.value({ kind: 'tuple', items: t.shape.map(BigInt) });
    w.value({ kind: 'tuple', items: contiguousStride(t.shape).map(BigInt) });
    w.value(false); // requires_grad
    w.emptyOrderedDict(); // backward_hooks
    w.tuple();
    w.reduce();
    if (t.parameter) {
      w.value(true);
      w.emptyOrderedDict();
      w.tuple();
      w.reduce();
    }
  });
  writer.value(root);
  const pkl = writer.finish();
  const total = storages.reduce((n, s) => n + s.length, pkl.length);
  if (total > MAX_CHECKPOINT_BYTES) throw badArgument(`the checkpoint would hold ${total} bytes, more than a checkpoint may (${MAX_CHECKPOINT_BYTES})`);
  const text = (s: string) => new TextEncoder().encode(s);
  return writeZip([
    [`${archiveName}/data.pkl`, pkl],
    [`${archiveName}/byteorder`, text('little')],
    ...storages.map((bytes, i) => [`${archiveName}/data/${i}`, bytes] as const),
    [`${archiveName}/version`, text('3\n')],
  ]);
}

/** Row-major strides of `shape` (in elements). */
function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) stride[i] = stride[i + 1] * shape[i + 1];
  return stride;
}

/** Writes encodeTorchFile(root) to `path` atomically. */
export async function writeTorchFile(path: string, root: PyValue): Promise<void> {
  await writeFileAtomic(path, encodeTorchFile(root));
}
