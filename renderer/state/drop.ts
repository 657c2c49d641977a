/**
 * What a file dropped on the window is for (hooks/useGlobalDrop.ts acts on it). Pure: decided from the
 * files' names and types and the host, so it is tested without a browser.
 *
 * The desktop's preload (electron/preload.cts) forwards every file drop the page did NOT
 * preventDefault to the main process, which opens projects and checkpoints by their paths (a page sees
 * File objects, never paths). So in the desktop app the page takes only images (the playground needs
 * their pixels, not a path) and leaves everything else alone. In a browser nothing would take the
 * other drops, and Chromium would navigate away to the file: the page takes every file drop there.
 */

export interface DroppedFile {
  name: string;
  /** the MIME type the browser guessed ('' when none) */
  type: string;
}

export type DropPlan =
  /** try this image in the inference playground */
  | { kind: 'image'; index: number }
  /** read this project file's text and open it as an unsaved project (browser only) */
  | { kind: 'project'; index: number }
  /** a checkpoint: a browser cannot give the engine its path; say how to load it */
  | { kind: 'checkpoint'; name: string }
  /** nothing Netloom opens: say what it does open */
  | { kind: 'unsupported'; name: string }
  /** leave the drop to the host (the desktop's preload opens it by path) */
  | { kind: 'host' };

const IMAGE_TYPES = /^image\/(png|jpeg)$/;
const IMAGE_EXT = /\.(png|jpe?g)$/i;
const PROJECT_EXT = /\.(json|netloom)$/i;
// every format the engine reads weights from (engine/io/file-kinds.ts 'weights'), ONNX models included
const CHECKPOINT_EXT = /\.(safetensors|pt|pth|bin|onnx)$/i;

export const isImageFile = (f: DroppedFile) => IMAGE_TYPES.test(f.type) || IMAGE_EXT.test(f.name);
const isProjectFile = (f: DroppedFile) => PROJECT_EXT.test(f.name);
const isCheckpointFile = (f: DroppedFile) => CHECKPOINT_EXT.test(f.name);

/**
 * The plan for a drop of `files` in a `desktop` or `browser` host, or null when there are no files
 * (a drag of text or of a palette item: not ours to handle). The first image wins in both hosts; in a
 * browser, then the first project, then a checkpoint.
 */
export function planDrop(files: readonly DroppedFile[], host: 'desktop' | 'browser'): DropPlan | null {
  if (files.length === 0) return null;
  const image = files.findIndex(isImageFile);
  if (image >= 0) return { kind: 'image', index: image };
  if (host === 'desktop') return { kind: 'host' };
  const project = files.findIndex(isProjectFile);
  if (project >= 0) return { kind: 'project', index: project };
  const ckpt = files.find(isCheckpointFile);
  if (ckpt) return { kind: 'checkpoint', name: ckpt.name };
  return { kind: 'unsupported', name: files[0]!.name };
}

/** Project files above this size are refused before reading (the engine's own limit is 32 MiB). */
export const MAX_DROPPED_PROJECT_BYTES = 32 * 1024 * 1024;
