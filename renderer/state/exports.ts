/**
 * File ▸ Export as data: what each format is called, which file (or folder) the dialog proposes, which
 * native dialog its Browse… opens, and what the app says once the engine has written it. The dialog
 * (dialogs/CheckpointDialog.tsx) and the actions (actions/actionExport.ts) read these; nothing here
 * talks to the engine, so test/unit/renderer-export.test.ts checks it as is.
 */
import type { ExportFormatDto, ListKindDto, PathPurposeDto } from '../../engine/contract/api';
import { baseName, slugOf } from './paths';

export interface ExportFormatSpec {
  /** the dialog's title */
  title: string;
  /** the path field's label */
  fileLabel: string;
  /** a file's extension (with the dot), or null: a folder */
  extension: string | null;
  /** what Browse… asks the operating system for */
  browse: { mode: 'save' | 'folder'; purpose: PathPurposeDto };
  /** what a browser tab's in-page chooser lists beside the folders */
  list: ListKindDto;
  /** the weights are optional (PyTorch code exports without them) */
  weightsOptional: boolean;
  /** the file can hold the optimizer state and the training position (resumable) */
  resumable: boolean;
  /** "ONNX model", as in "Exported ONNX model to …" */
  noun: string;
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormatDto, ExportFormatSpec>> = {
  safetensors: {
    title: 'Save checkpoint',
    fileLabel: 'safetensors file',
    extension: '.safetensors',
    browse: { mode: 'save', purpose: 'checkpoint' },
    list: 'checkpoint',
    weightsOptional: false,
    resumable: true,
    noun: 'checkpoint',
  },
  pt: {
    title: 'Export PyTorch state dict',
    fileLabel: 'PyTorch file (.pt or .pth)',
    extension: '.pt',
    browse: { mode: 'save', purpose: 'torch' },
    list: 'torch',
    weightsOptional: false,
    resumable: true,
    noun: 'PyTorch state dict',
  },
  onnx: {
    title: 'Export ONNX model',
    fileLabel: 'ONNX file',
    extension: '.onnx',
    browse: { mode: 'save', purpose: 'onnx' },
    list: 'onnx',
    weightsOptional: false,
    resumable: false,
    noun: 'ONNX model',
  },
  pytorch: {
    title: 'Export PyTorch code',
    fileLabel: 'folder for model.py and train.py, created if missing',
    extension: null,
    browse: { mode: 'folder', purpose: 'pytorch-folder' },
    list: 'folders',
    weightsOptional: true,
    resumable: false,
    noun: 'PyTorch code',
  },
};

/** What an export of `format` is proposed as: `<slug>.safetensors`, `<slug>.pt`, `<slug>.onnx` or the folder `<slug>-pytorch`. */
export function exportFileName(projectName: string, format: ExportFormatDto): string {
  const slug = slugOf(projectName) || 'model';
  const ext = EXPORT_FORMATS[format].extension;
  return ext === null ? `${slug}-pytorch` : `${slug}${ext}`;
}

/** The checkpoint format a typed file name asks for (.pt/.pth: PyTorch; .safetensors), or null for other names. */
export function checkpointFormatOf(path: string): 'safetensors' | 'pt' | null {
  if (/\.(pt|pth)$/i.test(path)) return 'pt';
  if (/\.safetensors$/i.test(path)) return 'safetensors';
  return null;
}

/** `path` with its checkpoint extension swapped for `format`'s (a name with another extension keeps it: the user chose it). */
export function withCheckpointFormat(path: string, format: 'safetensors' | 'pt'): string {
  const now = checkpointFormatOf(path);
  if (now === null || now === format) return path;
  return path.replace(/\.(pt|pth|safetensors)$/i, EXPORT_FORMATS[format].extension!);
}

/**
 * The checkpoint format the dialog writes: the one the file name says, else the one chosen. Asking for the
 * optimizer state with no name typed yet proposes .pt: PyTorch's checkpoint layout, which both Netloom and the
 * exported train.py resume from (safetensors with optimizer state is Netloom's own).
 */
export function resumableDefault(format: 'safetensors' | 'pt', withOptimizer: boolean, pathTouched: boolean): 'safetensors' | 'pt' {
  return withOptimizer && !pathTouched ? 'pt' : format;
}

/**
 * The success toast: "Exported ONNX model to /a/model.onnx"; PyTorch code names its folder (`target`, as sent)
 * and the files written in it; Save checkpoint keeps its own words. `what` says which weights, when there were any.
 */
export function exportMessage(format: ExportFormatDto, files: readonly string[], target: string, what: string | null): string {
  const which = what ? ` (${what})` : '';
  if (format === 'safetensors') return `Checkpoint saved to ${files[0] ?? target}${which}`;
  if (format === 'pytorch') return `Exported PyTorch code to ${target}: ${files.map(baseName).join(', ')}${which}`;
  return `Exported ${EXPORT_FORMATS[format].noun} to ${files[0] ?? target}${which}`;
}
