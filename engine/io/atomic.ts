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

export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await removeStaleTemps(target);
  const temp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    // 'wx': never follow or reuse an existing file at the temp name.
    handle = await fsp.open(temp, 'wx', 0o666);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, target);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw writeError(target, cause);
  }
  await syncDirectory(path.dirname(target));
}

export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  removeStaleTempsSync(target);
  const temp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, 'wx', 0o666);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, target);
  } catch (cause) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing; the original error is the useful one.
      }
    }
    fs.rmSync(temp, { force: true });
    throw writeError(target, cause);
  }
  syncDirectorySync(path.dirname(target));
}

// Persists the rename itself. Best effort: Windows cannot open directories, and the data is already safe.
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // See above.
  }
}

function syncDirectorySync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // See syncDirectory.
  }
}
