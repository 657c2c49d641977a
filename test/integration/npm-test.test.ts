/**
 * `npm test` counts everything: each runner runs even when an earlier one failed, the statuses
 * combine, a C++ program that dies before its "N passed, N failed" line is a failure by name,
 * skipped tests are counted and named, and ctest finding no test is a failure.
 *
 * A small project in a temporary folder gets this repository's `test`, `lint`, `typecheck`,
 * `test:native`, `test:unit`, `test:addon` and `test:e2e` scripts verbatim (and test/run-all.mjs,
 * test/typecheck.mjs), with real runners under them: ESLint over a clean and a faulty file, tsc
 * over a clean and a faulty tsconfig, ctest over a small CMake project (a program that passes,
 * one that fails a check, one that crashes, a disabled one), vitest's unit project and Playwright
 * over a passing, a failing and a skipped test each, vitest's addon project over a passing test.
 * Only `build` is a stand-in.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-npm-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CMAKE = `cmake_minimum_required(VERSION 3.16)
project(fake CXX)
enable_testing()
foreach(t ok fails crashes)
  add_executable(test_\${t} \${t}.cpp)
  add_test(NAME test_\${t} COMMAND test_\${t})
endforeach()
add_test(NAME test_disabled COMMAND test_ok)
set_tests_properties(test_disabled PROPERTIES DISABLED TRUE)
`;
const PROGRAMS: Record<string, string> = {
  'ok.cpp': '#include <cstdio>\nint main() { std::printf("ok: one\\nok: two\\n2 passed, 0 failed\\n"); }\n',
  'fails.cpp': '#include <cstdio>\nint main() { std::printf("ok: one\\nFAILED: two\\n1 passed, 1 failed\\n"); return 1; }\n',
  // dies mid-run, as a bad kernel would: no summary line
  'crashes.cpp': '#include <cstdio>\n#include <csignal>\nint main() { std::printf("ok: one\\n"); std::fflush(stdout); std::raise(SIGSEGV); }\n',
};
const VITEST_TESTS = `import { it } from 'vitest';
it('unit passes', () => {});
it('unit fails', () => { throw new Error('planted'); });
it.skip('unit is skipped', () => {});
`;
const ADDON_TESTS = `import { it } from 'vitest';
it('addon passes', () => {});
`;
const VITEST_CONFIG = `export default { test: { projects: [
  { test: { name: 'unit', include: ['test/unit/**/*.test.mjs'] } },
  { test: { name: 'addon', include: ['test/addon/**/*.test.mjs'] } },
  { test: { name: 'fuzz', include: ['test/fuzz/**/*.test.mjs'] } },
] } };
`;
// ESLint over lint/ only (the copied runner scripts are not the subject)
const ESLINT_CONFIG = "export default [{ ignores: ['test/**', '*.config.mjs'] }, { rules: { 'no-unused-vars': 'error' } }];\n";
const TSCONFIG = (include: string) => JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [], target: 'es2022', module: 'nodenext' }, include: [include] });
const PLAYWRIGHT_SPEC = `import { test } from '@playwright/test';
test('e2e passes', () => {});
test('e2e fails', () => { throw new Error('planted'); });
test.skip('e2e is skipped', () => {});
`;

/** A project whose scripts are this repository's, with `build` replaced by `buildScript`. */
function project(name: string, buildScript: string, withTests = true): string {
  const dir = path.join(tmp, name);
  for (const sub of ['test/unit', 'test/addon', 'test/e2e', 'native', 'lint', 'bad']) mkdirSync(path.join(dir, sub), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  for (const f of ['run-all.mjs', 'typecheck.mjs']) copyFileSync(path.join(ROOT, 'test', f), path.join(dir, 'test', f));
  const copied = ['test', 'lint', 'typecheck', 'test:native', 'test:unit', 'test:addon', 'test:e2e'];
  const scripts = { ...Object.fromEntries(copied.map((s) => [s, SCRIPTS[s]])), build: buildScript };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', scripts }));
  writeFileSync(path.join(dir, 'eslint.config.js'), ESLINT_CONFIG);
  writeFileSync(path.join(dir, 'lint', 'ok.mjs'), 'export const used = 1;\n');
  writeFileSync(path.join(dir, 'lint', 'bad.mjs'), 'const unused = 1;\nexport const used = 2;\n');
  writeFileSync(path.join(dir, 'tsconfig.json'), TSCONFIG('*.ts'));
  writeFileSync(path.join(dir, 'ok.ts'), 'export const n: number = 1;\n');
  writeFileSync(path.join(dir, 'bad', 'tsconfig.json'), TSCONFIG('*.ts'));
  writeFileSync(path.join(dir, 'bad', 'bad.ts'), "export const n: number = 'one';\n");
  writeFileSync(path.join(dir, 'vitest.config.mjs'), VITEST_CONFIG);
  writeFileSync(path.join(dir, 'playwright.config.mjs'), "export default { testDir: 'test/e2e', outputDir: 'test-results', workers: 1 };\n");
  writeFileSync(path.join(dir, 'test', 'unit', 'a.test.mjs'), VITEST_TESTS);
  writeFileSync(path.join(dir, 'test', 'addon', 'b.test.mjs'), ADDON_TESTS);
  writeFileSync(path.join(dir, 'test', 'e2e', 'a.spec.mjs'), PLAYWRIGHT_SPEC);
  writeFileSync(path.join(dir, 'native', 'CMakeLists.txt'), withTests ? CMAKE : 'cmake_minimum_required(VERSION 3.16)\nproject(empty NONE)\nenable_testing()\n');
  for (const [f, src] of Object.entries(PROGRAMS)) writeFileSync(path.join(dir, 'native', f), src);
  const build = path.join(dir, 'build', 'native');
  // Ninja where it is installed (.ci/run installs it; make may not be there), as cmake-js chooses
  const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
  for (const argv of [['-S', path.join(dir, 'native'), '-B', build, ...generator], ['--build', build]]) {
    const r = spawnSync('cmake', argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cmake ${argv.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  return dir;
}

/** The environment of a fresh shell: none of the outer vitest's variables. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NETLOOM_TEST_SUMMARY' || k.startsWith('npm_')) delete env[k];
  return env;
}

function npm(dir: string, ...args: string[]): { status: number | null; out: string; lines: string[] } {
  const r = spawnSync('npm', args, { cwd: dir, env: cleanEnv(), encoding: 'utf8', timeout: 300_000 });
  const out = `${r.stdout}${r.stderr}`;
  return { status: r.status, out, lines: r.stdout.trimEnd().split('\n') };
}

describe('npm test', () => {
  let full: { status: number | null; out: string; lines: string[] };
  beforeAll(() => {
    full = npm(project('full', 'node -e ""'), 'test');
  });

  it('runs every runner even after one failed, and fails overall', () => {
    expect(full.out).toMatch(/tsc -p bad\/tsconfig.json/); // the type check ran after the lint failed
    expect(full.out).toMatch(/2 passed, 0 failed/); // ctest ran the programs
    expect(full.out).toMatch(/unit passes/); // vitest ran after ctest failed
    expect(full.out).toMatch(/^== addon: npm run --silent test:addon/m); // vitest's addon project ran after its unit project failed
    expect(full.out).toMatch(/e2e passes/); // Playwright ran after vitest failed
    expect(full.status, full.out).not.toBe(0);
  });

  it("names the C++ program that died before its summary line, with ctest's reason", () => {
    expect(full.out).toMatch(/failed: test_crashes: ended before its "N passed, N failed" line \(SEGFAULT\)/);
    expect(full.out).toMatch(/failed: test_fails: 1 failed/);
  });

  it('prints passed, failed and skipped for every runner, with what failed or was skipped by name', () => {
    const summary = full.lines.slice(full.lines.indexOf('== summary'));
    // lint: one check per file (lint/ok.mjs and eslint.config.js pass); typecheck: one per tsconfig
    expect(summary.find((l) => l.startsWith('lint '))).toMatch(/^lint +2 passed, 1 failed, 0 skipped \(/);
    expect(summary).toContain("    failed: lint/bad.mjs:1:7 no-unused-vars: 'unused' is assigned a value but never used.");
    expect(summary.find((l) => l.startsWith('typecheck '))).toMatch(/^typecheck +1 passed, 1 failed, 0 skipped \(/);
    expect(summary).toContainEqual(expect.stringMatching(/^ {4}failed: bad\/tsconfig.json: 1 error\(s\), the first: bad\/bad.ts\(1,14\): error TS2322: /));
    // native: 2 + 1 checks passed; 1 check failed + 1 program crashed; 1 program disabled
    expect(summary.find((l) => l.startsWith('native '))).toMatch(/^native +3 passed, 2 failed, 1 skipped \(/);
    expect(summary.find((l) => l.startsWith('unit '))).toMatch(/^unit +1 passed, 1 failed, 1 skipped \(/);
    expect(summary.find((l) => l.startsWith('addon '))).toMatch(/^addon +1 passed, 0 failed, 0 skipped \(/);
    expect(summary.find((l) => l.startsWith('e2e '))).toMatch(/^e2e +1 passed, 1 failed, 1 skipped \(/);
    expect(summary).toContain('    skipped: test_disabled (disabled)');
    expect(summary).toContain('    failed: test/unit/a.test.mjs > unit fails');
    expect(summary).toContain('    skipped: test/unit/a.test.mjs > unit is skipped');
    expect(summary).toContain('    failed: test/e2e/a.spec.mjs > e2e fails');
    expect(summary).toContain('    skipped: test/e2e/a.spec.mjs > e2e is skipped');
    expect(full.lines.at(-1)).toBe('9 passed, 6 failed, 3 skipped');
  });

  it('stops at a failed build, and says that nothing was tested (lint and the type check need no build: they ran)', () => {
    const r = npm(project('no-build', 'node -e "process.exit(2)"'), 'test');
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/the build failed \(exit 2\): nothing could be tested/);
    expect(r.out).not.toMatch(/unit passes|== addon|e2e passes/);
    for (const name of ['native', 'unit', 'addon', 'e2e']) expect(r.lines).toContainEqual(expect.stringMatching(new RegExp(`^${name} +not run \\(the build failed\\)$`)));
    // lint: 2 passed, 1 failed; typecheck: 1 passed, 1 failed; the build: 1 failed
    expect(r.lines.at(-1)).toBe('3 passed, 3 failed, 0 skipped');
  });

  it('fails when ctest finds no test (test:native alone too)', () => {
    const dir = project('no-tests', 'node -e ""', false);
    const alone = npm(dir, 'run', 'test:native');
    expect(alone.status, alone.out).not.toBe(0);
    expect(alone.out).toMatch(/No tests were found/);
    const r = npm(dir, 'test');
    expect(r.lines.find((l) => l.startsWith('native '))).toMatch(/^native +0 passed, 1 failed, 0 skipped/);
  });
});

describe('the runners npm test runs', () => {
  it('ESLint, tsc, build, ctest, vitest (unit, then addon), Playwright in order; a sanitizer run of ctest where package.json has test:native:sanitize', async () => {
    const { defaultSteps } = await import('../run-all.mjs');
    const names = (scripts: Record<string, string>) => defaultSteps(scripts).map((s: { name: string; kind: string }) => `${s.name}:${s.kind}`);
    const before = ['lint:eslint', 'typecheck:typecheck', 'build:build', 'native:ctest'];
    const after = ['unit:vitest', 'addon:vitest', 'e2e:playwright'];
    expect(names(SCRIPTS)).toEqual([...before, ...('test:native:sanitize' in SCRIPTS ? ['native (ASan+UBSan):ctest'] : []), ...after]);
    expect(names({ ...SCRIPTS, 'test:native:sanitize': 'ctest --test-dir build/native-asan' })).toEqual([...before, 'native (ASan+UBSan):ctest', ...after]);
  });
});
