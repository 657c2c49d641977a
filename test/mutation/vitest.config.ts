/**
 * Vitest as Stryker runs it (stryker.config.mjs): only the test files of the picked module groups
 * (test/mutation/modules.mjs). The rest is the project's vitest.config.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { pickedModules } from './modules.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const include = [...new Set(pickedModules().flatMap((m) => m.tests))].filter((f) => existsSync(path.join(root, f)));

export default defineConfig({
  root,
  // the comparisons with PyTorch start a Python process each (test/python-reference.ts): too slow
  // to rerun for every mutant, and the byte-level tests check the same formats
  test: { include, testTimeout: 120_000, hookTimeout: 120_000, env: { NETLOOM_SKIP_PYTHON: '1' } },
});
