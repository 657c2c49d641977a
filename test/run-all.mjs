#!/usr/bin/env node
/**
 * `npm test`: the checks that need no build (ESLint, TypeScript), the build, then every test runner
 * in order (C++ programs through ctest, vitest's unit tests, vitest's tests that load the native
 * addon, Playwright). Each runner runs even when an earlier one failed, so one failure never hides
 * another; only a failed build stops everything after it, since nothing can be tested without it.
 * At the end: one line per runner with its passed, failed and skipped tests, the failures and
 * skips by name, and the totals on the last line ("N passed, N failed, N skipped"). The exit
 * status is non-zero when anything failed.
 *
 * Each runner is counted from its own report, never from its exit status alone:
 *   eslint      its JSON report: one check per file linted; a file with an error is a failure,
 *               named with its first problem.
 *   typecheck   test/typecheck.mjs's JSON report: one check per tsconfig.
 *   ctest       --output-junit: every program's own "N passed, N failed" line. A program that
 *               dies before that line (a crash, an abort, a sanitizer report) is one failure,
 *               named with ctest's reason (SEGFAULT, Subprocess aborted, ...).
 *   vitest      its JSON report; a test file that fails before its tests run is a failure.
 *   playwright  its JSON report; an error outside any test is a failure.
 * A runner that exits non-zero but reports no failure, or reports no test at all, counts as failed.
 *
 * NETLOOM_TEST_SUMMARY=<file> also writes the counts as JSON (.ci/run adds its install checks).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The runners `npm test` runs, in order. `kind` says how the report is asked for and read.
 * A new runner (e.g. a sanitizer build) is one more entry here.
 */
export function defaultSteps(scripts) {
  const npm = (script) => ['npm', 'run', '--silent', script];
  const steps = [
    { name: 'lint', kind: 'eslint', argv: npm('lint') },
    { name: 'typecheck', kind: 'typecheck', argv: npm('typecheck') },
    { name: 'build', kind: 'build', argv: npm('build') },
    { name: 'native', kind: 'ctest', argv: npm('test:native') },
    { name: 'native (ASan+UBSan)', kind: 'ctest', argv: npm('test:native:sanitize'), script: 'test:native:sanitize' },
    { name: 'unit', kind: 'vitest', argv: npm('test:unit') },
    { name: 'addon', kind: 'vitest', argv: npm('test:addon') },
    { name: 'e2e', kind: 'playwright', argv: npm('test:e2e') },
  ];
  // an optional runner (`script`) runs where package.json has its script
  return steps.filter((s) => !s.script || s.script in scripts);
}

/** How each kind of runner is asked for a report, and how that report is counted. */
const KINDS = {
  eslint: {
    args: (report, viaNpm) => ({ args: [...(viaNpm ? ['--'] : []), '--format', 'json', '--output-file', report], env: {} }),
    count: countEslint,
  },
  typecheck: {
    args: (report, viaNpm) => ({ args: [...(viaNpm ? ['--'] : []), '--report', report], env: {} }),
    count: countReport,
  },
  build: {
    args: () => ({ args: [], env: {} }),
    count: () => ({ passed: 0, failed: 0, skipped: 0, failures: [], skips: [] }),
  },
  ctest: {
    // Appended to the ctest command (through `npm run <script> --`). ctest keeps only 1 KiB of a
    // passing test's output in its report by default, which cuts off the summary line.
    args: (report, viaNpm) => ({
      args: [...(viaNpm ? ['--'] : []), '--no-tests=error', '--output-junit', report, '--test-output-size-passed', '16777216', '--test-output-size-failed', '16777216'],
      env: {},
    }),
    count: countCtest,
  },
  vitest: {
    args: (report, viaNpm) => ({ args: [...(viaNpm ? ['--'] : []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], env: {} }),
    count: countVitest,
  },
  playwright: {
    args: (report, viaNpm) => ({ args: [...(viaNpm ? ['--'] : []), '--reporter=list,json'], env: { PLAYWRIGHT_JSON_OUTPUT_NAME: report } }),
    count: countPlaywright,
  },
};

// ---- counting ------------------------------------------------------------------------------------

const SUMMARY_LINE = /^(\d+) passed, (\d+) failed\b/;

const xmlText = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');
const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? xmlText(m[1]) : undefined;
};

/**
 * ctest: the tests ctest failed, with its reasons, from its closing list ("  2 - test_conv (SEGFAULT)");
 * each program's checks from its last "N passed, N failed" line in the JUnit report.
 */
export function countCtest(report, log) {
  const c = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  const reasons = new Map();
  const list = /The following tests FAILED:\n((?:[ \t]+\d+ - .*\n?)+)/.exec(log);
  for (const line of list ? list[1].split('\n') : []) {
    const m = /^\s+\d+ - (.+?) \((.+)\)\s*$/.exec(line);
    if (m) reasons.set(m[1], m[2]);
  }
  if (!existsSync(report)) return c;
  const xml = readFileSync(report, 'utf8');
  for (const m of xml.matchAll(/<testcase\b([^>]*)>([\s\S]*?)<\/testcase>/g)) {
    const name = attr(m[1], 'name') ?? '?';
    const status = attr(m[1], 'status');
    const out = /<system-out>([\s\S]*?)<\/system-out>/.exec(m[2]);
    const lines = out ? xmlText(out[1]).split('\n') : [];
    let summary;
    for (const l of lines) {
      const s = SUMMARY_LINE.exec(l.trim());
      if (s) summary = { passed: Number(s[1]), failed: Number(s[2]) };
    }
    const skipMessage = attr(/<skipped\b[^>]*>/.exec(m[2])?.[0] ?? '', 'message') ?? '';
    // skipped: disabled, or not run by the test's own SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION;
    // "not run" for any other reason (a missing program) is a failure, as ctest counts it
    if (!reasons.has(name) && (status === 'disabled' || (status === 'notrun' && skipMessage.startsWith('SKIP_')))) {
      c.skipped += 1;
      c.skips.push(`${name} (${status === 'disabled' ? 'disabled' : skipMessage})`);
      continue;
    }
    const reason = reasons.get(name) ?? (status === 'fail' ? 'Failed' : status === 'notrun' ? `Not Run: ${skipMessage}` : undefined);
    if (summary) {
      c.passed += summary.passed;
      c.failed += summary.failed;
    } else if (reason === undefined) c.passed += 1; // a program that passes without printing a count is one check
    if (reason === undefined) continue;
    if (!summary) {
      c.failed += 1;
      c.failures.push(status === 'notrun' ? `${name}: did not run (${reason})` : `${name}: ended before its "N passed, N failed" line (${reason})`);
    } else if (summary.failed > 0) {
      c.failures.push(`${name}: ${summary.failed} failed (${reason})`);
    } else {
      c.failed += 1; // e.g. a sanitizer's report at exit, after a clean summary
      c.failures.push(`${name}: reported 0 failed, then exited with a failure (${reason})`);
    }
  }
  return c;
}

/** ESLint: its JSON report, one check per file; a file with an error fails, named with its first problem. */
export function countEslint(report, _log, cwd) {
  const c = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  if (!existsSync(report)) return c;
  for (const file of JSON.parse(readFileSync(report, 'utf8'))) {
    const errors = (file.messages ?? []).filter((m) => m.severity === 2);
    if (errors.length === 0) {
      c.passed += 1;
      continue;
    }
    c.failed += 1;
    const [m] = errors;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: npm run lint)` : '';
    c.failures.push(`${path.relative(cwd, file.filePath)}:${m.line ?? 0}:${m.column ?? 0} ${m.ruleId ?? 'error'}: ${m.message}${more}`);
  }
  return c;
}

/** A report our own runner scripts write (test/typecheck.mjs): the counts themselves, as JSON. */
export function countReport(report) {
  const c = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  if (!existsSync(report)) return c;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  return { passed: r.passed ?? 0, failed: r.failed ?? 0, skipped: r.skipped ?? 0, failures: r.failures ?? [], skips: r.skips ?? [] };
}

/** vitest: its JSON report; a file that failed outside any test (an import error) is one failure. */
export function countVitest(report, _log, cwd) {
  const c = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  if (!existsSync(report)) return c;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  for (const file of r.testResults ?? []) {
    const rel = path.relative(cwd, file.name);
    let failedHere = 0;
    for (const t of file.assertionResults ?? []) {
      const title = `${rel} > ${t.fullName ?? t.title}`;
      if (t.status === 'passed') c.passed += 1;
      else if (t.status === 'failed') {
        c.failed += 1;
        failedHere += 1;
        c.failures.push(title);
      } else {
        c.skipped += 1;
        c.skips.push(title);
      }
    }
    if (file.status === 'failed' && failedHere === 0) {
      c.failed += 1;
      c.failures.push(`${rel}: ${(file.message || 'failed outside its tests').split('\n')[0]}`);
    }
  }
  return c;
}

/** playwright: its JSON report; flaky tests passed on a retry and count as passed. */
export function countPlaywright(report, _log, cwd) {
  const c = { passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  if (!existsSync(report)) return c;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // spec files are named relative to the test folder; name them from the project's root, as vitest's are
  const file = (f) => (r.config?.rootDir ? path.relative(cwd, path.join(r.config.rootDir, f)) : f);
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const title = `${file(spec.file ?? suite.file)} > ${[...titles, spec.title].join(' > ')}${t.projectName ? ` [${t.projectName}]` : ''}`;
        if (t.status === 'expected' || t.status === 'flaky') c.passed += 1;
        else if (t.status === 'skipped') {
          c.skipped += 1;
          c.skips.push(title);
        } else {
          c.failed += 1;
          c.failures.push(title);
        }
      }
    }
    for (const s of suite.suites ?? []) walk(s, s.title && !s.title.endsWith('.ts') ? [...titles, s.title] : titles);
  };
  for (const s of r.suites ?? []) walk(s, []);
  for (const e of r.errors ?? []) {
    c.failed += 1;
    c.failures.push(`error outside any test: ${(e.message ?? String(e)).split('\n')[0]}`);
  }
  return c;
}

// ---- running -------------------------------------------------------------------------------------

/** Runs argv, echoing its output to `out` as it comes, and resolves with its exit code and output. */
function run(argv, { cwd, env, out }) {
  return new Promise((resolve) => {
    let log = '';
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    const take = (chunk) => {
      log += chunk.toString();
      out.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => {
      take(`${argv[0]}: ${e.message}\n`);
      resolve({ code: 127, log });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal, log }));
  });
}

/**
 * Runs the steps in order and returns each runner's counts. A failed build stops the rest (they
 * are listed as not run); any other failure does not.
 */
export async function runAll(steps, { cwd = process.cwd(), env = process.env, out = process.stdout } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-test-'));
  const results = [];
  let buildFailed = false;
  try {
    for (const [i, step] of steps.entries()) {
      if (buildFailed) {
        results.push({ name: step.name, kind: step.kind, notRun: true, passed: 0, failed: 0, skipped: 0, failures: [], skips: [] });
        continue;
      }
      const kind = KINDS[step.kind];
      if (!kind) throw new Error(`test step ${step.name}: unknown kind ${step.kind}`);
      const report = path.join(dir, `${i}-${step.kind}.${step.kind === 'ctest' ? 'xml' : 'json'}`);
      const { args, env: reportEnv } = kind.args(report, step.argv[0] === 'npm');
      const argv = [...step.argv, ...args];
      out.write(`\n== ${step.name}: ${argv.join(' ')}\n`);
      const started = Date.now();
      const { code, log } = await run(argv, { cwd: step.cwd ?? cwd, env: { ...env, ...step.env, ...reportEnv }, out });
      const c = kind.count(report, log, step.cwd ?? cwd);
      const r = { name: step.name, kind: step.kind, code, seconds: (Date.now() - started) / 1000, ...c };
      if (step.kind === 'build') {
        if (code !== 0) {
          buildFailed = true;
          r.failed = 1;
          r.failures.push(`the build failed (exit ${code}): nothing could be tested; fix the build first (its errors are above)`);
        }
      } else if (code !== 0 && r.failed === 0) {
        r.failed = 1;
        r.failures.push(existsSync(report) ? `exited with status ${code} but its report names no failed test (see its output above)` : `exited with status ${code} and wrote no report (see its output above)`);
      } else if (code === 0 && r.passed + r.failed + r.skipped === 0) {
        r.failed = 1;
        r.failures.push('ran no test');
      }
      results.push(r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const total = (k) => results.reduce((a, r) => a + r[k], 0);
  return { runners: results, passed: total('passed'), failed: total('failed'), skipped: total('skipped') };
}

const LISTED = 30;
const list = (label, items) => [
  ...items.slice(0, LISTED).map((t) => `    ${label}: ${t}`),
  ...(items.length > LISTED ? [`    ... and ${items.length - LISTED} more ${label}`] : []),
];

/** The closing summary: one line per runner, what failed or was skipped by name, then the totals. */
export function formatSummary(s) {
  const lines = ['', '== summary'];
  const width = Math.max(...s.runners.map((r) => r.name.length));
  for (const r of s.runners) {
    const name = r.name.padEnd(width);
    if (r.notRun) lines.push(`${name}  not run (the build failed)`);
    else if (r.kind === 'build') lines.push(`${name}  ${r.failed ? 'FAILED' : 'ok'} (${r.seconds.toFixed(0)} s)`);
    else lines.push(`${name}  ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds.toFixed(0)} s)`);
    lines.push(...list('failed', r.failures), ...list('skipped', r.skips));
  }
  lines.push(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  return lines.join('\n') + '\n';
}

async function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { scripts } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  // runners lose the terminal when their output is piped through here; keep their colours for a person
  const env = process.stdout.isTTY && !process.env.NO_COLOR ? { ...process.env, FORCE_COLOR: '1' } : process.env;
  const summary = await runAll(defaultSteps(scripts), { cwd: root, env });
  process.stdout.write(formatSummary(summary));
  if (process.env.NETLOOM_TEST_SUMMARY) writeFileSync(process.env.NETLOOM_TEST_SUMMARY, JSON.stringify(summary, null, 2));
  process.exitCode = summary.failed > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
