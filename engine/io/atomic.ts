/**
 * Atomic file replacement: a reader (or a crash) sees either the old file or the complete new one, never a prefix.
 *
 * The temp file lives in the target's directory because rename() is only atomic within one filesystem.
 * fsync before rename so a power cut cannot leave the new name pointing at unwritten blocks.
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
