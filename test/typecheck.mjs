#!/usr/bin/env node
/**
 * `npm run typecheck`: TypeScript's check of every tsconfig in the checkout (found, not listed, so
 * a new one is checked from the day it is added), one `tsc -p <config> --noEmit` each. Every
 * config is checked even when an earlier one fails. Ends with "N passed, N failed" (one check per
 * config); `--report <file>` also writes the counts as JSON for `npm test` (test/run-all.mjs).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders that hold no tsconfig of ours: installed packages, build outputs, reports, data. */
const SKIP = new Set(['node_modules', '.git', 'dist', 'build', 'release', 'reports', 'test-results', '.stryker-tmp', 'datasets']);

/** Every tsconfig*.json under `root`, relative to it, sorted (the root's own first). */
export function findTsconfigs(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) walk(rel);
      } else if (/^tsconfig(\..+)?\.json$/.test(entry.name)) found.push(rel);
    }
  };
  walk('');
  return found.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const at = process.argv.indexOf('--report');
  const report = at > 0 ? process.argv[at + 1] : undefined;
  // the project's own tsc (TypeScript 7), as the build runs it
  const tsc = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
  const counts = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const config of findTsconfigs(root)) {
    process.stdout.write(`tsc -p ${config} --noEmit\n`);
    const r = spawnSync(tsc, ['-p', config, '--noEmit'], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`;
    process.stdout.write(out);
    if (r.status === 0) {
      counts.passed += 1;
      continue;
    }
    counts.failed += 1;
    const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
    counts.failures.push(errors.length > 0 ? `${config}: ${errors.length} error(s), the first: ${errors[0].trim()}` : `${config}: tsc exited with status ${r.status ?? r.signal} (its output is above)`);
  }
  for (const f of counts.failures) process.stdout.write(`FAILED ${f}\n`);
  process.stdout.write(`${counts.passed} passed, ${counts.failed} failed\n`);
  if (report) writeFileSync(report, JSON.stringify(counts));
  process.exitCode = counts.failed > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
