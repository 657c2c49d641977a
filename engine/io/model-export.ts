/**
 * What every model exporter (ONNX, PyTorch code) is given: the project, its analysis (topological
 * order, resolved parameters, shapes) and the state dict's entries in Netloom's order (the order of
 * session.program.params, which is model.state_dict()'s order in the exported model.py).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import type { Analysis } from '../graph/analyze.js';
import type { ProjectDoc } from '../graph/document.js';
import { STANDARDIZE_FIELD, standardizeField } from './standardize.js';
import { writeFileAtomic } from './atomic.js';
import { writeCheckpointFile, type TensorF32 } from './checkpoint.js';
import { exportPytorchCode } from './export-pytorch.js';
import { exportOnnx } from './onnx-export.js';

export interface StateEntry {
  key: string;
  shape: readonly number[];
  /** 'param' is learnable (in model.parameters()), 'buffer' is state (BatchNorm's running stats) */
  kind: 'param' | 'buffer';
  dtype: 'f32' | 'i64';
}

export interface ModelExportInput {
  project: ProjectDoc;
  analysis: Analysis;
  state: readonly StateEntry[];
  /** weights by state-dict key; absent: exporters that need values (ONNX) refuse */
  weights?: ReadonlyMap<string, Float32Array>;
  /** CSV projects: the training split's per-feature statistics features are standardised with */
  standardize?: { columns: string[]; mean: number[]; std: number[] };
}

/** What `netloom export --format` and the app's File ▸ Export write. */
export type ExportFormat = 'safetensors' | 'pt' | 'onnx' | 'pytorch';

/** The extensions each file format is written with (writeCheckpointFile picks safetensors or torch.save's format from it). */
export const EXPORT_EXTENSIONS: Readonly<Record<Exclude<ExportFormat, 'pytorch'>, readonly string[]>> = {
  safetensors: ['.safetensors'],
  pt: ['.pt', '.pth'],
  onnx: ['.onnx'],
};

/** The file a 'pytorch' export leaves in its folder, naming what wrote it, so that exporting again may replace the folder's files. */
export const EXPORT_MARKER = '.netloom-export.json';

/** The state dict's tensors with their dtypes, and the metadata every file Netloom writes carries. */
function stateTensors(input: ModelExportInput, weights: ReadonlyMap<string, Float32Array>): { tensors: Record<string, TensorF32>; metadata: Record<string, string> } {
  const tensors: Record<string, TensorF32> = {};
  for (const e of input.state) tensors[e.key] = { shape: [...e.shape], data: weights.get(e.key)!, dtype: e.dtype === 'i64' ? 'I64' : 'F32' };
  const metadata: Record<string, string> = { format: 'pt', producer: 'netloom', project: input.project.name };
  if (input.standardize) metadata[STANDARDIZE_FIELD] = standardizeField(input.standardize);
  return { tensors, metadata };
}

function needsWeights(format: ExportFormat, input: ModelExportInput): ReadonlyMap<string, Float32Array> {
  if (!input.weights)
    throw new NetloomError('NL_INVALID_ARGUMENT', `a ${format} export needs trained weights`, 'Pass the weights to export (netloom export --weights <file>), or export PyTorch code, which needs none.');
  return input.weights;
}

/**
 * A 'pytorch' export's folder, checked before anything is generated: missing (it is created), or empty,
 * or a previous export (its marker file), so that exporting never overwrites a folder of the user's own files.
 */
async function checkExportFolder(out: string): Promise<string[]> {
  const entries = await fs.readdir(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new NetloomError('NL_IO', `${out} cannot be used as the export's folder: ${e.code === 'ENOTDIR' ? 'it is a file' : e.message}`, 'Give the path of a new or empty folder for the PyTorch code.');
  });
  if (entries?.length && !entries.includes(EXPORT_MARKER))
    throw new NetloomError('NL_EXISTS', `${out} is a folder that holds other files (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}) and no earlier PyTorch export`,
      'Export into a new or empty folder (it is created if missing), or into the folder of an earlier export to replace it.');
  return entries?.includes(EXPORT_MARKER) ? previousFiles(path.join(out, EXPORT_MARKER)) : [];
}

/** The files an earlier export wrote, as its marker lists them: plain names in the folder, nothing else. */
async function previousFiles(marker: string): Promise<string[]> {
  try {
    const files = (JSON.parse(await fs.readFile(marker, 'utf8')) as { files?: unknown }).files;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string' && f === path.basename(f) && f !== '.' && f !== '..') : [];
  } catch {
    return []; // an unreadable marker: nothing is removed
  }
}

/**
 * Writes `input` in `format` at `out` (a file; a folder for 'pytorch'), every file atomically; returns the
 * paths written. safetensors / pt / onnx need weights; 'pytorch' writes the code (model.py, train.py,
 * README.md) and, with weights, model.pt beside it, so the folder is self-contained.
 */
export async function writeModelExport(format: ExportFormat, input: ModelExportInput, out: string): Promise<string[]> {
  if (format !== 'pytorch') {
    const ext = path.extname(out).toLowerCase();
    const allowed = EXPORT_EXTENSIONS[format];
    if (!allowed.includes(ext))
      throw new NetloomError('NL_INVALID_ARGUMENT', `a ${format} export is written to a ${allowed.join(' or ')} file, but ${out} ends in ${ext ? `"${ext}"` : 'no extension'}`,
        `Name the file e.g. model${allowed[0]}.`);
    const weights = needsWeights(format, input);
    if (format === 'onnx') await writeFileAtomic(out, exportOnnx(input));
    else {
      const { tensors, metadata } = stateTensors(input, weights);
      await writeCheckpointFile(out, tensors, metadata);
    }
    return [out];
  }
  const previous = await checkExportFolder(out);
  const files = exportPytorchCode(input);
  await fs.mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const target = path.join(out, name);
    // names come from the exporter, never from the user: still, nothing lands outside the folder
    if (path.relative(out, target).startsWith('..') || path.isAbsolute(path.relative(out, target)))
      throw new NetloomError('NL_INTERNAL', `the PyTorch exporter named a file outside the folder: ${name}`, 'This is a bug in Netloom: please report it.');
    await fs.mkdir(path.dirname(target), { recursive: true });
    await writeFileAtomic(target, text);
    written.push(target);
  }
  if (input.weights) {
    const { tensors, metadata } = stateTensors(input, input.weights);
    const target = path.join(out, 'model.pt');
    await writeCheckpointFile(target, tensors, metadata);
    written.push(target);
  }
  // an earlier export's files this one does not write (its model.pt, when exported now without weights) would be stale
  const names = new Set(written.map((f) => path.basename(f)));
  for (const f of previous) if (!names.has(f)) await fs.rm(path.join(out, f), { force: true });
  await writeFileAtomic(path.join(out, EXPORT_MARKER), JSON.stringify({ producer: 'netloom', project: input.project.name, files: written.map((f) => path.basename(f)) }, null, 2) + '\n');
  return written;
}
