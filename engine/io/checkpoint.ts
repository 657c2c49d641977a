/**
 * The one way the engine reads and writes checkpoint files. A file's format is told from its first
 * bytes (checkpoint-formats.ts), then its reader decodes it into a state dict: tensors by key plus
 * string metadata. Netloom writes safetensors; it reads safetensors today, and recognises PyTorch's
 * zip and legacy pickle files and ONNX models to refuse them with what they are and how to convert
 * them. A reader for one of those goes into READERS and the rest of the engine needs no change.
 *
 * What the state dict means (keys matching a model, Netloom's metadata, optimizer state) is
 * train/checkpoints.ts's business; this module only moves bytes.
 */
import { NetloomError } from '../errors.js';
import { CONVERT_HINT, SNIFF_BYTES, sniffFormat, type CheckpointFormat } from './checkpoint-formats.js';
import { loadOnnxStateDict } from './onnx/state-dict.js';
import { openUserFile } from './read-file.js';
import { loadSafetensors, saveSafetensors, type DecodedSafetensors, type TensorF32 } from './safetensors.js';

export type { CheckpointFormat } from './checkpoint-formats.js';
export type { TensorF32 } from './safetensors.js';

/** A decoded checkpoint file: tensors by key (null-prototype objects) and its format. */
export interface CheckpointFile extends DecodedSafetensors {
  format: CheckpointFormat;
}

/** The formats Netloom reads, each by its own reader (which gives its own messages for a damaged file). */
const READERS: Partial<Record<CheckpointFormat, (path: string) => Promise<DecodedSafetensors>>> = {
  safetensors: loadSafetensors,
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

/** Reads a checkpoint file of any format Netloom reads; other formats are refused naming what the file is. */
export async function readCheckpointFile(path: string): Promise<CheckpointFile> {
  const head = await readHead(path);
  // Stryker disable next-line StringLiteral: looksLike is read only for formats Netloom refuses, never for safetensors
  const { format, looksLike } = head === undefined ? { format: 'safetensors' as const, looksLike: '' } : sniffFormat(head);
  const read = READERS[format];
  if (read) return { format, ...(await read(path)) };
  if (format === 'unknown')
    throw new NetloomError('NL_BAD_CHECKPOINT', `${path}: not a checkpoint Netloom can read: it looks like ${looksLike}`, CONVERT_HINT.unknown);
  throw new NetloomError('NL_UNSUPPORTED', `${path}: this looks like ${looksLike}; Netloom reads safetensors checkpoints today`, CONVERT_HINT[format as Exclude<CheckpointFormat, 'safetensors'>]);
}

/** Writes a state dict as safetensors (replacing `path` only once the whole file is written). */
export async function writeCheckpointFile(path: string, tensors: Record<string, TensorF32>, metadata: Record<string, string>): Promise<void> {
  await saveSafetensors(path, tensors, metadata);
}
