/**
 * Atomic file replacement: a reader (or a crash) sees either the old file or the complete new one, never a prefix.
 *
 * The temp file lives in the target's directory because rename() is only atomic within one filesystem.
 * fsync before rename so a power cut cannot leave the new name pointing at unwritten blocks.
 *
 * A writer killed mid-save (kill -9, a power cut) leaves its hidden `.<name>.<pid>.<12 hex>.tmp`. Each save of
 * <name> first removes the leftovers of earlier saves of that same name whose writer is gone (no process has the
 * pid) or that are over a day old (the pid has since been reused; no save takes a day). A temp of a live writer,
 * ours included, is a save in progress and is kept; only names of exactly our pattern are touched.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';

/**
 * The file-system calls a save makes, in order: open the temp file, write it, fsync it, close it, rename it over
 * the target, then open, fsync and close the folder. node:fs/promises (and node:fs for the sync twin) by default;
 * tests pass a wrapper that records the calls, or fails or kills the process before any one of them
 * (test/unit/atomic.test.ts), which is how "an interrupted save leaves the old file" is checked at every step.
 */
export interface SaveFs {
  open(path: string, flags: string, mode?: number): Promise<SaveHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
}

export interface SaveHandle {
  writeFile(data: Uint8Array | string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The sync twin of SaveFs (node:fs by default). */
export interface SaveFsSync {
  openSync(path: string, flags: string, mode?: number): number;
  writeFileSync(fd: number, data: Uint8Array | string): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string, options: { force: true }): void;
}

function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A leftover this old is stale even if a process has its pid. */
export const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

/** Our temp names for `base`: `.<base>.<pid>.<12 lowercase hex>.tmp`, the pid captured. */
function tempPattern(base: string): RegExp {
  return new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.([1-9][0-9]{0,9})\\.[0-9a-f]{12}\\.tmp$`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function stale(pid: number, mtimeMs: number, now: number): boolean {
  return !processAlive(pid) || now - mtimeMs > STALE_TEMP_MS;
}

/** Best effort (see the header): a leftover that cannot be listed or removed is left for the next save. */
async function removeStaleTemps(target: string): Promise<void> {
  const dir = path.dirname(target);
  const pattern = tempPattern(path.basename(target));
  const now = Date.now();
  try {
    for (const name of await fsp.readdir(dir)) {
      const pid = pattern.exec(name)?.[1];
      if (pid === undefined) continue;
      const file = path.join(dir, name);
      const st = await fsp.lstat(file).catch(() => undefined);
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: force only turns ENOENT (already gone) into success, and the .catch swallows every error anyway
      if (st?.isFile() && stale(Number(pid), st.mtimeMs, now)) await fsp.rm(file, { force: true }).catch(() => undefined);
    }
  } catch {
    // the folder cannot be listed: the save itself will report what is wrong
  }
}

function removeStaleTempsSync(target: string): void {
  const dir = path.dirname(target);
  const pattern = tempPattern(path.basename(target));
  const now = Date.now();
  try {
    for (const name of fs.readdirSync(dir)) {
      const pid = pattern.exec(name)?.[1];
      if (pid === undefined) continue;
      const file = path.join(dir, name);
      try {
        const st = fs.lstatSync(file);
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: force only turns ENOENT (already gone) into success, and the catch below swallows every error anyway
        if (st.isFile() && stale(Number(pid), st.mtimeMs, now)) fs.rmSync(file, { force: true });
      } catch {
        // gone already, or not ours to remove
      }
    }
  } catch {
    // see removeStaleTemps
  }
}

function writeError(target: string, cause: unknown): NetloomError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new NetloomError(
    'NL_IO',
    `Could not write ${target}: ${reason}`,
    'Check that the folder exists, is writable and has free space; the previous file, if any, was left unchanged.',
    { cause },
  );
}

/** Replaces `target` with `data` (see the header). `io`: the file-system calls (SaveFs; tests only). */
export async function writeFileAtomic(target: string, data: Uint8Array | string, io: SaveFs = fsp): Promise<void> {
  await removeStaleTemps(target);
  const temp = tempPathFor(target);
  let handle: SaveHandle | undefined;
  try {
    // 'wx': never follow or reuse an existing file at the temp name.
    handle = await io.open(temp, 'wx', 0o666);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await io.rename(temp, target);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: force only turns ENOENT (no temp yet) into success, and the .catch swallows every error anyway
    await io.rm(temp, { force: true }).catch(() => undefined);
    throw writeError(target, cause);
  }
  await syncDirectory(path.dirname(target), io);
}

/** The sync twin of writeFileAtomic (the desktop settings, and the window state written while the app quits). */
export function writeFileAtomicSync(target: string, data: Uint8Array | string, io: SaveFsSync = fs): void {
  removeStaleTempsSync(target);
  const temp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = io.openSync(temp, 'wx', 0o666);
    io.writeFileSync(fd, data);
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(temp, target);
  } catch (cause) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd);
      } catch {
        // Already failing; the original error is the useful one.
      }
    }
    io.rmSync(temp, { force: true });
    throw writeError(target, cause);
  }
  syncDirectorySync(path.dirname(target), io);
}

// Persists the rename itself. Best effort: Windows cannot open directories, and the data is already safe.
export async function syncDirectory(dir: string, io: Pick<SaveFs, 'open'> = fsp): Promise<void> {
  try {
    const handle = await io.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // See above.
  }
}

function syncDirectorySync(dir: string, io: SaveFsSync): void {
  try {
    const fd = io.openSync(dir, 'r');
    try {
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
  } catch {
    // See syncDirectory.
  }
}
