/**
 * The release workflow (.github/workflows/release.yml) is checked against SchemaStore's GitHub
 * workflow schema by @action-validator/core, so a structural slip (a misspelt key, a job without
 * runs-on, bad YAML) fails here and not on the first tag push. What it must do is checked on its text.
 * Only GitHub can run it: see README "Build the installers".
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const workflow = readFileSync(path.join(repo, '.github', 'workflows', 'release.yml'), 'utf8');

const problems = (src: string) => validateWorkflow(src).errors.map((e) => `${'path' in e ? e.path : ''} ${e.title}${e.detail ? `: ${e.detail}` : ''}`);

describe('release workflow', () => {
  it('is a valid GitHub Actions workflow', () => {
    expect(problems(workflow)).toEqual([]);
  });

  it('builds on Linux, Windows and both Mac CPUs, tests, packages, uploads, and releases on v* tags', () => {
    for (const os of ['ubuntu-latest', 'windows-latest', 'macos-14', 'macos-15-intel']) expect(workflow).toContain(`os: ${os}`);
    for (const step of [
      "tags: ['v*']",
      'node-version: 20',
      'npm ci',
      'node node_modules/electron/install.js', // the Electron binary, which npm ci skips (allowScripts)
      'xvfb-run -a npm test',
      'npx playwright test test/e2e/electron-smoke.spec.ts',
      'npm run package -- --${{ matrix.arch }}',
      'NETLOOM_ELECTRON_APP=',
      'actions/upload-artifact@v4',
      'needs: package',
      "if: startsWith(github.ref, 'refs/tags/v')",
      'softprops/action-gh-release@v2',
    ]) expect(workflow, step).toContain(step);
  });

  // the validator must be able to fail: broken copies of the real file are rejected
  it.each([
    ['a misspelt key (steps -> step)', workflow.replace('    steps:\n      - uses: actions/checkout@v4', '    step:\n      - uses: actions/checkout@v4')],
    ['a job without runs-on', workflow.replace('    runs-on: ${{ matrix.os }}\n', '')],
    ['an unknown trigger', workflow.replace('  workflow_dispatch:', '  on_tag_push:')],
    ['broken YAML', workflow.replace('jobs:', 'jobs: [')],
  ])('rejects %s', (_what, broken) => {
    expect(broken).not.toBe(workflow); // the replacement found its target
    expect(problems(broken).length).toBeGreaterThan(0);
  });
});
