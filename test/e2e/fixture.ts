/**
 * A fresh `netloom serve` per test: the real engine behind the real renderer, on a free port,
 * with its own config folder (recent files, recovery) and a scratch folder for project files.
 * Screenshots go to test-results/e2e/screens/ (kept as artifacts).
 */
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Server {
  /** the URL with its token, as printed by `netloom serve` */
  url: string;
  token: string;
  origin: string;
  /** scratch folder for project files */
  workDir: string;
}

export const SCREENS = join(process.cwd(), 'test-results', 'e2e', 'screens');
mkdirSync(SCREENS, { recursive: true });

async function startServe(configDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'engine', 'host', 'cli.js'), 'serve', '--port', '0'], {
    env: { ...process.env, NETLOOM_CONFIG_DIR: configDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`netloom serve printed no URL in 20 s:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`netloom serve exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

export const test = base.extend<{ server: Server }>({
  server: async ({}, use) => {
    const root = mkdtempSync(join(tmpdir(), 'netloom-e2e-'));
    const configDir = join(root, 'config');
    const workDir = join(root, 'work');
    mkdirSync(configDir);
    mkdirSync(workDir);
    const { child, url } = await startServe(configDir);
    const u = new URL(url);
    await use({ url, token: u.searchParams.get('token')!, origin: u.origin, workDir });
    child.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  },
});

export { expect };

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
