#!/usr/bin/env node
/**
 * `npm start`: opens the desktop app from a checkout.
 *
 * package.json's allowScripts skips Electron's install script (it downloads the Electron binary,
 * which fails on machines that reach only the npm registry), so the binary may be missing. Then
 * this runs Electron's own install step once; where that cannot reach the network either, it says
 * so in one line and starts `netloom serve`, the same app in a browser, instead.
 *
 * Arguments after `npm start --` go to the app (files to open).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

/** The Electron binary's path, or null when it is not installed. */
function electronBinary() {
  try {
    const p = require('electron'); // node_modules/electron/index.js: the binary's path, or it throws
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function run(command, commandArgs, env = process.env) {
  const child = spawn(command, commandArgs, { stdio: 'inherit', env, cwd: root });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (e) => {
    console.error(`netloom: could not start ${command}: ${e.message}`);
    process.exit(1);
  });
}

if (!existsSync(join(root, 'dist', 'electron', 'main.js'))) {
  console.error('netloom: the app is not built yet: run `npm install` (or `npm run build`) first.');
  process.exit(1);
}

let binary = electronBinary();
if (!binary) {
  // Electron's own install step (the one allowScripts skipped): downloads the binary for this system.
  const install = spawnSync(process.execPath, [require.resolve('electron/install.js')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  binary = electronBinary();
  if (!binary) {
    const why = `${install.stderr ?? ''}${install.error?.message ?? ''}`.match(/ENOTFOUND[^\n]*|ECONNREFUSED[^\n]*|ETIMEDOUT[^\n]*|EAI_AGAIN[^\n]*/)?.[0] ?? (install.status === 0 ? 'the download was skipped (ELECTRON_SKIP_BINARY_DOWNLOAD)' : `the install step failed (exit ${install.status ?? install.signal})`);
    console.log(`netloom: the Electron binary could not be installed (${why.trim()}); starting \`netloom serve\` instead: open the address below in a browser.`);
    run(process.execPath, [join(root, 'dist', 'engine', 'host', 'cli.js'), 'serve']);
  }
}
if (binary) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // set by some shells and IDEs; it would start Electron as plain Node
  run(binary, ['.', ...args], env);
}
