/**
 * Which checkpoint format a file holds, told from its first bytes rather than its name: users rename
 * files, and PyTorch writes `.pt`, `.pth` and `.bin` for the same zip format. Each format Netloom
 * knows has a row here; safetensors and PyTorch's zip and legacy pickle are read (checkpoint.ts),
 * the others are recognised all the same, so the user hears "this is an ONNX model" and what to do,
 * not a parse error. A reader for a format slots in beside its row (checkpoint.ts).
 *
 * Messages describe a file by its kind only and never quote its bytes (file-kinds.ts: a refused
 * file's content stays out of errors).
 */

/** The formats a checkpoint file may be in, as told by its first bytes. */
export type CheckpointFormat = 'safetensors' | 'pytorch-zip' | 'pytorch-pickle' | 'onnx' | 'unknown';

/** How many bytes from the start of a file sniffFormat looks at. */
export const SNIFF_BYTES = 512;

export interface SniffResult {
  format: CheckpointFormat;
  /** what the file looks like, for messages: "a PyTorch checkpoint (zip archive, as torch.save writes)" */
  looksLike: string;
}

/** PyTorch's legacy (pre-1.6) torch.save: a pickled magic number, 0x1950a86a20f9469cfc6c, as protocol-2 LONG1. */
const TORCH_LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

const startsWith = (head: Uint8Array, bytes: readonly number[]) => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/**
 * safetensors: a little-endian u64 header length, then a JSON object, so byte 8 is '{' (the format
 * requires the header to begin with it). Such a file goes to the safetensors reader even when damaged
 * further on: it names what is wrong with it.
 */
function isSafetensors(head: Uint8Array): boolean {
  return head.length > 8 && head[8] === 0x7b;
}

/** The name of a zip's first entry (local file header: signature, ..., name length at 26, name at 30). */
function firstZipEntry(head: Uint8Array): string | undefined {
  if (head.length < 30) return undefined;
  const nameLength = head[26] | (head[27] << 8);
  if (30 + nameLength > head.length) return undefined;
  return new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(30, 30 + nameLength));
}

/**
 * ONNX: a protobuf ModelProto, which onnx.save starts with field 1 (ir_version, a small varint: tag
 * 0x08) followed by a length-delimited field 2..8 (producer name, graph, opset imports, ...).
 */
function isOnnx(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0x08 && head[1] >= 1 && head[1] <= 20 && [0x12, 0x1a, 0x22, 0x2a, 0x32, 0x3a, 0x42].includes(head[2]);
}

/** Mostly printable text in the first bytes: a CSV, a project file, a log. */
function isText(head: Uint8Array): boolean {
  let printable = 0;
  for (const b of head) if (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80) printable++;
  return printable / head.length > 0.95 && !head.includes(0); // an empty head: NaN > 0.95 is false
}

/** Other files a user may pick by mistake, recognised to say what they are. */
const OTHER_SIGNATURES: readonly { bytes: number[]; looksLike: string }[] = [
  { bytes: [0x89, ...ascii('HDF'), 0x0d, 0x0a, 0x1a, 0x0a], looksLike: 'an HDF5 file (a Keras .h5 model, perhaps)' },
  { bytes: [0x93, ...ascii('NUMPY')], looksLike: 'a NumPy array file (.npy)' },
  { bytes: ascii('GGUF'), looksLike: 'a GGUF model file (llama.cpp)' },
  { bytes: [0x1f, 0x8b], looksLike: 'a gzip-compressed file' },
  { bytes: [0x89, ...ascii('PNG')], looksLike: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], looksLike: 'a JPEG image' },
];

/** The format of a file whose first bytes (up to SNIFF_BYTES of them) are `head`. */
export function sniffFormat(head: Uint8Array): SniffResult {
  if (isSafetensors(head)) return { format: 'safetensors', looksLike: 'a safetensors file' };
  if (startsWith(head, ascii('PK\x03\x04'))) {
    const entry = firstZipEntry(head);
    return entry !== undefined && /(^|\/)(data\.pkl|version|byteorder|\.data\/)/.test(entry)
      ? { format: 'pytorch-zip', looksLike: 'a PyTorch checkpoint (a zip archive, as torch.save writes)' }
      : { format: 'pytorch-zip', looksLike: 'a zip archive (torch.save writes one; other zips are not checkpoints)' };
  }
  if (startsWith(head, TORCH_LEGACY_MAGIC)) return { format: 'pytorch-pickle', looksLike: 'a PyTorch checkpoint in the legacy format (torch.save before PyTorch 1.6)' };
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5)
    return { format: 'pytorch-pickle', looksLike: 'a Python pickle (a legacy PyTorch checkpoint, or another pickled object)' };
  if (isOnnx(head)) return { format: 'onnx', looksLike: 'an ONNX model (protobuf)' };
  // too short to be anything: the safetensors reader says how short
  if (head.length <= 8) return { format: 'safetensors', looksLike: 'a safetensors file' };
  const other = OTHER_SIGNATURES.find((s) => startsWith(head, s.bytes));
  if (other) return { format: 'unknown', looksLike: other.looksLike };
  if (isText(head)) {
    const first = head.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    return { format: 'unknown', looksLike: first === 0x7b ? 'a JSON text file (a Netloom project, perhaps)' : 'a text file' };
  }
  return { format: 'unknown', looksLike: 'binary data of no format Netloom knows (safetensors, PyTorch zip or pickle, ONNX)' };
}

/**
 * What the user can do with a file Netloom refuses, by the format it looks like. The PyTorch rows are
 * for files the torch reader refuses as a whole (torch-file.ts gives its own hint for a damaged one).
 */
export const CONVERT_HINT: Readonly<Record<Exclude<CheckpointFormat, 'safetensors' | 'onnx'>, string>> = {
  'pytorch-zip':
    'Choose a .pt/.pth file saved with torch.save(model.state_dict(), path); a zip archive of anything else is not a checkpoint.',
  'pytorch-pickle':
    'Choose a .pt/.pth file saved with torch.save(model.state_dict(), path); Netloom reads pickles of tensors, dicts and lists only.',
  unknown: 'Choose a checkpoint saved by Netloom (Export, `netloom train --save`), a PyTorch .pt/.pth file (torch.save(model.state_dict(), path)), a .safetensors file (safetensors.torch.save_file(model.state_dict(), path)) or an ONNX model.',
};
