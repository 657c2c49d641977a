import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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
    const e = await write(p, 'x').then(() => undefined, (x: NetloomError) => x);
    // an Error's message is not enumerable: toMatchObject on the error itself would not look at it
    expect({ code: e?.code, message: e?.message }).toMatchObject({ code: 'NL_IO', message: expect.stringContaining(p) });
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

/**
 * Issue 10, item 12: a save killed with -9 leaves its hidden temp file `.<name>.<pid>.<12 hex>.tmp`.
 * The next save of that file removes such leftovers when their writer is gone (no process has the
 * pid) or they are over a day old (the pid was reused); a save in progress and files that only
 * look similar are kept.
 */
describe.each(variants)('stale temp files of interrupted saves (%s)', (name, write) => {
  it('removes the dead writer\'s leftover, keeps a live one and every look-alike', async () => {
    const sub = path.join(dir, `stale-${name}`);
    mkdirSync(sub);
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!; // exited: nobody has this pid now
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      const live = sleeper.pid!;
      const files = {
        dead: `.model.safetensors.${deadPid}.a1b2c3d4e5f6.tmp`,
        // the pid of a process that is alive, e.g. another Netloom saving right now
        otherLive: `.model.safetensors.${live}.0123456789ab.tmp`,
        // this process, mid-save
        ours: `.model.safetensors.${process.pid}.00ff00ff00ff.tmp`,
        // live pid, but two days old: the pid was reused by an unrelated process
        reused: `.model.safetensors.${live}.fedcba987654.tmp`,
        otherTarget: `.other.safetensors.${deadPid}.a1b2c3d4e5f6.tmp`,
        notHidden: `model.safetensors.${deadPid}.a1b2c3d4e5f6.tmp`,
        shortHex: `.model.safetensors.${deadPid}.a1b2c3.tmp`,
        upperHex: `.model.safetensors.${deadPid}.A1B2C3D4E5F6.tmp`,
        notPid: `.model.safetensors.x${deadPid}.a1b2c3d4e5f6.tmp`,
        oldButNotOurs: `.model.safetensors.${deadPid}.a1b2c3d4e5f6.tmp.bak`,
      };
      for (const f of Object.values(files)) writeFileSync(path.join(sub, f), 'partial');
      const twoDaysAgo = (Date.now() - 2 * 86_400_000) / 1000;
      utimesSync(path.join(sub, files.reused), twoDaysAgo, twoDaysAgo);
      utimesSync(path.join(sub, files.oldButNotOurs), twoDaysAgo, twoDaysAgo);

      await write(path.join(sub, 'model.safetensors'), 'whole');

      const left = new Set(readdirSync(sub));
      expect(readFileSync(path.join(sub, 'model.safetensors'), 'utf8')).toBe('whole');
      expect(left.has(files.dead), 'the dead writer\'s leftover').toBe(false);
      expect(left.has(files.reused), 'a leftover over a day old').toBe(false);
      for (const k of ['otherLive', 'ours', 'otherTarget', 'notHidden', 'shortHex', 'upperHex', 'notPid', 'oldButNotOurs'] as const)
        expect(left.has(files[k]), k).toBe(true);
    } finally {
      sleeper.kill();
    }
  });
});
