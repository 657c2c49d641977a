/**
 * File ▸ Export and File ▸ Import ▸ ONNX Model for EngineService: where each format may be written (the
 * file-kind rule of every user-chosen path, file-kinds.ts), which requests make sense, and the ONNX import's
 * hand-over to the canvas. The formats themselves are the io/ modules' business (writeModelExport,
 * importOnnx, writeCheckpointFile); this module only decides what goes where.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { writeCheckpointFile } from '../io/checkpoint.js';
import { checkRead, checkWrite, expandHome, type FileKind } from '../io/file-kinds.js';
import type { ExportFormat } from '../io/model-export.js';
import { importOnnx } from '../io/onnx-import.js';
import type { ProjectDto } from '../contract/api.js';

/** How messages name each format. */
export const FORMAT_NAMES: Readonly<Record<ExportFormat, string>> = {
  safetensors: 'a safetensors checkpoint',
  pt: 'a PyTorch state dict (.pt)',
  onnx: 'an ONNX model',
  pytorch: 'PyTorch code',
};

/** The file kind each single-file format is written as (its extension is added to a name without one). */
const FILE_KIND: Readonly<Record<Exclude<ExportFormat, 'pytorch'>, FileKind>> = { safetensors: 'checkpoint', pt: 'torch', onnx: 'onnx' };

/**
 * Refuses a request that cannot be met before anything is touched: weights are needed for every format
 * but PyTorch code (which exports without them), and the optimizer state only fits a checkpoint.
 */
export function checkExportRequest(format: ExportFormat, o: { hasRun: boolean; withOptimizer: boolean }): void {
  if (!o.hasRun && format !== 'pytorch')
    throw new NetloomError('NL_INVALID_ARGUMENT', `exporting ${FORMAT_NAMES[format]} needs trained weights, and this project has no run to take them from`,
      'Train the model first (or Import Weights… and press "Evaluate these weights"); PyTorch code exports without weights.');
  if (o.withOptimizer && format !== 'safetensors' && format !== 'pt')
    throw new NetloomError('NL_INVALID_ARGUMENT', `the optimizer state goes into a checkpoint (safetensors or .pt), not into ${FORMAT_NAMES[format]}`,
      'Export a checkpoint with the optimizer state to resume training, or leave the optimizer state out.');
}

/**
 * The absolute path an export of `format` writes: a file of the format's kind (checkWrite: NL_EXISTS unless
 * `overwrite`), or for PyTorch code a folder, which may exist (writeModelExport decides whether its content may
 * be replaced) but may not be a file.
 */
export async function exportTarget(format: ExportFormat, file: string, overwrite?: boolean): Promise<string> {
  if (format !== 'pytorch') return checkWrite(FILE_KIND[format], file, { overwrite });
  const abs = path.resolve(expandHome(file));
  const st = await fsp.stat(abs).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new NetloomError('NL_IO', `Could not check ${abs}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`, 'Choose another folder.', { cause: e });
  });
  if (st && !st.isDirectory())
    throw new NetloomError('NL_IO', `Could not export PyTorch code to ${abs}: it is a file, not a folder`, 'Choose a folder for the code (a new one is created), e.g. the project\'s name.');
  return abs;
}

/** The project's own name as a file name, for the imported weights. */
const slug = (name: string) => name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'model';

/**
 * Imports an ONNX model as a project plus its weights. The weights go to a safetensors file in `tempDir`
 * (a new name each time) rather than back to the client: the canvas compares them with the graph and loads
 * them through the same per-node report and checkpoint paths as any other weights file.
 */
export async function importOnnxProject(file: string, tempDir: string): Promise<{ project: ProjectDto; weights: string; notes: string[] }> {
  const abs = await checkRead('onnx', file);
  const imported = await importOnnx(abs);
  await fsp.mkdir(tempDir, { recursive: true });
  const weights = path.join(tempDir, `${slug(imported.project.name)}-${randomBytes(4).toString('hex')}.safetensors`);
  await writeCheckpointFile(weights, imported.tensors, { project: imported.project.name, imported_from: abs });
  return { project: imported.project as ProjectDto, weights, notes: imported.notes };
}

/**
 * Removes the temporary weights files of ONNX imports (importOnnxProject's), e.g. when the engine shuts down. A file
 * already gone is fine; one that cannot be removed is only logged: shutting down goes on.
 */
export async function removeImportedWeights(files: readonly string[]): Promise<void> {
  await Promise.all(files.map(async (f) => {
    try {
      await fsp.rm(f, { force: true });
    } catch (e) {
      process.stderr.write(`netloom: could not remove the imported weights ${f}: ${(e as Error).message}\n`);
    }
  }));
}
