/**
 * File dialogs through the host: the operating system's (pickPath) when the desktop app offers them,
 * the app's own web dialogs otherwise (`netloom serve`). Every dialog starts in the project's folder,
 * or the user's home for an unsaved project (state/paths.ts), never the engine's working directory.
 */
import type { PathPurposeDto } from '../../engine/contract/api';
import { joinPath, projectFileName, startFolder } from '../state/paths';
import { useStore, type State } from '../state/store';
import { askChoice } from '../dialogs/askChoice';
import { isExistsError, openPath, saveTo } from './projectOps';
import type { ActionContext } from './types';

/** The host shows the operating system's dialogs (the desktop app). */
export const hasNativeDialogs = (s: State = useStore.getState()): boolean => s.host?.nativeDialogs === true;

/** Where dialogs start now: the saved project's folder, else the user's home (null until the host answered). */
export const dialogStart = (s: State = useStore.getState()): string | null => startFolder(s.project.path, s.host?.home);

/** The operating system's dialog; the chosen path, or null when the user cancelled. */
export async function pickPath(ctx: ActionContext, mode: 'open' | 'save' | 'folder', purpose: PathPurposeDto, defaultPath?: string | null): Promise<string | null> {
  const r = await ctx.api.pickPath({ mode, purpose, ...(defaultPath ? { defaultPath } : {}) });
  return r.path;
}

/** Open: the native dialog, then the project; or the web Open dialog. (The unsaved-changes guard comes first, in the caller.) */
export async function chooseAndOpen(ctx: ActionContext): Promise<void> {
  const s = ctx.state();
  if (!hasNativeDialogs(s)) {
    s.setDialog({ kind: 'open' });
    return;
  }
  const file = await pickPath(ctx, 'open', 'project', dialogStart(s));
  if (file) await openPath(ctx, file);
}

/**
 * Save as: the native dialog proposing `<project folder or home>/<slug>.netloom` (the extension the installers
 * associate with Netloom, so the file opens with a double click), then the save.
 * Resolves true once saved; false when the user cancelled, or when the web Save dialog was opened
 * instead (it saves on its own, later).
 */
export async function chooseAndSave(ctx: ActionContext): Promise<boolean> {
  const s = ctx.state();
  if (!hasNativeDialogs(s)) {
    s.setDialog({ kind: 'save' });
    return false;
  }
  const start = dialogStart(s);
  const name = projectFileName(s.project.name, '.netloom');
  const file = await pickPath(ctx, 'save', 'project', start ? joinPath(start, name) : name);
  if (!file) return false;
  try {
    // the operating system's dialog asked before replacing the file it returns; a name it returned without a
    // project extension is saved with .json added, which nobody was asked about yet
    await saveTo(ctx, file, { overwrite: /\.(netloom|json)$/i.test(file) });
  } catch (e) {
    if (!isExistsError(e)) throw e;
    const answer = await askChoice({ title: 'Replace the file?', message: `${e.message}. Replace it with "${s.project.name}"?`, confirmLabel: 'Replace' });
    if (answer !== 'confirm') return false;
    await saveTo(ctx, file, { overwrite: true });
  }
  return true;
}
