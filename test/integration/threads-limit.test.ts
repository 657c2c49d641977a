/**
 * A thread count no machine has (found by the fuzzer, test/fuzz: `netloom train --threads 1e9`): the
 * session refused it up front with the range it takes, instead of starting threads until the
 * operating system refused one and reporting NL_INTERNAL "could not start worker threads".
 * Runs under the fuzzer's address-space limit, so the unfixed code fails fast rather than filling
 * the machine with threads.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limited } from '../fuzz/sandbox.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');

function iris(...flags: string[]) {
  const [cmd, ...args] = limited([process.execPath, CLI, 'train', join(process.cwd(), 'assets', 'templates', 'iris-mlp.json'), '--epochs', '1', ...flags]);
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
}

describe('--threads beyond what a session runs', () => {
  it.each(['1e9', '100000'])('--threads %s: NL_INVALID_ARGUMENT with the range, nothing started', (n) => {
    const r = iris('--threads', n);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error \[NL_INVALID_ARGUMENT\]: --threads: CPU threads \(threads\) must be a whole number from 1 to 1024 \(got \d+\)/);
    expect(r.stderr).toMatch(/hint: Leave it out to use every core\./);
  });

  it('--threads 64 (more than this machine has, within the limit) still trains', () => {
    const r = iris('--threads', '64', '--limit-train', '32');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/64 threads/);
  });
});
