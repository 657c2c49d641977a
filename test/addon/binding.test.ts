/**
 * Finding the native addon from a checkout and from an installed app, where the engine runs from
 * `resources/app.asar/dist/engine/runtime/` and the addon lies in `resources/app.asar.unpacked/`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON_PATH, addonPath, packageRoot } from '../../engine/runtime/binding.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-binding-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function touch(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '');
}

describe('packageRoot and addonPath', () => {
  it('in this checkout: the repo, and build/native/Release/netloom.node', () => {
    expect(packageRoot()).toBe(repo);
    expect(addonPath()).toBe(path.join(repo, ...ADDON_PATH));
    expect(existsSync(addonPath())).toBe(true);
  });

  it('a checkout whose addon is not built yet is still the root (so the error says "not built")', () => {
    const co = path.join(tmp, 'checkout');
    touch(path.join(co, 'package.json'));
    touch(path.join(co, 'native', 'CMakeLists.txt'));
    mkdirSync(path.join(co, 'dist', 'engine', 'runtime'), { recursive: true });
    expect(packageRoot(path.join(co, 'dist', 'engine', 'runtime'))).toBe(co);
    expect(addonPath(co)).toBe(path.join(co, ...ADDON_PATH));
  });

  it('an installed app: the root is app.asar, the addon the unpacked copy beside it', () => {
    const resources = path.join(tmp, 'installed', 'resources');
    const asar = path.join(resources, 'app.asar');
    touch(path.join(asar, 'package.json'));
    mkdirSync(path.join(asar, 'dist', 'engine', 'runtime'), { recursive: true });
    const unpacked = path.join(resources, 'app.asar.unpacked', ...ADDON_PATH);
    touch(unpacked);
    expect(packageRoot(path.join(asar, 'dist', 'engine', 'runtime'))).toBe(asar);
    expect(addonPath(asar)).toBe(unpacked);
  });

  it('no installation above: NL_NATIVE_LOAD with a hint', () => {
    const lone = path.join(tmp, 'lone', 'dist', 'engine', 'runtime');
    mkdirSync(lone, { recursive: true });
    touch(path.join(tmp, 'lone', 'package.json')); // a package.json alone is not an installation
    let caught: unknown;
    try {
      packageRoot(lone);
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'NL_NATIVE_LOAD', message: expect.stringContaining('cannot find the Netloom installation folder'), hint: 'Reinstall Netloom.' });
  });
});
