/**
 * The kinds of file a client of the engine may name, and the one rule every user-chosen path goes
 * through in EngineService. A client is a desktop window or a browser tab holding the token; either
 * may be hostile or mistaken, and the engine runs as the user, so:
 *
 * - It writes only files of Netloom's own kinds: a name without one of the kind's extensions gets the
 *   kind's extension added (`notes.txt` -> `notes.txt.safetensors`), so no other file is ever
 *   replaced. An existing file is replaced only when the call says `overwrite` (the UI asks the user
 *   first; NL_EXISTS tells it to), and never when it is a folder, a FIFO or a device.
 * - It reads a user-chosen file only when its extension is of the kind the method takes, and only a
 *   regular file. The extension is checked before the file system is touched, so a refused name says
 *   nothing about the file, not even whether it exists. Readers never quote a refused file's bytes in
 *   their errors (json-error.ts).
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { PROJECT_EXTENSIONS } from './project.js';
import { kindOf } from './read-file.js';

export type FileKind = 'project' | 'checkpoint' | 'weights' | 'torch' | 'onnx' | 'csv';

export interface FileKindSpec {
  /** "Netloom projects", as in "Netloom opens Netloom projects only from …" */
  plural: string;
  /** lowercase, with the dot; the first is added to a name that has none of them */
  extensions: readonly string[];
}

export const FILE_KINDS: Readonly<Record<FileKind, FileKindSpec>> = {
  // .json first: what a name without an extension has always been saved as
  project: { plural: 'projects', extensions: ['.json', ...PROJECT_EXTENSIONS.filter((e) => e !== '.json')] },
  // what Save checkpoint writes (Netloom's own format)
  checkpoint: { plural: 'checkpoints', extensions: ['.safetensors'] },
  // what is read as weights: readCheckpointFile tells the format from the bytes; these are the names PyTorch,
  // Hugging Face (pytorch_model.bin) and ONNX give the files it reads
  weights: { plural: 'checkpoints', extensions: ['.safetensors', '.pt', '.pth', '.bin', '.onnx'] },
  // File ▸ Export: a PyTorch state dict (torch.save's zip) and an ONNX model
  torch: { plural: 'PyTorch state dicts', extensions: ['.pt', '.pth'] },
  onnx: { plural: 'ONNX models', extensions: ['.onnx'] },
  // not .txt: too many other files (recovery codes, notes) end in it; a table is one rename away
  csv: { plural: 'CSV tables', extensions: ['.csv', '.tsv'] },
};

const list = (kind: FileKind) => FILE_KINDS[kind].extensions.join(', ');

/** The file's name ends in one of the kind's extensions (case-insensitive). */
export function hasKind(kind: FileKind, file: string): boolean {
  const lower = file.toLowerCase();
  return FILE_KINDS[kind].extensions.some((e) => lower.endsWith(e) && lower.length > e.length && !/[\\/]$/.test(lower.slice(0, -e.length)));
}

/** "~" and "~/x" as the user's home. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(os.homedir(), p.slice(2));
  return p;
}

/** The absolute file a save of `kind` to the user's `file` writes: "~" expanded, the kind's extension added unless it has one. */
export function writePath(kind: FileKind, file: string): string {
  const abs = path.resolve(expandHome(file));
  return hasKind(kind, abs) ? abs : `${abs}${FILE_KINDS[kind].extensions[0]}`;
}

async function statOrUndefined(file: string) {
  try {
    return await fsp.stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NetloomError('NL_IO', `Could not check ${file}: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
      'Choose another folder.', { cause: e });
  }
}

/**
 * Before writing a file of `kind` at the user's `file`: the absolute path to write (writePath). Throws
 * NL_EXISTS when that file exists and `overwrite` is not true, NL_IO when it is a folder or not a
 * regular file (a FIFO, a device), whatever `overwrite` says.
 */
export async function checkWrite(kind: FileKind, file: string, opts: { overwrite?: boolean } = {}): Promise<string> {
  const target = writePath(kind, file);
  const st = await statOrUndefined(target);
  if (!st) return target;
  if (st.isDirectory()) throw new NetloomError('NL_IO', `Could not save to ${target}: it is a folder`, 'Choose a file name inside the folder.');
  if (!st.isFile()) throw new NetloomError('NL_IO', `Could not save to ${target}: it is ${kindOf(st)}, not a regular file`, 'Choose another file name.');
  if (opts.overwrite !== true)
    throw new NetloomError('NL_EXISTS', `${target} already exists`, 'Choose another name, or confirm that the file should be replaced.');
  return target;
}

/**
 * Before reading the user's `file` as `kind`: the absolute path. Throws NL_UNSUPPORTED, without touching
 * the file, when its name is not of the kind; NL_IO when it exists but is a folder, a FIFO or a device.
 * A missing file passes: the reader reports it in its own words.
 */
export async function checkRead(kind: FileKind, file: string): Promise<string> {
  const abs = path.resolve(expandHome(file));
  if (!hasKind(kind, abs))
    throw new NetloomError('NL_UNSUPPORTED', `Netloom reads ${FILE_KINDS[kind].plural} only from ${list(kind)} files, and ${path.basename(abs) || abs} is not one`,
      `Choose a ${list(kind)} file${kind === 'csv' ? ' (rename a table saved under another name)' : ''}.`);
  const st = await statOrUndefined(abs);
  if (st?.isDirectory()) throw new NetloomError('NL_IO', `Could not read ${abs}: it is a folder`, `Choose a ${list(kind)} file inside it.`);
  if (st && !st.isFile()) throw new NetloomError('NL_IO', `${abs} is ${kindOf(st)}, not a regular file`, `Choose a ${list(kind)} file saved on disk; Netloom does not read from pipes or devices.`);
  return abs;
}
