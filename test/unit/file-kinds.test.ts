/**
 * file-kinds.ts: the rule every user-chosen path of EngineService goes through (the service's use of it
 * is tested in test/integration/file-guards.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRead, checkWrite, hasKind, writePath } from '../../engine/io/file-kinds.js';

const dir = mkdtempSync(join(tmpdir(), 'netloom-file-kinds-'));

describe('hasKind / writePath', () => {
  it('matches the extension case-insensitively, never a bare extension', () => {
    expect(hasKind('checkpoint', '/a/m.SafeTensors')).toBe(true);
    expect(hasKind('project', '/a/p.netloom')).toBe(true);
    expect(hasKind('project', '/a/p.json')).toBe(true);
    expect(hasKind('csv', '/a/t.tsv')).toBe(true);
    for (const [k, f] of [['csv', '/a/t.txt'], ['checkpoint', '/a/m.pt'], ['checkpoint', '/a/.safetensors'], ['project', '/a/p.json.bak'], ['csv', '/a/id_rsa']] as const)
      expect(hasKind(k, f), f).toBe(false);
  });
  it('adds the kind\'s extension to any other name, so no other kind of file is ever written', () => {
    expect(writePath('checkpoint', '/a/notes.txt')).toBe('/a/notes.txt.safetensors');
    expect(writePath('checkpoint', '/a/m.safetensors')).toBe('/a/m.safetensors');
    expect(writePath('project', '/a/model')).toBe('/a/model.json');
    expect(writePath('project', '/a/model.netloom')).toBe('/a/model.netloom');
    expect(writePath('project', '~/x.json')).toBe(join(homedir(), 'x.json'));
  });
});

describe('checkWrite', () => {
  it('a new file: its path; an existing one: NL_EXISTS unless overwrite; a folder or a FIFO: NL_IO always', async () => {
    expect(await checkWrite('checkpoint', join(dir, 'new'))).toBe(join(dir, 'new.safetensors'));
    writeFileSync(join(dir, 'old.safetensors'), 'x');
    await expect(checkWrite('checkpoint', join(dir, 'old.safetensors'))).rejects.toMatchObject({ code: 'NL_EXISTS' });
    expect(await checkWrite('checkpoint', join(dir, 'old.safetensors'), { overwrite: true })).toBe(join(dir, 'old.safetensors'));
    mkdirSync(join(dir, 'd.json'));
    execFileSync('mkfifo', [join(dir, 'f.json')]);
    for (const f of ['d.json', 'f.json']) await expect(checkWrite('project', join(dir, f), { overwrite: true }), f).rejects.toMatchObject({ code: 'NL_IO' });
  });
});

describe('checkRead', () => {
  it('refuses another kind without touching the file, and anything but a regular file', async () => {
    await expect(checkRead('csv', join(dir, 'no-such-dir', 'x.txt'))).rejects.toMatchObject({ code: 'NL_UNSUPPORTED', message: expect.stringContaining('x.txt is not one') });
    expect(await checkRead('csv', join(dir, 'missing.csv'))).toBe(join(dir, 'missing.csv')); // the reader says it is missing
    writeFileSync(join(dir, 't.csv'), 'a\n1\n');
    expect(await checkRead('csv', join(dir, 't.csv'))).toBe(join(dir, 't.csv'));
    mkdirSync(join(dir, 'd.csv'));
    execFileSync('mkfifo', [join(dir, 'p.csv')]);
    for (const f of ['d.csv', 'p.csv']) await expect(checkRead('csv', join(dir, f)), f).rejects.toMatchObject({ code: 'NL_IO' });
  });
});
