/**
 * Mutation testing (`npm run test:mutation`, not part of `npm test`): Stryker plants small bugs in
 * the modules where a bug is a security or data-loss bug (test/mutation/modules.mjs) and checks
 * that a test fails for each. Reports: reports/mutation/<groups>/ (HTML and JSON).
 */
import { pickedModules } from './test/mutation/modules.mjs';

const picked = pickedModules();
// one folder per set of groups, so runs of different groups can go side by side
const label = process.env.NETLOOM_MUTATE ? process.env.NETLOOM_MUTATE.replace(/[^a-z0-9]+/gi, '-') : 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: true },
  // per test: each mutant runs only the tests that reached its code in the first run
  coverageAnalysis: 'perTest',
  mutate: picked.flatMap((m) => m.mutate),
  concurrency: 2,
  // Stryker rewrites tsconfig.json's outside paths with TypeScript's JS API, which TypeScript 7 (a
  // Go binary) no longer has; ours has none to rewrite, so point it at a file that does not exist.
  tsconfigFile: 'test/mutation/no-tsconfig-to-rewrite.json',
  // the sandbox copies the checkout; these are large and no test under mutation reads them (anchored:
  // patterns match case-insensitively anywhere, and 'release' would drop build/native/Release)
  ignorePatterns: ['/assets/datasets', '/release', '/test-results', '/reports', '/build/native/CMakeFiles', '/.stryker-tmp'],
  tempDirName: `.stryker-tmp/${label}`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${label}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${label}/mutation.json` },
  // re-run only the mutants whose code or tests changed since the last run (reports/mutation/<groups>/incremental.json)
  incremental: process.env.NETLOOM_MUTATE_INCREMENTAL === '1',
  incrementalFile: `reports/mutation/${label}/incremental.json`,
  thresholds: { high: 90, low: 80, break: null },
  // over the test run's own time: a mutant that loops (a parser that never advances) is stopped, and counts as killed
  timeoutMS: 10_000,
  cleanTempDir: 'always',
};
