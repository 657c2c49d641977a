/**
 * The one reader of user-chosen files (engine/io/read-file.ts): regular files only, opened without
 * blocking, and capped by the bytes actually read rather than by the size stat reports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUserFile } from '../../engine/io/read-file.js';
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
