import { defineConfig } from 'vitest/config';

// NETLOOM_TEST_REPORT (set by .ci/run) adds a JSON report so CI can print one pass/fail count.
const report = process.env.NETLOOM_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/parity/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/packaging/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
