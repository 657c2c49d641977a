/**
 * The one way the engine reads and writes checkpoint files. A file's format is told from its first
 * bytes (checkpoint-formats.ts), then its reader decodes it into a state dict: tensors by key plus
 * string metadata. Netloom reads safetensors and PyTorch's torch.save files (zip and legacy, through
 * a restricted unpickler: torch-file.ts, torch-state.ts) and an ONNX model's initialisers (onnx/state-dict.ts).
 * It writes safetensors, or torch.save's zip format for a `.pt`/`.pth` path. A reader for another format
 * goes into READERS and the rest of the engine needs no change.
 *
 * What the state dict means (keys matching a model, Netloom's metadata, optimizer state) is
 * train/checkpoints.ts's business; this module only moves bytes.
 */
import { NetloomError } from '../errors.js';
import { CONVERT_HINT, SNIFF_BYTES, sniffFormat, type CheckpointFormat } from './checkpoint-formats.js';
import { loadOnnxStateDict } from './onnx/state-dict.js';
import { openUserFile } from './read-file.js';
import type { PyDict } from './pyvalue.js';
import { loadSafetensors, saveSafetensors, type DecodedSafetensors, type TensorF32 } from './safetensors.js';
import { readTorchFile, writeTorchFile } from './torch-file.js';
import { stateDictFromTorch, torchStateDict } from './torch-state.js';

export type { CheckpointFormat } from './checkpoint-formats.js';
export type { TensorF32 } from './safetensors.js';

/** A decoded checkpoint file: tensors by key (null-prototype objects) and its format. */
export interface CheckpointFile extends DecodedSafetensors {
  format: CheckpointFormat;
  /**
   * A PyTorch file holding a checkpoint dict ({"model_state_dict", "optimizer_state_dict", "epoch",
   * ...}; layout 2): the whole dict, for train/checkpoints.ts to read the optimizer state and position.
   */
  checkpoint?: PyDict;
}

type Decoded = DecodedSafetensors & { checkpoint?: PyDict };

/** A torch.save file (zip or legacy) as a state dict. */
async function loadTorch(path: string): Promise<Decoded> {
  return stateDictFromTorch(await readTorchFile(path), path);
}

/** The formats Netloom reads, each by its own reader (which gives its own messages for a damaged file). */
const READERS: Record<Exclude<CheckpointFormat, 'unknown'>, (path: string) => Promise<Decoded>> = {
  safetensors: loadSafetensors,
  'pytorch-zip': loadTorch,
  'pytorch-pickle': loadTorch,
  onnx: loadOnnxStateDict,
};

/**
 * The first bytes of `path`, or undefined when it cannot be opened or read as a regular file: the
 * reader then opens it itself and says what is wrong in its own words (missing, a folder, a FIFO).
 */
async function readHead(path: string): Promise<Uint8Array | undefined> {
  let opened: Awaited<ReturnType<typeof openUserFile>>;
  try {
    opened = await openUserFile(path);
  } catch {
    return undefined;
  }
  try {
    const head = new Uint8Array(Math.min(SNIFF_BYTES, opened.size));
    const { bytesRead } = await opened.handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } catch /* Stryker disable next-line BlockStatement: without the return, the function returns undefined all the same */ {
    return undefined;
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}

/** Reads a checkpoint file of any format Netloom reads; any other file is refused naming what it looks like. */
export async function readCheckpointFile(path: string): Promise<CheckpointFile> {
  const head = await readHead(path);
  // Stryker disable next-line StringLiteral: looksLike is read only for formats Netloom refuses, never for safetensors
  const { format, looksLike } = head === undefined ? { format: 'safetensors' as const, looksLike: '' } : sniffFormat(head);
  if (format === 'unknown')
    throw new NetloomError('NL_BAD_CHECKPOINT', `${path}: not a checkpoint Netloom can read: it looks like ${looksLike}`, CONVERT_HINT.unknown);
  return { format, ...(await READERS[format](path)) };
}

/** The format a checkpoint saved to `path` gets: torch.save's for `.pt`/`.pth`, safetensors for any other name. */
export function checkpointFormatForPath(path: string): 'pt' | 'safetensors' {
  return /\.pth?$/i.test(path) ? 'pt' : 'safetensors';
}

/**
 * Writes a state dict (replacing `path` only once the whole file is written): as torch.save(state_dict)
 * writes it for a `.pt`/`.pth` path (layout 1, metadata in `_metadata["netloom"]`), else as safetensors.
 * Tensors keep `tensors`' key order in a .pt file (torch's parameter order); safetensors sorts them.
 */
export async function writeCheckpointFile(path: string, tensors: Record<string, TensorF32>, metadata: Record<string, string>): Promise<void> {
  if (checkpointFormatForPath(path) === 'pt') await writeTorchFile(path, torchStateDict(tensors, metadata));
  else await saveSafetensors(path, tensors, metadata);
}
