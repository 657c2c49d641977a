/**
 * `npm start` on a machine where the Electron binary cannot be had (ours: allowScripts skips its
 * download and only the npm registry is reachable): the launcher runs Electron's own install step,
 * says in one line why there is no window, and starts `netloom serve` instead. Where the binary is
 * installed (the release workflow), this launches the real app instead, so the test skips there.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

function electronInstalled(): boolean {
  try {
    return existsSync(createRequire(import.meta.url)('electron') as string);
  } catch {
    return false;
  }
}

it.skipIf(electronInstalled())('falls back to netloom serve in one line when Electron cannot be installed', async () => {
  // ELECTRON_SKIP_BINARY_DOWNLOAD makes Electron's install step skip the download, as an offline machine would fail it.
  const child = spawn(process.execPath, ['electron/start.mjs'], { env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (/Netloom is running at http:\/\/127\.0\.0\.1:\d+\/\?token=/.test(out)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the launcher exited (${code}) before serving:\n${out}\n${err}`)));
    });
  } finally {
    child.kill('SIGTERM');
  }
  const lines = out.trim().split('\n');
  expect(lines[0]).toMatch(/^netloom: the Electron binary could not be installed \(the download was skipped \(ELECTRON_SKIP_BINARY_DOWNLOAD\)\); starting `netloom serve` instead/);
  // one line from the launcher, then serve's own output
  expect(lines.findIndex((l) => l.startsWith('Netloom is running at '))).toBe(1);
});
