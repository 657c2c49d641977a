/**
 * Out of memory is an error with a message and a clean exit, never a signal (issue 10), checked in
 * real processes under a lowered address-space limit (prlimit --as, RLIMIT_AS):
 *   - the CLI refuses issue 10's model (a Conv2d with padding 3000 whose activations hold 2.3e9
 *     values at batch 64) from its memory estimate, naming the sizes, the limit and what to lower;
 *     sent to `netloom serve` with startRun, the caller gets that error and serve keeps answering;
 *   - past the estimate (the session created directly), the native allocation of the arena and the
 *     copy of a weight tensor out of the session fail under the limit, and each failure reaches
 *     JavaScript as NL_OOM naming the buffer and its size. (Sessions read datasets in place, so the
 *     addon copies none; the native core's dataset copy under RLIMIT_AS is checked in test_memory.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../engine/bytes.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { ensureBuiltin } from '../../engine/data/builtin.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { connectApi } from './ws-client.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'engine', 'host', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-oom-'));
const hasPrlimit = process.platform === 'linux' && spawnSync('prlimit', ['--version']).status === 0;
const SGD = { type: 'SGD', lr: 0.001, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false } as const;

/** Issue 10's project: Input [1,28,28] -> Conv2d(1, 1, kernel 1, padding 3000) -> Flatten -> Linear(auto -> 10) -> CrossEntropyLoss. */
const ISSUE_PROJECT = {
  format: 'netloom-project', version: 1, name: 'issue 10 item 1',
  graph: {
    nodes: [
      { id: 'input', type: 'Input', name: 'input', params: { shape: [1, 28, 28] }, position: { x: 0, y: 0 } },
      { id: 'conv', type: 'Conv2d', name: 'conv', params: { in_channels: 'auto', out_channels: 1, kernel_size: 1, padding: 3000 }, position: { x: 0, y: 100 } },
      { id: 'flatten', type: 'Flatten', name: 'flatten', params: {}, position: { x: 0, y: 200 } },
      { id: 'fc', type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: 10 }, position: { x: 0, y: 300 } },
      { id: 'loss', type: 'CrossEntropyLoss', name: 'loss_fn', params: {}, position: { x: 0, y: 400 } },
    ],
    edges: [
      { id: 'e1', source: 'input', target: 'conv' },
      { id: 'e2', source: 'conv', target: 'flatten' },
      { id: 'e3', source: 'flatten', target: 'fc' },
      { id: 'e4', source: 'fc', target: 'loss' },
    ],
  },
  training: { dataset: 'fashion-mnist', batch_size: 64, shuffle: false, drop_last: false, epochs: 1, seed: 0, optimizer: { type: 'SGD', lr: 0.001 } },
};
const issueFile = join(tmp, 'issue10.json');

/**
 * A node script that builds the project's program at `batch` and a session from it directly (no
 * estimate), lowers its own RLIMIT_AS with prlimit to the address space in use plus `headroom`, and
 * then does `step` ("session": create a session; "weights": copy the weights out of a session created
 * before the limit). Prints {code, message} of the error, or "ok".
 */
const SCRIPT = `
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const [root, projectFile, batchText, step, headroomText] = process.argv.slice(2);
const { analyzeForTraining } = await import(root + '/dist/engine/graph/analyze.js');
const { compileGraph } = await import(root + '/dist/engine/compile/compile.js');
const { Session } = await import(root + '/dist/engine/runtime/session.js');
const batchSize = Number(batchText);
const doc = JSON.parse(readFileSync(projectFile, 'utf8'));
const program = compileGraph(analyzeForTraining(doc.graph, projectFile, { batchSize }), { batchSize, optimizer: ${JSON.stringify(SGD)} });
const vmSize = () => Number(readFileSync('/proc/self/status', 'utf8').match(/VmSize:\\s+(\\d+)/)[1]) * 1024;
const limit = () => execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (vmSize() + Number(headroomText))]);
let result = 'ok';
try {
  if (step === 'session') {
    limit();
    new Session(program, 1);
  } else {
    const session = new Session(program, 1);
    limit();
    session.getParams();
  }
} catch (e) {
  result = { code: e.code, message: e.message };
}
console.log(JSON.stringify(result));
`;
const scriptFile = join(tmp, 'limited.mjs');

function limited(project: string, batch: number, step: 'session' | 'weights', headroom: number) {
  const r = spawnSync(process.execPath, [scriptFile, ROOT, project, String(batch), step, String(headroom)], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, result: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : r.stderr };
}

beforeAll(async () => {
  expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  await ensureBuiltin('fashion-mnist');
  writeFileSync(issueFile, JSON.stringify(ISSUE_PROJECT));
  writeFileSync(scriptFile, SCRIPT);
});

describe.skipIf(!hasPrlimit)('out of memory under prlimit --as', () => {
  it('the memory available is the address-space limit minus the address space in use', () => {
    const script = `const { memoryRoom } = await import(${JSON.stringify(join(ROOT, 'dist/engine/train/memory.js'))}); console.log(JSON.stringify(memoryRoom()));`;
    const r = spawnSync('prlimit', [`--as=${3 * 2 ** 30}`, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const room = JSON.parse(r.stdout);
    expect(room.source).toMatch(/^the process's address-space limit \(RLIMIT_AS, ulimit -v\) of 3\.0 GiB, [\d.]+ (MiB|GiB) of it in use$/);
    expect(room.bytes).toBeGreaterThan(2 ** 30); // Node itself uses well under 2 GiB of address space
    expect(room.bytes).toBeLessThan(3 * 2 ** 30);
  });

  it("refuses issue 10's model from the estimate: the sizes, the address-space limit and what to lower; exit code 1, no signal", () => {
    const r = spawnSync('prlimit', [`--as=${4 * 2 ** 30}`, process.execPath, CLI, 'train', issueFile, '--epochs', '1'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^\s*error \[NL_OOM\]: Training needs about [\d.]+ GiB more \(activations at batch 64: [\d.]+ GiB, parameters, gradients and optimizer state: [\d.]+ GiB, copies of the weights \(best epoch\): [\d.]+ GiB, native workspaces: \d+ MiB; the dataset as loaded holds \d+ MiB already\) but only [\d.]+ GiB is available \(the process's address-space limit \(RLIMIT_AS, ulimit -v\) of 4\.0 GiB, [\d.]+ (MiB|GiB) of it in use\): lower the batch size\./);
    expect(r.stderr).toMatch(/hint: Lower the batch size/);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it("startRun with issue 10's model over netloom serve: the caller gets NL_OOM, and serve keeps running and answering", async () => {
    const child = spawn('prlimit', [`--as=${4 * 2 ** 30}`, process.execPath, CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(out);
          if (m) resolve(m[0]);
        });
        child.once('exit', (code, signal) => reject(new Error(`serve ended (${code ?? signal}) before printing its address: ${out}`)));
      });
      const api = await connectApi({ port: Number(new URL(url).port), token: /token=([\w-]+)/.exec(url)![1] });
      const reply = await api.call('startRun', { project: ISSUE_PROJECT });
      expect(reply.error).toMatchObject({ code: 'NL_OOM', message: expect.stringMatching(/^Training needs about .* address-space limit/) });
      expect((await api.call('hello')).result).toMatchObject({ apiVersion: expect.any(Number) });
      api.close();
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    } finally {
      child.kill();
    }
  });

  it("past the estimate, the arena's allocation fails under the limit: NL_OOM naming the model's buffers and their size", () => {
    // batch 1: a 3 GiB arena (the 363M-weight Linear, its gradient, the activations), far above a 64 MiB headroom
    const program = compileGraph(analyzeForTraining(ISSUE_PROJECT.graph as never, issueFile, { batchSize: 1 }), { batchSize: 1, optimizer: SGD });
    const r = limited(issueFile, 1, 'session', 64 * 2 ** 20);
    expect(r.signal).toBeNull();
    expect(r.status, String(r.result)).toBe(0);
    expect(r.result.code).toBe('NL_OOM');
    expect(r.result.message).toContain("the model's buffers (parameters, gradients, optimizer state and activations at batch size 1)");
    expect(r.result.message).toContain(formatBytes(program.arena16 * 64));
  });

  it("a copy of the weights that fails under the limit is NL_OOM naming the tensor and its size", () => {
    // the issue's Linear holds 6028^2 x 10 weights (1.35 GiB): its copy cannot fit in 64 MiB more
    const r = limited(issueFile, 1, 'weights', 64 * 2 ** 20);
    expect(r.signal).toBeNull();
    expect(r.status, String(r.result)).toBe(0);
    expect(r.result.code).toBe('NL_OOM');
    expect(r.result.message).toMatch(new RegExp(`^could not copy \\S+\\.weight \\(${formatBytes(4 * 6028 * 6028 * 10).replace('.', '\\.')}\\) out of the session: `));
  });
});
