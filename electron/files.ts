/**
 * Files handed to the app from outside (dropped on the window, double-clicked in the file manager,
 * passed on the command line, sent by a second launch) go where they belong: a project opens, a
 * checkpoint gets the per-node load report, an image goes to the playground.
 */
import * as path from 'node:path';
import type { PathPurposeDto } from '../engine/contract/api.js';

/** The project extensions: `.netloom` for the OS file association, `.netloom.json` and `.json` as before. */
export const PROJECT_EXTENSIONS = ['.netloom', '.json'] as const;
/** what the engine reads as weights (engine/io/file-kinds.ts 'weights'); an .onnx file is a model to import instead */
export const CHECKPOINT_EXTENSIONS = ['.safetensors', '.pt', '.pth', '.bin'] as const;
export const ONNX_EXTENSIONS = ['.onnx'] as const;
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

export type OpenCommand = { command: 'open-project' | 'open-checkpoint' | 'import-onnx' | 'open-image'; path: string };

/** What to do with a file, or null when Netloom does not open that kind of file. */
export function commandForFile(file: string): OpenCommand | null {
  const ext = path.extname(file).toLowerCase();
  const p = path.resolve(file);
  if ((PROJECT_EXTENSIONS as readonly string[]).includes(ext)) return { command: 'open-project', path: p };
  if ((CHECKPOINT_EXTENSIONS as readonly string[]).includes(ext)) return { command: 'open-checkpoint', path: p };
  if ((ONNX_EXTENSIONS as readonly string[]).includes(ext)) return { command: 'import-onnx', path: p };
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return { command: 'open-image', path: p };
  return null;
}

/** The file arguments of a command line (Electron's own flags and the app path are skipped). */
export function filesInArgv(argv: readonly string[], skip: number): string[] {
  return argv.slice(skip).filter((a) => !a.startsWith('-') && commandForFile(a) !== null);
}

/** Titles and filters of the native dialogs, per purpose. */
export const DIALOGS: Readonly<Record<PathPurposeDto, { title: string; filters: { name: string; extensions: string[] }[] }>> = {
  project: { title: 'Netloom project', filters: [{ name: 'Netloom projects', extensions: ['netloom', 'json'] }] },
  checkpoint: { title: 'Checkpoint', filters: [{ name: 'safetensors state dicts', extensions: ['safetensors'] }] },
  // engine/io/file-kinds.ts 'weights': every format the engine reads weights from
  weights: {
    title: 'Weights',
    filters: [
      { name: 'Checkpoints (safetensors, PyTorch, ONNX)', extensions: ['safetensors', 'pt', 'pth', 'bin', 'onnx'] },
      { name: 'safetensors', extensions: ['safetensors'] },
      { name: 'PyTorch state dicts', extensions: ['pt', 'pth', 'bin'] },
      { name: 'ONNX models', extensions: ['onnx'] },
    ],
  },
  torch: { title: 'PyTorch state dict', filters: [{ name: 'PyTorch state dicts', extensions: ['pt', 'pth'] }] },
  onnx: { title: 'ONNX model', filters: [{ name: 'ONNX models', extensions: ['onnx'] }] },
  'pytorch-folder': { title: 'Folder for the PyTorch code', filters: [] },
  'image-folder': { title: 'Image folder (one sub-folder per class)', filters: [] },
  // engine/io/file-kinds.ts: the engine reads tables only from these
  csv: { title: 'CSV table', filters: [{ name: 'CSV files', extensions: ['csv', 'tsv'] }] },
  'dataset-root': { title: 'Dataset folder (torchvision layout)', filters: [] },
  image: { title: 'Image', filters: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg'] }] },
};
