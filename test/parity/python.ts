/**
 * Tests that compare recorded constants with the script that generates them (test/unit/gen_rng.py,
 * test/parity/gen_native_goldens.py) run Debian's /usr/bin/python3 (the python3 on PATH may be another
 * one, without torch). Where it or a module it needs is missing, such a test is skipped with the reason
 * printed; in CI (process.env.CI, set by .ci/run, which installs python3-torch) it fails instead, because
 * a comparison skipped there would let a pasted constant drift from its generator unseen.
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

export const PYTHON = '/usr/bin/python3';

/** Why `modules` cannot be imported by PYTHON; undefined when they can. */
export function pythonMissing(modules: string[]): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot be run: ${probe.error.message}`;
  if (probe.status !== 0) return `"${PYTHON} -c 'import ${modules.join(', ')}'" failed: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

/** it(), needing `modules` in PYTHON: skipped with the reason where they are missing, failing in CI. */
export function itWithPython(modules: string[], name: string, fn: () => void | Promise<void>, timeout?: number): void {
  const missing = pythonMissing(modules);
  if (missing === undefined) {
    it(name, fn, timeout);
  } else if (process.env.CI) {
    it(name, () => {
      throw new Error(`${missing}. CI installs Debian's python3-torch (.ci/run): a skipped comparison with the generator would hide a stale constant.`);
    });
  } else {
    console.warn(`skipped "${name}": ${missing}`);
    it.skip(name, fn);
  }
}
