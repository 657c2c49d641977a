/**
 * The one reader of user-chosen files (engine/io/read-file.ts): regular files only, opened without
 * blocking, and capped by the bytes actually read rather than by the size stat reports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kindOf, openUserFile, readUserFile } from '../../engine/io/read-file.js';
import { rejection } from '../support/rejection.js';

const dir = mkdtempSync(join(tmpdir(), 'netloom-read-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


describe('readUserFile', () => {
  it('caps by the bytes read, not the size stat reports (a /proc file says 0 bytes)', async () => {
    const proc = '/proc/self/status';
    if (!existsSync(proc)) return;
    expect(await rejection(readUserFile(proc, { maxBytes: 64, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }))).toMatchObject({
      code: 'NL_BAD_PROJECT',
      message: `${proc} is larger than 64 bytes, too large for a test file`,
    });
    const all = await readUserFile(proc, { maxBytes: 1 << 20, what: 'test file', tooLarge: 'NL_BAD_PROJECT' });
    expect(all.toString('utf8')).toMatch(/^Name:/);
  });

  it('reads a regular file whole, and one byte over the cap is refused', async () => {
    const f = join(dir, 'ten.bin');
    execFileSync('sh', ['-c', `printf 0123456789 > '${f}'`]);
    expect((await readUserFile(f, { maxBytes: 10, what: 'test file', tooLarge: 'NL_BAD_PROJECT' })).toString()).toBe('0123456789');
    expect(await rejection(readUserFile(f, { maxBytes: 9, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }))).toMatchObject({ code: 'NL_BAD_PROJECT' });
  });
});

describe('what a file that is not a regular file is called', () => {
  it('kindOf names FIFOs, character and block devices, sockets, and anything else', async () => {
    const fifo = join(dir, 'k.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(kindOf(statSync(fifo))).toBe('a named pipe (FIFO)');
    expect(kindOf(statSync('/dev/null'))).toBe('a character device');
    const block = existsSync('/dev') ? readdirSync('/dev').map((f) => join('/dev', f)).find((f) => { try { return statSync(f).isBlockDevice(); } catch { return false; } }) : undefined;
    if (block) expect(kindOf(statSync(block))).toBe('a block device');
    const sock = join(dir, 'k.sock');
    const server = createServer().listen(sock);
    await once(server, 'listening');
    try {
      expect(kindOf(statSync(sock))).toBe('a socket');
    } finally {
      server.close();
    }
    expect(kindOf(statSync(dir))).toBe('not a plain file');
  });

  it('openUserFile refuses a device by name, and a folder as a read of it would', async () => {
    expect(await rejection(readUserFile('/dev/zero', { maxBytes: 10, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }))).toEqual({
      code: 'NL_IO', message: '/dev/zero is a character device, not a regular file',
    });
    const e = await openUserFile(dir).then(() => undefined, (x: NodeJS.ErrnoException) => x);
    expect({ code: e?.code, message: e?.message, path: e?.path }).toEqual({ code: 'EISDIR', message: `EISDIR: illegal operation on a directory, read '${dir}'`, path: dir });
    const hint = await readUserFile('/dev/zero', { maxBytes: 10, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }).catch((x: { hint?: string }) => x.hint);
    expect(hint).toBe('Choose a file saved on disk; Netloom does not read from pipes or devices.');
  });
});

describe('the too-large refusal', () => {
  /** A sparse file of `bytes` bytes (no disk space), refused from its stated size before any read. */
  function sparse(name: string, bytes: number): string {
    const f = join(dir, name);
    writeFileSync(f, '');
    truncateSync(f, bytes);
    return f;
  }
  const refusal = async (f: string, maxBytes: number, hint?: string) => {
    try {
      await readUserFile(f, { maxBytes, what: 'checkpoint', tooLarge: 'NL_BAD_CHECKPOINT', hint });
    } catch (e) {
      const x = e as { code?: string; message: string; hint?: string };
      return { code: x.code, message: x.message, hint: x.hint };
    }
    throw new Error('expected a rejection');
  };

  it('states the cap in GiB or MiB when it is a whole number of them, else in bytes', async () => {
    const cases: [number, string][] = [[2 ** 30, '1 GiB'], [3 * 2 ** 30, '3 GiB'], [2 ** 20, '1 MiB'], [1536 * 2 ** 20, '1536 MiB'], [2 ** 20 + 1, '1048577 bytes'], [2 ** 30 + 2 ** 20, '1025 MiB'], [1000, '1000 bytes']];
    for (const [cap, text] of cases) {
      const f = sparse(`cap-${cap}.bin`, cap + 1);
      expect(await refusal(f, cap), text).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${f} is larger than ${text}, too large for a checkpoint`, hint: 'Choose the checkpoint itself, not another kind of file.' });
    }
    expect((await refusal(sparse('hinted.bin', 11), 10, 'Pick the .safetensors file.')).hint).toBe('Pick the .safetensors file.');
  });

  // /proc/kallsyms says 0 bytes and holds megabytes: the reader grows its buffer as it goes
  const BIG_PROC = '/proc/kallsyms';
  const bigProc = (() => { try { return readFileSync(BIG_PROC).length > 256 * 1024; } catch { return false; } })();
  it.skipIf(!bigProc)('reads a file far larger than its stated size whole, and refuses it past the cap', async () => {
    const whole = readFileSync(BIG_PROC);
    const got = await readUserFile(BIG_PROC, { maxBytes: 64 * 2 ** 20, what: 'test file', tooLarge: 'NL_BAD_PROJECT' });
    expect(got.length).toBe(whole.length);
    expect(got.equals(whole)).toBe(true);
    expect(await rejection(readUserFile(BIG_PROC, { maxBytes: 200_000, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }))).toEqual({
      code: 'NL_BAD_PROJECT', message: `${BIG_PROC} is larger than 200000 bytes, too large for a test file`,
    });
    // exactly its length is allowed
    expect((await readUserFile(BIG_PROC, { maxBytes: whole.length, what: 'test file', tooLarge: 'NL_BAD_PROJECT' })).length).toBe(whole.length);
  });
});

describe('readUserFile closes what it opens', () => {
  const openFds = () => readdirSync('/proc/self/fd').length;
  it.skipIf(!existsSync('/proc/self/fd'))('as many descriptors are open after 50 reads and 50 refusals as before', async () => {
    const f = join(dir, 'small.bin');
    writeFileSync(f, 'abc');
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      await readUserFile(f, { maxBytes: 10, what: 'test file', tooLarge: 'NL_BAD_PROJECT' });
      await readUserFile(f, { maxBytes: 2, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }).catch(() => undefined);
      await readUserFile('/dev/null', { maxBytes: 2, what: 'test file', tooLarge: 'NL_BAD_PROJECT' }).catch(() => undefined);
    }
    expect(openFds()).toBe(before);
  });
});
