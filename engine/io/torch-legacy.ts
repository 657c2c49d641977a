/**
 * torch.save's legacy format (PyTorch before 1.6, or `_use_new_zipfile_serialization=False`): five
 * pickles in a row, then the storages' bytes (torch/serialization.py, _legacy_save):
 *
 *   pickle: the magic number 0x1950a86a20f9469cfc6c   pickle: the protocol version, 1001
 *   pickle: sys_info {protocol_version, little_endian, type_sizes}
 *   pickle: the object; a storage is the persistent id ('storage', class, root_key, location, numel, view_metadata)
 *   pickle: the list of storage keys, in the order their bytes follow
 *   per key: int64 little-endian element count, then count * element size bytes
 *
 * Every pickle goes through the restricted unpickler; every length is checked against the file.
 */
import { NetloomError } from '../errors.js';
import { CONVERT_HINT } from './checkpoint-formats.js';
import { describePickled, unpickle, type PickleValue, type UnpickleOptions } from './pickle-read.js';
import { STORAGE_CLASS, STORAGE_DTYPES, TorchPickle, type StorageId, type StorageRef } from './torch-pickle.js';
import { isPyDict, type PyValue } from './pyvalue.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001n;

/** Views of a root storage (view_metadata), bound to their root once its bytes are read. */
interface View {
  ref: StorageRef;
  root: StorageRef;
  offset: number;
}

/** Plain pickles in the header hold no globals at all. */
const plain = (source: string): UnpickleOptions => ({ source, global: () => undefined });

/** Reads a legacy torch.save file's object (its tensors filled in). */
export function readLegacyTorch(bytes: Uint8Array, source: string): PyValue {
  const bad = (message: string) => new NetloomError('NL_BAD_CHECKPOINT', `${source}: ${message}`,
    'The file is damaged or was not written by torch.save. Save it again with torch.save(model.state_dict(), path).');
  const magic = unpickle(bytes, plain(source));
  if (magic.value !== MAGIC)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: this is a Python pickle of ${describePickled(magic.value)}, not a file torch.save wrote`, CONVERT_HINT['pytorch-pickle']);
  const protocol = unpickle(bytes, plain(source), magic.end);
  if (protocol.value !== PROTOCOL_VERSION) throw bad(`the legacy torch.save format version is ${describePickled(protocol.value)}, not 1001`);
  const sysInfo = unpickle(bytes, plain(source), protocol.end);
  if (!isPyDict(sysInfo.value as PyValue)) throw bad('the legacy header holds no sys_info dict');
  if ((sysInfo.value as { entries: Map<string, PyValue> }).entries.get('little_endian') !== true)
    throw new NetloomError('NL_BAD_CHECKPOINT', `${source}: the file was saved on a big-endian machine`, 'Load it in PyTorch and save it again with torch.save(model.state_dict(), path) on a little-endian machine (x86, ARM).');

  const roots = new Map<string, StorageRef>();
  const views: View[] = [];
  const storage = (id: StorageId): StorageRef => {
    let root = roots.get(id.key);
    if (root === undefined) roots.set(id.key, (root = { key: id.key, dtype: id.dtype, numel: id.numel }));
    else if (root.dtype !== id.dtype) throw bad(`storage ${id.key} is named as both ${root.dtype} and ${id.dtype}`);
    if (id.view === null) return root;
    const v = id.view as PickleValue;
    const items = typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'tuple' ? v.items : [];
    const [viewKey, offset, size] = items;
    if (items.length !== 3 || typeof viewKey !== 'string' || typeof offset !== 'bigint' || typeof size !== 'bigint' || offset < 0n || size < 0n || offset + size > BigInt(id.numel))
      throw bad(`storage ${id.key} has a view that is not (key, offset, size) inside it`);
    const ref: StorageRef = { key: viewKey, dtype: id.dtype, numel: Number(size) };
    views.push({ ref, root, offset: Number(offset) });
    return ref;
  };
  const torch = new TorchPickle(source, storage);
  const main = unpickle(bytes, torch.options(), sysInfo.end);
  const keyList = unpickle(bytes, plain(source), main.end);
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string')) throw bad('the list of storage keys after the pickle is not a list of strings');

  let at = keyList.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keyList.value as string[]) {
    const root = roots.get(key);
    if (root === undefined) throw bad(`the file stores bytes for storage ${key}, which the pickle never names`);
    if (at + 8 > bytes.length) throw bad(`the file is truncated: storage ${key}'s length is missing`);
    const count = view.getBigInt64(at, true);
    const size = STORAGE_DTYPES[STORAGE_CLASS[root.dtype]].size;
    if (count < 0n || count * BigInt(size) > BigInt(bytes.length - at - 8)) throw bad(`the file is truncated: storage ${key} says it holds ${count} values, more than the file has left`);
    root.bytes = bytes.subarray(at + 8, at + 8 + Number(count) * size);
    at += 8 + Number(count) * size;
  }
  for (const root of roots.values()) if (root.bytes === undefined) throw bad(`the pickle points at storage ${root.key}, which the file does not have`);
  for (const v of views) {
    const size = STORAGE_DTYPES[STORAGE_CLASS[v.root.dtype]].size;
    v.ref.bytes = (v.root.bytes as Uint8Array).subarray(v.offset * size, (v.offset + v.ref.numel) * size);
  }
  torch.finish();
  return main.value as PyValue;
}
