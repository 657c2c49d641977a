/**
 * PyTorch's torch.save format: SEAM STUB, replaced by the torch-io work of issue 12.
 */
import { NetloomError } from '../errors.js';
import type { PyValue } from './pyvalue.js';

const notYet = () => new NetloomError('NL_UNSUPPORTED', 'PyTorch .pt files are not read or written yet', 'Use safetensors.');

/** Reads a torch.save file (zip, or the legacy pickle format) through a restricted unpickler. */
export async function readTorchFile(path: string): Promise<PyValue> {
  void path;
  throw notYet();
}

/** torch.save's zip format for `root` (what torch.load(f, weights_only=True) reads). */
export function encodeTorchFile(root: PyValue, archiveName = 'archive'): Uint8Array {
  void root;
  void archiveName;
  throw notYet();
}

/** Writes encodeTorchFile(root) to `path` atomically. */
export async function writeTorchFile(path: string, root: PyValue): Promise<void> {
  void path;
  void root;
  throw notYet();
}
