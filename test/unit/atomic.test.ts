import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../engine/io/atomic.js';
import { NetloomError } from '../../engine/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const variants = [
  ['async', (p: string, d: Uint8Array | string) => writeFileAtomic(p, d)],
  ['sync', async (p: string, d: Uint8Array | string) => writeFileAtomicSync(p, d)],
] as const;

describe.each(variants)('writeFileAtomic (%s)', (name, write) => {
  const sub = path.join(dir, name);
  mkdirSync(sub);

  it('creates and then replaces a file, leaving no temp files', async () => {
    const p = path.join(sub, 'model.safetensors');
    await write(p, 'first');
    expect(readFileSync(p, 'utf8')).toBe('first');
    await write(p, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(p))).toEqual([1, 2, 3]);
    expect(readdirSync(sub)).toEqual(['model.safetensors']);
  });

  it('fails with NL_IO naming the path when the folder is missing', async () => {
    const p = path.join(sub, 'missing', 'x.bin');
    await expect(write(p, 'x')).rejects.toMatchObject({ code: 'NL_IO', message: expect.stringContaining(p) });
  });

  it('removes its temp file and leaves the target untouched when the rename fails', async () => {
    // Renaming a file over a non-empty directory fails after the temp file is fully written.
    const target = path.join(sub, 'occupied');
    mkdirSync(target);
    writeFileSync(path.join(target, 'keep.txt'), 'keep');
    let caught: unknown;
    try {
      await write(target, 'new data');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetloomError);
    expect((caught as NetloomError).hint).toMatch(/left unchanged/);
    expect(readFileSync(path.join(target, 'keep.txt'), 'utf8')).toBe('keep');
    expect(readdirSync(sub).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
