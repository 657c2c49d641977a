import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { STALE_TEMP_MS, writeFileAtomic, writeFileAtomicSync, type SaveFs, type SaveFsSync } from '../../engine/io/atomic.js';
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

/**
 * Which writer counts as gone, and when a leftover is too old to be a save in progress. As root (CI, containers)
 * no process is out of reach, so "exists but belongs to another user" (EPERM from kill(pid, 0)) is simulated by
 * answering process.kill for two made-up pids; the clock is pinned so that "a day old" is exact.
 */
describe.each(variants)('stale temp files: whose and how old (%s)', (name, write) => {
  const OTHER_USERS = 4_000_000_001; // exists, but kill(pid, 0) is refused: EPERM
  const GONE = 4_000_000_002; // no such process: ESRCH
  afterEach(() => vi.restoreAllMocks());

  function fakePids(): void {
    const kill = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
      if (pid === OTHER_USERS) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
      if (pid === GONE) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
      return kill(pid, signal);
    });
  }

  it("keeps a live writer's leftover that belongs to another user; removes one whose writer is gone", async () => {
    fakePids();
    const sub = path.join(dir, `whose-${name}`);
    mkdirSync(sub);
    const otherUsers = `.data.csv.${OTHER_USERS}.0a0b0c0d0e0f.tmp`;
    const gone = `.data.csv.${GONE}.0a0b0c0d0e0f.tmp`;
    for (const f of [otherUsers, gone]) writeFileSync(path.join(sub, f), 'partial');
    await write(path.join(sub, 'data.csv'), 'whole');
    expect(readdirSync(sub).sort()).toEqual([otherUsers, 'data.csv'].sort());
  });

  it('a live writer\'s leftover is kept up to a day old (a long save is still a save), removed once over a day', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000; // whole seconds: file times hold them exactly
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const sub = path.join(dir, `age-${name}`);
    mkdirSync(sub);
    const ages: Record<string, number> = { hour: 3_600_000, almostADay: STALE_TEMP_MS - 1000, aDay: STALE_TEMP_MS, overADay: STALE_TEMP_MS + 1000 };
    const names: Record<string, string> = {};
    let i = 0;
    for (const [k, age] of Object.entries(ages)) {
      // this process's pid: a writer that is certainly alive
      names[k] = `.log.json.${process.pid}.${String(++i).padStart(12, '0')}.tmp`;
      writeFileSync(path.join(sub, names[k]), 'partial');
      utimesSync(path.join(sub, names[k]), (now - age) / 1000, (now - age) / 1000);
    }
    expect(STALE_TEMP_MS, 'a day').toBe(86_400_000);
    await write(path.join(sub, 'log.json'), 'whole');
    const left = new Set(readdirSync(sub));
    for (const k of ['hour', 'almostADay', 'aDay']) expect(left.has(names[k]), `${k} old`).toBe(true);
    expect(left.has(names.overADay), 'over a day old').toBe(false);
  });
});

// ---- the property: an interrupted save leaves the old file, byte for byte ---------------------------------------

/**
 * Issue 15: "atomic" is a property of what is on disk, so it is checked there. A recording wrapper around the real
 * file system (atomic.ts SaveFs) names each call of a save by what it touches (the temp file, the target, the
 * folder); the tests then fail the save before each call in turn, or kill the writing process before each call,
 * and look at the target and at a hard link to the old file.
 */
const OLD = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 31 + 7) & 0xff));
const NEW = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 17 + 3) & 0xff));

/** What a path is to a save of `target`: its temp file (hidden, beside it), the target, or its folder. */
function namer(target: string): (p: string) => string {
  const dir = path.dirname(target);
  return (p) => {
    if (p === target) return 'target';
    if (p === dir) return 'dir';
    if (path.dirname(p) === dir && path.basename(p).startsWith(`.${path.basename(target)}.`) && p.endsWith('.tmp')) return 'temp';
    return `other ${p}`;
  };
}

/** node:fs/promises, with `before(step)` called before each call; a step is "<call> <what>", e.g. "fsync temp". */
function steppedFs(target: string, before: (step: string) => void): SaveFs {
  const name = namer(target);
  return {
    async open(p, flags, mode) {
      before(`open ${name(p)}`);
      const h = await fsp.open(p, flags, mode);
      const what = name(p);
      return {
        async writeFile(data) {
          before(`write ${what}`);
          await h.writeFile(data);
        },
        async sync() {
          before(`fsync ${what}`);
          await h.sync();
        },
        async close() {
          before(`close ${what}`);
          await h.close();
        },
      };
    },
    async rename(from, to) {
      before(`rename ${name(from)} ${name(to)}`);
      await fsp.rename(from, to);
    },
    async rm(p, options) {
      before(`rm ${name(p)}`);
      await fsp.rm(p, options);
    },
  };
}

/** node:fs, the same way. */
function steppedFsSync(target: string, before: (step: string) => void): SaveFsSync {
  const name = namer(target);
  const fds = new Map<number, string>();
  return {
    openSync(p, flags, mode) {
      before(`open ${name(p)}`);
      const fd = fs.openSync(p, flags, mode);
      fds.set(fd, name(p));
      return fd;
    },
    writeFileSync(fd, data) {
      before(`write ${fds.get(fd)}`);
      fs.writeFileSync(fd, data);
    },
    fsyncSync(fd) {
      before(`fsync ${fds.get(fd)}`);
      fs.fsyncSync(fd);
    },
    closeSync(fd) {
      before(`close ${fds.get(fd)}`);
      fs.closeSync(fd);
    },
    renameSync(from, to) {
      before(`rename ${name(from)} ${name(to)}`);
      fs.renameSync(from, to);
    },
    rmSync(p, options) {
      before(`rm ${name(p)}`);
      fs.rmSync(p, options);
    },
  };
}

const stepped = [
  ['async', (target: string, data: Uint8Array, before: (step: string) => void) => writeFileAtomic(target, data, steppedFs(target, before))],
  ['sync', async (target: string, data: Uint8Array, before: (step: string) => void) => writeFileAtomicSync(target, data, steppedFsSync(target, before))],
] as const;

/** The calls of a save that completes, in order: the data reaches the disk before the new name does. */
const SAVE_STEPS = ['open temp', 'write temp', 'fsync temp', 'close temp', 'rename temp target', 'open dir', 'fsync dir', 'close dir'];
const RENAME = SAVE_STEPS.indexOf('rename temp target');

let caseNo = 0;
/** A fresh folder holding `target` with the OLD bytes and a hard link to it. */
function oldFile(): { target: string; link: string; ino: number } {
  const sub = path.join(dir, `prop-${++caseNo}`);
  mkdirSync(sub);
  const target = path.join(sub, 'weights.safetensors');
  writeFileSync(target, OLD);
  const link = path.join(sub, 'old-link');
  linkSync(target, link);
  return { target, link, ino: statSync(target).ino };
}

const temps = (target: string) => readdirSync(path.dirname(target)).filter((f) => f.endsWith('.tmp'));

describe.each(stepped)('an interrupted save leaves the old file (%s)', (_name, save) => {
  it('a save writes and fsyncs a temp file, renames it over the target, then fsyncs the folder', async () => {
    const { target } = oldFile();
    const steps: string[] = [];
    await save(target, NEW, (s) => steps.push(s));
    expect(steps).toEqual(SAVE_STEPS);
    expect(readFileSync(target).equals(NEW)).toBe(true);
  });

  it('a failure before any step up to the rename: NL_IO, and the old file byte for byte (same inode), no temp left', async () => {
    for (let k = 0; k <= RENAME; k++) {
      const { target, link, ino } = oldFile();
      let armed = true;
      const e = await save(target, NEW, (s) => {
        if (armed && s === SAVE_STEPS[k]) {
          armed = false;
          throw Object.assign(new Error(`injected ENOSPC before "${s}"`), { code: 'ENOSPC' });
        }
      }).then(() => undefined, (x: unknown) => x);
      expect(armed, `the save reached "${SAVE_STEPS[k]}"`).toBe(false);
      expect(e, SAVE_STEPS[k]).toBeInstanceOf(NetloomError);
      expect((e as NetloomError).code).toBe('NL_IO');
      expect((e as NetloomError).message).toContain(target);
      expect((e as NetloomError).hint).toMatch(/left unchanged/);
      expect(readFileSync(target).equals(OLD), `target after a failure before "${SAVE_STEPS[k]}"`).toBe(true);
      expect(statSync(target).ino).toBe(ino);
      expect(readFileSync(link).equals(OLD)).toBe(true);
      expect(temps(target), SAVE_STEPS[k]).toEqual([]);
    }
  });

  it("the NL_IO error carries the system's error as its cause (its code, ENOSPC here, reaches the log)", async () => {
    const { target } = oldFile();
    const injected = Object.assign(new Error('injected ENOSPC'), { code: 'ENOSPC' });
    const e = await save(target, NEW, (s) => {
      if (s === 'write temp') throw injected;
    }).then(() => undefined, (x: unknown) => x);
    expect((e as NetloomError).code).toBe('NL_IO');
    expect((e as NetloomError).message).toBe(`Could not write ${target}: injected ENOSPC`);
    expect((e as NetloomError).cause).toBe(injected);
  });

  it.runIf(existsSync('/proc/self/fd'))('a failed save closes the temp file it opened (no descriptor leaks, whichever step failed)', async () => {
    const open = () => readdirSync('/proc/self/fd').length;
    for (const step of ['write temp', 'fsync temp', 'close temp', 'rename temp target']) {
      const { target } = oldFile();
      const before = open();
      let armed = true;
      await save(target, NEW, (s) => {
        if (armed && s === step) {
          armed = false;
          throw new Error(`injected EIO before "${s}"`);
        }
      }).then(() => undefined, () => undefined);
      expect(armed).toBe(false);
      expect(open(), `open descriptors after a failure before "${step}"`).toBe(before);
    }
  });

  it('a failure after the rename (syncing the folder is best effort): the new file, whole', async () => {
    for (let k = RENAME + 1; k < SAVE_STEPS.length; k++) {
      const { target, link } = oldFile();
      let armed = true;
      await save(target, NEW, (s) => {
        if (armed && s === SAVE_STEPS[k]) {
          armed = false;
          throw new Error(`injected EIO before "${s}"`);
        }
      });
      expect(armed).toBe(false);
      expect(readFileSync(target).equals(NEW), SAVE_STEPS[k]).toBe(true);
      expect(readFileSync(link).equals(OLD)).toBe(true);
      expect(temps(target)).toEqual([]);
    }
  });

  it('after a save, a hard link to the old file still holds the old bytes (the file was replaced, not written in place)', async () => {
    const { target, link, ino } = oldFile();
    await save(target, NEW, () => {});
    expect(readFileSync(target).equals(NEW)).toBe(true);
    expect(readFileSync(link).equals(OLD)).toBe(true);
    expect(statSync(target).ino).not.toBe(ino);
    expect(statSync(link).ino).toBe(ino);
  });
});

/**
 * The writer killed (SIGKILL: no catch, no cleanup) before each call of its save. A child process saves through
 * the compiled module (dist/, as `npm test` builds it) with a wrapper that kills it before its k-th file-system
 * call; whatever k, the target holds the old bytes or, once the rename is done, the whole new file. The next save
 * (by another process) removes what the dead writer left.
 */
const CHILD = `
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
const [modulePath, target, newFile, variant, k] = process.argv.slice(1);
const { writeFileAtomic, writeFileAtomicSync } = await import(modulePath);
let calls = 0;
const die = () => { if (calls++ === Number(k)) process.kill(process.pid, 'SIGKILL'); };
const data = fs.readFileSync(newFile);
if (variant === 'sync') {
  const io = {};
  for (const f of ['openSync', 'writeFileSync', 'fsyncSync', 'closeSync', 'renameSync', 'rmSync']) io[f] = (...a) => (die(), fs[f](...a));
  writeFileAtomicSync(target, data, io);
} else {
  const io = {
    open: async (...a) => {
      die();
      const h = await fsp.open(...a);
      return { writeFile: async (d) => (die(), h.writeFile(d)), sync: async () => (die(), h.sync()), close: async () => (die(), h.close()) };
    },
    rename: async (...a) => (die(), fsp.rename(...a)),
    rm: async (...a) => (die(), fsp.rm(...a)),
  };
  await writeFileAtomic(target, data, io);
}
`;

describe.each(['sync', 'async'])('a writer killed before any step of its save (%s)', (variant) => {
  const compiled = path.resolve('dist', 'engine', 'io', 'atomic.js');

  it('leaves the old file byte for byte until the rename, the whole new one after; the next save cleans up', async () => {
    expect(existsSync(compiled), `${compiled}: run npm run build:ts`).toBe(true);
    const newFile = path.join(dir, `new-${variant}.bin`);
    writeFileSync(newFile, NEW);
    for (let k = 0; k <= SAVE_STEPS.length; k++) {
      const { target, link, ino } = oldFile();
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, compiled, target, newFile, variant, String(k)], { encoding: 'utf8' });
      if (k < SAVE_STEPS.length) expect(r.signal, `killed before call ${k} ("${SAVE_STEPS[k]}"): ${r.stderr}`).toBe('SIGKILL');
      else expect(r.status, r.stderr).toBe(0); // no k-th call: the save completed
      const saved = k > RENAME;
      expect(readFileSync(target).equals(saved ? NEW : OLD), `killed before "${SAVE_STEPS[k] ?? 'nothing'}"`).toBe(true);
      if (!saved) expect(statSync(target).ino).toBe(ino);
      expect(readFileSync(link).equals(OLD)).toBe(true);
      // the dead writer's temp file (if it got as far as creating one) goes with the next save
      await writeFileAtomic(target, 'next');
      expect(temps(target)).toEqual([]);
      expect(readFileSync(target, 'utf8')).toBe('next');
    }
  });
});
