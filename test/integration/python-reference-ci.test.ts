/**
 * The tests that compare with Python (PyTorch, numpy) skip where it is missing, with the reason
 * printed; in CI (CI set: .ci/run installs python3-torch) they fail instead, so a broken install
 * cannot turn the comparisons off unnoticed.
 *
 * Python is made to miss its modules for real: a PYTHONPATH folder whose torch.py and numpy.py
 * raise ImportError, as an interpreter without them would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-nopy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
for (const m of ['torch', 'numpy']) writeFileSync(path.join(tmp, `${m}.py`), `raise ImportError("No module named '${m}' (hidden by a test)")\n`);

/** Every test that needs the Python reference, by file (a renamed one must be renamed here too). */
const PYTHON_TESTS: Record<string, string[]> = {
  'test/parity/parity.test.ts': ["PyTorch load_state_dict(strict=True) takes our checkpoint, and its logits equal ours within 1e-5"],
  'test/unit/safetensors.test.ts': ['PyTorch reads a file written by Netloom', 'Netloom reads a file written by PyTorch (F32, F64, F16, BF16)'],
  'test/unit/schedules.test.ts': ['gen_schedules.py --stdout equals the committed fixture and our replay'],
  'test/unit/builtin.test.ts': ['matches a complete rebuild by an independent Python implementation'],
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Report {
  testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs only the Python tests, with Python's modules hidden; returns vitest's exit status and each test's result. */
function runWithoutPython(ci: boolean): { status: number | null; results: Map<string, { status: string; failureMessages: string[] }> } {
  const report = path.join(tmp, `report-${ci}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: tmp };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'CI' || k === 'NETLOOM_SKIP_PYTHON') delete env[k];
  if (ci) env.CI = 'true';
  const pattern = Object.values(PYTHON_TESTS).flat().map(escape).join('|');
  const r = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'vitest'),
    ['run', ...Object.keys(PYTHON_TESTS), '-t', pattern, '--reporter=json', `--outputFile.json=${report}`],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 },
  );
  const results = new Map<string, { status: string; failureMessages: string[] }>();
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as Report;
  for (const f of parsed.testResults) for (const t of f.assertionResults) results.set(t.title, t);
  return { status: r.status, results };
}

describe('tests that compare with Python', () => {
  it('skip where PyTorch or numpy is missing, outside CI', () => {
    const { status, results } = runWithoutPython(false);
    for (const title of Object.values(PYTHON_TESTS).flat()) expect(results.get(title)?.status, title).toBe('skipped');
    expect(status).toBe(0);
  });

  it('fail in CI where PyTorch or numpy is missing, and say what to install', () => {
    const { status, results } = runWithoutPython(true);
    for (const title of Object.values(PYTHON_TESTS).flat()) {
      const r = results.get(title);
      expect(r?.status, title).toBe('failed');
      expect(r?.failureMessages.join('\n'), title).toMatch(/CI.*python3 .*import (torch|numpy).*hidden by a test[\s\S]*apt-get install python3-torch/);
    }
    expect(status).not.toBe(0);
  });
});
