import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      // `npm run test:unit`: needs no native build (nothing here loads build/native's addon)
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // `npm run test:addon`: the tests that load the native addon, directly or through the engine's services
      {
        extends: true,
        test: {
          name: 'addon',
          include: ['test/addon/**/*.test.ts', 'test/parity/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/packaging/**/*.test.ts'],
        },
      },
      // The fuzzer keeps both cores busy for about a minute: it runs after the other tests, alone, so
      // their timing checks (event-loop delay) and its own time limits (a hang) are not disturbed.
      { extends: true, test: { name: 'fuzz', include: ['test/fuzz/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
