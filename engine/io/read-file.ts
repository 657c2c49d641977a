/**
 * The one way the engine opens a file a user chose: a project, a checkpoint, a CSV, an image, a
 * dataset file, the recovery file.
 *
 * - Regular files only. The path is opened with O_NONBLOCK, so opening a FIFO returns at once
 *   instead of holding one of libuv's four file threads until a writer appears (five such opens
 *   used to stall every save and listing), then the open descriptor is fstat'ed (not the path, so
 *   nothing can be swapped in between) and anything but a regular file is refused by name: a
 *   FIFO, a device such as /dev/zero, a socket. A folder gets EISDIR, as a read of it would.
 * - Capped by the bytes actually read, not by the size fstat reports: /proc files report 0 bytes
 *   and a file can grow while it is read. Reading stops at maxBytes + 1 and the file is refused.
 *
 * Links are followed (a linked data folder is common); the checks apply to the file a link leads to.
 *
 * Other errors (ENOENT, EACCES, ...) are thrown as they come, so each caller keeps the message it
 * gives for a missing file; this module only adds the two refusals above.
 */
import { constants, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { NetloomError, type ErrorCode } from '../errors.js';

/** O_NONBLOCK does not exist on Windows, where opening a named pipe does not wait for a writer anyway. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export interface ReadUserFileOptions {
  /** the most bytes the file may hold */
  maxBytes: number;
  /** what the file should be, for messages: "Netloom project", "checkpoint" */
  what: string;
  /** the code of the too-large refusal (NL_BAD_PROJECT, NL_BAD_CHECKPOINT, ...) */
  tooLarge: ErrorCode;
  /** the hint of the too-large refusal */
  hint?: string;
}

/** What a file that is not a regular file is, for messages: "a named pipe (FIFO)". */
export function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

/**
 * Opens `file` for reading and checks it is a regular file; the caller closes the handle.
 * Refuses other kinds with NL_IO; a folder throws an EISDIR error like a read of it would.
 */
export async function openUserFile(file: string): Promise<{ handle: fsp.FileHandle; size: number }> {
  const handle = await fsp.open(file, OPEN_FLAGS);
  try {
    const st = await handle.stat();
    if (st.isFile()) return { handle, size: st.size };
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR', path: file });
    throw new NetloomError('NL_IO', `${file} is ${kindOf(st)}, not a regular file`, 'Choose a file saved on disk; Netloom does not read from pipes or devices.');
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

function sizeText(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  return `${bytes} bytes`;
}

function tooLargeError(file: string, o: ReadUserFileOptions): NetloomError {
  return new NetloomError(o.tooLarge, `${file} is larger than ${sizeText(o.maxBytes)}, too large for a ${o.what}`,
    o.hint ?? `Choose the ${o.what} itself, not another kind of file.`);
}

/** The whole of a regular file of at most maxBytes bytes (see the module comment). */
export async function readUserFile(file: string, o: ReadUserFileOptions): Promise<Buffer> {
  const { handle, size } = await openUserFile(file);
  try {
    // Stryker disable next-line ConditionalExpression: an early refusal; the read below refuses the same file after maxBytes + 1 bytes
    if (size > o.maxBytes) throw tooLargeError(file, o);
    // size + 1 so that one read past the stated size tells whether the file grew
    // Stryker disable next-line all: the first buffer's size changes how many reads it takes, not what they return
    let buf = Buffer.allocUnsafe(Math.min(o.maxBytes + 1, Math.max(size + 1, 64 * 1024)));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > o.maxBytes) throw tooLargeError(file, o);
        const grown = Buffer.allocUnsafe(Math.min(o.maxBytes + 1, buf.length * 2));
        buf.copy(grown, 0, 0, got);
        buf = grown;
      }
      const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // Stryker disable next-line ConditionalExpression: never true (the buffer holds at most maxBytes + 1, and the loop refuses a full one); kept as the rule itself
    if (got > o.maxBytes) throw tooLargeError(file, o);
    return buf.subarray(0, got);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * readUserFile for a file the user named: the system's refusals (a missing file, no permission) become
 * NL_IO errors naming the file, e.g. "model.pt: checkpoint file not found (looked for /home/me/model.pt)".
 */
export async function readNamedFile(file: string, o: ReadUserFileOptions & { notFound: string; ioHint: string }): Promise<Buffer> {
  try {
    return await readUserFile(file, o);
  } catch (cause) {
    if (cause instanceof NetloomError) throw cause;
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new NetloomError('NL_IO',
      missing ? `${file}: ${o.notFound}${isAbsolute(file) ? '' : ` (looked for ${resolve(file)})`}` : `Could not read ${file}: ${(cause as Error).message}`,
      o.ioHint, { cause });
  }
}

