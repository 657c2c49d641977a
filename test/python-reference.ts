/**
 * The Python reference (Debian's /usr/bin/python3 with PyTorch and numpy) for the tests that
 * compare with it. Where it lacks a module those tests are skipped, with the reason printed once;
 * in CI (CI set, as .ci/run sets it after installing python3-torch) they fail instead, so a broken
 * install cannot turn the comparisons off unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

/** Debian's interpreter: the default `python3` (pyenv's) does not see Debian's modules. */
export const PYTHON = '/usr/bin/python3';

const inCI = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * `it` for tests that need these Python modules: `it` where they import, `it.skip` where they do
 * not (a warning names what is missing), and in CI a test that fails with that reason.
 */
export function itWithPython(modules: readonly string[], what: string): (name: string, fn: () => unknown, timeout?: number) => void {
  // asked for by the run itself: mutation testing (test/mutation/vitest.config.ts) reruns tests
  // thousands of times, and a Python process per run would take hours
  if (process.env.NETLOOM_SKIP_PYTHON === '1') return (name, fn, timeout) => it.skip(name, fn, timeout);
  const probe = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.status === 0) return (name, fn, timeout) => it(name, fn, timeout);
  const why = `"${PYTHON} -c 'import ${modules.join(', ')}'" failed: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`;
  if (!inCI()) {
    console.warn(`${what} skipped: ${why}`);
    return (name, fn, timeout) => it.skip(name, fn, timeout);
  }
  return (name, _fn, timeout) =>
    it(name, () => {
      throw new Error(`${what} need Python's ${modules.join(' and ')}, and CI must run them: ${why}.\nInstall them: apt-get install python3-torch (it brings numpy), as .ci/run does.`);
    }, timeout);
}
