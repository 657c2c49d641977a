/**
 * The fuzzer's folders and the checks that nothing outside them changed.
 *
 *   <tmp>/netloom-fuzz-XXXX/
 *     sentinel/        files beside the test's folder: must be exactly as they were at the end
 *     work/            the test's folder
 *       inputs/        the damaged files, written by the fuzzer only (checked byte for byte)
 *       out/           where the fuzzer asks the engine to write (and decoys of other kinds it must not overwrite)
 *       special/       a FIFO, a folder named like a project, a symlink loop
 *       config/ home/ data/ tmp/ cwd/ xdg-*     the engine's per-user folders and working directory
 *
 * The CLI and `netloom serve` run with HOME, TMPDIR, XDG_* and every NETLOOM_* folder pointed
 * inside work/, and under an address-space limit, so a model too large for memory fails inside
 * that limit instead of taking the machine's memory.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * The first bytes of a file of another kind beside the test folder: no reply of serve may carry them
 * (issue 10 item 13). Short, because a JSON parse error quotes only the first 10 characters of its input.
 */
export const SECRET_MARKER = 'q7ZfX2vK';

/** Address-space limit of every engine process the fuzzer starts (bytes). */
export const MEMORY_LIMIT_BYTES = 3 * 2 ** 30;

export interface Sandbox {
  root: string;
  work: string;
  sentinel: string;
  inputs: string;
  out: string;
  special: string;
  cwd: string;
  /** env for the CLI and serve */
  env: NodeJS.ProcessEnv;
  /** decoy files in out/ (not Netloom's kinds): never overwritten, even when named as a target */
  decoys: string[];
  /** paths that are no regular file: a FIFO, /dev/zero, a folder, a symlink loop, ... */
  specialPaths: { name: string; path: string }[];
}

export function makeSandbox(builtinData: string): Sandbox {
  const root = mkdtempSync(path.join(tmpdir(), 'netloom-fuzz-'));
  const work = path.join(root, 'work');
  const dirs = ['inputs', 'out', 'special', 'config', 'home', 'data', 'tmp', 'cwd', 'xdg-config', 'xdg-data', 'xdg-cache'];
  for (const d of dirs) mkdirSync(path.join(work, d), { recursive: true });
  const sentinel = path.join(root, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(path.join(sentinel, 'project.json'), '{"format":"netloom-project","version":1,"name":"sentinel","graph":{"nodes":[],"edges":[]}}\n');
  writeFileSync(path.join(sentinel, 'notes.txt'), 'must not change\n');
  writeFileSync(path.join(sentinel, 'data.csv'), 'a,b\n1,x\n');
  writeFileSync(path.join(sentinel, 'secret.pem'), `${SECRET_MARKER}9sLw0Tr3\nfuzz,secret\n1,2\n`);
  writeFileSync(path.join(root, 'beside.txt'), 'a file beside the test folder\n');

  const out = path.join(work, 'out');
  const decoys = ['notes.txt', 'data.csv', 'picture.png', 'script.sh'].map((n) => path.join(out, n));
  for (const d of decoys) writeFileSync(d, `decoy ${path.basename(d)}\n`);
  mkdirSync(path.join(out, 'folder.json'));

  const special = path.join(work, 'special');
  const specialPaths: { name: string; path: string }[] = [
    { name: 'missing file', path: path.join(special, 'missing.json') },
    { name: 'folder', path: path.join(special, 'folder.json') },
    { name: 'symlink loop', path: path.join(special, 'loop.json') },
    { name: '/dev/null', path: '/dev/null' },
    { name: 'NUL in path', path: path.join(special, 'a\u0000b.json') },
    { name: 'long name', path: path.join(special, `${'x'.repeat(300)}.json`) },
    { name: 'relative', path: 'relative.json' },
    { name: 'home', path: '~/project.json' },
    { name: 'a key file beside the test folder', path: path.join(sentinel, 'secret.pem') },
  ];
  mkdirSync(path.join(special, 'folder.json'));
  symlinkSync('loop.json', path.join(special, 'loop.json'));
  if (spawnSync('mkfifo', [path.join(special, 'pipe.json')]).status === 0) specialPaths.push({ name: 'FIFO', path: path.join(special, 'pipe.json') });
  if (existsSync('/dev/zero')) specialPaths.push({ name: '/dev/zero', path: '/dev/zero' });

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: path.join(work, 'home'),
    TMPDIR: path.join(work, 'tmp'),
    XDG_CONFIG_HOME: path.join(work, 'xdg-config'),
    XDG_DATA_HOME: path.join(work, 'xdg-data'),
    XDG_CACHE_HOME: path.join(work, 'xdg-cache'),
    NETLOOM_CONFIG_DIR: path.join(work, 'config'),
    NETLOOM_DATA_DIR: path.join(work, 'data'),
    // the built-in MNIST / FashionMNIST copies, read only (never rebuilt in data/)
    NETLOOM_BUNDLED_DATA: builtinData,
    // a closed port: a download that should never start fails at once
    NETLOOM_DATASET_MIRROR: 'http://127.0.0.1:9',
  };
  return { root, work, sentinel, inputs: path.join(work, 'inputs'), out, special, cwd: path.join(work, 'cwd'), env, decoys, specialPaths };
}

/** The command that runs `argv` under the address-space limit (prlimit, else the shell's ulimit). */
export function limited(argv: string[]): string[] {
  const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
  if (prlimit) return [prlimit, `--as=${MEMORY_LIMIT_BYTES}`, '--', ...argv];
  // (a shell whose ulimit has no -v runs the command without the limit)
  return ['/bin/sh', '-c', `ulimit -v ${MEMORY_LIMIT_BYTES / 1024} 2>/dev/null; exec "$@"`, 'sh', ...argv];
}

// ---- snapshots -------------------------------------------------------------------------------------

/** relative path -> what identifies its content (hash for small files, size and time for large ones). */
export type Snapshot = Map<string, string>;

export function snapshot(dir: string, o: { hashBelow?: number; skip?: string[] } = {}): Snapshot {
  const out: Snapshot = new Map();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = lstatSync(full);
      const rel = path.relative(dir, full);
      if (o.skip?.includes(rel)) continue;
      if (st.isDirectory()) {
        out.set(`${rel}/`, 'dir');
        walk(full);
      } else if (st.isFile()) {
        out.set(rel, st.size < (o.hashBelow ?? 4 << 20) ? createHash('sha1').update(readFileSync(full)).digest('hex') : `${st.size}@${st.mtimeMs}`);
      } else out.set(rel, st.isSymbolicLink() ? 'link' : 'special');
    }
  };
  walk(dir);
  return out;
}

/** Lines naming every path added, removed or changed between two snapshots. */
export function diffSnapshots(before: Snapshot, after: Snapshot, where: string): string[] {
  const lines: string[] = [];
  for (const [k, v] of after) if (!before.has(k)) lines.push(`${where}/${k}: created`);
  else if (before.get(k) !== v) lines.push(`${where}/${k}: changed`);
  for (const k of before.keys()) if (!after.has(k)) lines.push(`${where}/${k}: removed`);
  return lines;
}

/** Files under `dir` (relative), for the checks of where the engine wrote. */
export function filesUnder(dir: string): string[] {
  return [...snapshot(dir, { hashBelow: 0 }).keys()].filter((k) => !k.endsWith('/'));
}

export function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
