import { beforeAll, beforeEach } from 'vitest';

/**
 * beforeAll for a setup the tests cannot run without (a server to talk to, files to read), made so that a setup
 * that throws fails every test of the suite. A plain beforeAll that throws makes Vitest report the suite's tests
 * as skipped, not failed, and StrykerJS then counts the mutant that broke the setup as surviving. The setup still
 * runs once, before the first test and outside any test, so mutation coverage counts it for all of them.
 */
export function beforeAllOrFail(setup: () => Promise<void> | void): void {
  let failure: { error: unknown } | undefined;
  beforeAll(async () => {
    try {
      await setup();
    } catch (error) {
      failure = { error };
    }
  });
  beforeEach(() => {
    if (failure) throw failure.error;
  });
}
