/**
 * file-kinds.ts: the rule every user-chosen path of EngineService goes through (the service's use of it
 * is tested in test/integration/file-guards.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILE_KINDS, checkRead, checkWrite, expandHome, hasKind, writePath } from '../../engine/io/file-kinds.js';

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

/** What `p` rejects with, as a plain object (an Error's message is not enumerable). */
async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string; hint?: string; cause?: unknown }> {
  try {
    await p;
  } catch (e) {
    const x = e as { code?: string; message: string; hint?: string; cause?: unknown };
    return { code: x.code, message: x.message, hint: x.hint, cause: x.cause };
  }
  throw new Error('expected a rejection');
}

describe('the kinds, in the words the messages use', () => {
  it('names each kind and its extensions, the one added first', () => {
    expect(FILE_KINDS).toEqual({
      project: { plural: 'projects', extensions: ['.json', '.netloom'] },
      checkpoint: { plural: 'checkpoints', extensions: ['.safetensors'] },
      weights: { plural: 'checkpoints', extensions: ['.safetensors', '.pt', '.pth', '.bin', '.onnx'] },
      torch: { plural: 'PyTorch state dicts', extensions: ['.pt', '.pth'] },
      onnx: { plural: 'ONNX models', extensions: ['.onnx'] },
      csv: { plural: 'CSV tables', extensions: ['.csv', '.tsv'] },
    });
  });

  it('a bare extension, or an extension after a separator, is no name of the kind', () => {
    for (const f of ['.safetensors', '/a/.safetensors', 'a/.safetensors', 'a\\.safetensors', '/a/b/.SAFETENSORS']) expect(hasKind('checkpoint', f), f).toBe(false);
    for (const f of ['x.safetensors', 'a.b.safetensors', '.x.safetensors']) expect(hasKind('checkpoint', f), f).toBe(true);
  });

  it('weights are read from every checkpoint format; a PyTorch export is written as .pt unless it says .pth', () => {
    for (const f of ['m.safetensors', 'm.PT', 'm.pth', 'pytorch_model.bin', 'm.onnx']) expect(hasKind('weights', f), f).toBe(true);
    for (const f of ['m.json', 'm.pt.txt', 'm.npy', 'm.h5']) expect(hasKind('weights', f), f).toBe(false);
    expect(writePath('torch', '/a/model')).toBe('/a/model.pt');
    expect(writePath('torch', '/a/model.pth')).toBe('/a/model.pth');
    expect(writePath('onnx', '/a/model.pt')).toBe('/a/model.pt.onnx');
  });

  it('"~" alone, "~/x" and "~\\x" are in the home folder; no other "~" is', () => {
    expect(expandHome('~')).toBe(homedir());
    expect(expandHome('~/a/b.json')).toBe(join(homedir(), 'a/b.json'));
    expect(expandHome('~\\b.json')).toBe(join(homedir(), 'b.json'));
    for (const p of ['~user/x', 'a/~/x', 'x~/', '/~', '~~', '']) expect(expandHome(p), p).toBe(p);
  });
});

describe('what checkWrite and checkRead say', () => {
  const fifo = join(dir, 'said.fifo.json');
  execFileSync('mkfifo', [fifo]);
  mkdirSync(join(dir, 'said-dir.csv'));
  writeFileSync(join(dir, 'said.safetensors'), 'x');

  it('checkWrite: a folder, a FIFO, an existing file', async () => {
    const folder = join(dir, 'd.json');
    expect(await refusal(checkWrite('project', folder, { overwrite: true }))).toMatchObject({ code: 'NL_IO', message: `Could not save to ${folder}: it is a folder`, hint: 'Choose a file name inside the folder.' });
    expect(await refusal(checkWrite('project', fifo, { overwrite: true }))).toMatchObject({ code: 'NL_IO', message: `Could not save to ${fifo}: it is a named pipe (FIFO), not a regular file`, hint: 'Choose another file name.' });
    const old = join(dir, 'said.safetensors');
    expect(await refusal(checkWrite('checkpoint', old))).toMatchObject({ code: 'NL_EXISTS', message: `${old} already exists`, hint: 'Choose another name, or confirm that the file should be replaced.' });
    expect(await refusal(checkWrite('checkpoint', old, { overwrite: 'yes' as unknown as boolean }))).toMatchObject({ code: 'NL_EXISTS' });
  });

  it('checkRead: another kind (without looking at the file), a folder, a FIFO', async () => {
    expect(await refusal(checkRead('csv', join(dir, 'x.txt')))).toMatchObject({
      code: 'NL_UNSUPPORTED', message: 'Netloom reads CSV tables only from .csv, .tsv files, and x.txt is not one', hint: 'Choose a .csv, .tsv file (rename a table saved under another name).',
    });
    expect(await refusal(checkRead('checkpoint', join(dir, 'm.pt')))).toMatchObject({
      code: 'NL_UNSUPPORTED', message: 'Netloom reads checkpoints only from .safetensors files, and m.pt is not one', hint: 'Choose a .safetensors file.',
    });
    expect(await refusal(checkRead('project', '/'))).toMatchObject({ message: 'Netloom reads projects only from .json, .netloom files, and / is not one', hint: 'Choose a .json, .netloom file.' });
    const folder = join(dir, 'said-dir.csv');
    expect(await refusal(checkRead('csv', folder))).toMatchObject({ code: 'NL_IO', message: `Could not read ${folder}: it is a folder`, hint: 'Choose a .csv, .tsv file inside it.' });
    expect(await refusal(checkRead('project', fifo))).toMatchObject({
      code: 'NL_IO', message: `${fifo} is a named pipe (FIFO), not a regular file`, hint: 'Choose a .json, .netloom file saved on disk; Netloom does not read from pipes or devices.',
    });
  });

  it('a path through a file cannot be checked: NL_IO with the reason, for a save and for a read', async () => {
    const through = join(dir, 'said.safetensors', 'x.safetensors');
    for (const p of [checkWrite('checkpoint', through), checkRead('checkpoint', through)]) {
      const e = await refusal(p);
      expect(e).toMatchObject({ code: 'NL_IO', message: `Could not check ${through}: ENOTDIR: not a directory, stat '${through}'`, hint: 'Choose another folder.' });
      expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    }
  });
});
