/**
 * Paths on the engine's machine, as the dialogs propose and read them. The renderer cannot ask Node's
 * `path`, and the engine may run on Windows or POSIX, so these work on both separators.
 *
 * Why this exists: a relative path sent to the engine resolves against the engine's working directory,
 * which with `npx netloom serve` is whatever folder the server was started in (often the checkout). So
 * the dialogs propose absolute paths in the project's own folder, or the user's home for an unsaved
 * project, and make a typed relative path absolute against that same folder before sending it.
 */

/** The separator a path uses: backslash for a Windows path with no forward slash, else '/'. */
export function sepOf(path: string): '/' | '\\' {
  return path.includes('\\') && !path.includes('/') ? '\\' : '/';
}

/** `dir` + `name` with `dir`'s separator (no doubled separator). */
export function joinPath(dir: string, name: string): string {
  const sep = sepOf(dir);
  return dir.endsWith('/') || dir.endsWith('\\') ? `${dir}${name}` : `${dir}${sep}${name}`;
}

/** The last part of a path. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The folder part of a file's path ('/' for a file at the root; '' for a bare name). */
export function dirName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (i < 0) return '';
  if (i === 0) return path.slice(0, 1);
  // keep "C:\" rather than "C:"
  if (i === 2 && /^[A-Za-z]:/.test(path)) return path.slice(0, 3);
  return path.slice(0, i);
}

/** An absolute path: `/x`, `\\server\x`, `C:\x` or `C:/x`. (`~` is not: the engine does not expand it everywhere.) */
export function isAbsolutePath(path: string): boolean {
  return /^([A-Za-z]:)?[\\/]/.test(path);
}

/**
 * Where a dialog starts: the saved project's folder, else the user's home (HostInfo.home), never the
 * engine's working directory. Null when neither is known yet (the host has not answered).
 */
export function startFolder(projectPath: string | null, home: string | null | undefined): string | null {
  if (projectPath) {
    const d = dirName(projectPath);
    if (d) return d;
  }
  return home || null;
}

/**
 * What the user typed, as an absolute path: `~` and `~/…` under `home`, a relative path under `base`
 * (the dialog's start folder). Returned unchanged when it is absolute already, or when the folder it
 * would need is unknown.
 */
export function resolveUserPath(typed: string, base: string | null, home: string | null | undefined): string {
  const p = typed.trim();
  if (!p || isAbsolutePath(p)) return p;
  if (home && (p === '~' || p.startsWith('~/') || p.startsWith('~\\'))) return p === '~' ? home : joinPath(home, p.slice(2));
  return base ? joinPath(base, p.replace(/^\.[\\/]/, '')) : p;
}

/** A file-name-safe form of a project's name ('' when nothing usable is left). */
export function slugOf(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
}

/** `<slug>.netloom.json` (or `.netloom`, the desktop app's associated extension) for Save as ("untitled" when the name has nothing usable). */
export function projectFileName(projectName: string, extension: '.netloom.json' | '.netloom' = '.netloom.json'): string {
  return `${slugOf(projectName) || 'untitled'}${extension}`;
}

/** `<slug>.safetensors` for a checkpoint ("model" when the name has nothing usable). */
export function checkpointFileName(projectName: string): string {
  return `${slugOf(projectName) || 'model'}.safetensors`;
}

/** A file proposed in the start folder (just the name when no folder is known yet). */
export function proposedFile(folder: string | null, fileName: string): string {
  return folder ? joinPath(folder, fileName) : fileName;
}
