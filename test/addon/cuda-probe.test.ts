/**
 * The CUDA probe through the addon (native/core/cuda-loader.h): on a machine without an NVIDIA GPU
 * (CI), deviceInfo() says so with a reason and a session asked for a GPU is an NL_ error, never a
 * crash; a CUDA library that is missing or not a library at all (NETLOOM_CUDA_LIBRARY) is a reason
 * too. The probe runs once per process, so the library cases run in child processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { encodeProgram } from '../../engine/compile/program.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { addonPath, loadBinding } from '../../engine/runtime/binding.js';
import { Session } from '../../engine/runtime/session.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-cuda-probe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** No NVIDIA device node: the machine has no GPU the driver could show (CI, this build machine). */
const NO_GPU = !existsSync('/dev/nvidia0');
const SGD = { type: 'SGD', lr: 0.1, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false } as const;
const graph = {
  nodes: [
    { id: 'i', type: 'Input', name: 'input', params: { shape: [4] } },
    { id: 'fc', type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: 3 } },
    { id: 'l', type: 'CrossEntropyLoss', name: 'loss_fn', params: {} },
  ],
  edges: [
    { id: 'e1', source: 'i', target: 'fc' },
    { id: 'e2', source: 'fc', target: 'l' },
  ],
} as unknown as GraphDoc;
const program = () => compileGraph(analyzeForTraining(graph, 'test', { batchSize: 2 }), { batchSize: 2, optimizer: SGD });

/** deviceInfo().cuda in a fresh process with `env` added. */
function probeIn(env: Record<string, string>) {
  const code = `const b = require(${JSON.stringify(addonPath())}); process.stdout.write(JSON.stringify(b.deviceInfo().cuda))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, signal: r.signal, cuda: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

describe('deviceInfo().cuda', () => {
  it('is consistent: devices and no reason, or a reason and no devices', () => {
    const cuda = loadBinding().deviceInfo().cuda;
    expect(cuda.available).toBe(cuda.devices.length > 0);
    if (cuda.available) {
      expect(cuda.reason).toBeNull();
      for (const d of cuda.devices) expect(d.computeCapability).toMatch(/^\d+\.\d+$/);
    } else expect(cuda.reason).toMatch(/\S/);
  });

  it.runIf(NO_GPU)('without a GPU: not available, with a reason a user can read', () => {
    const cuda = loadBinding().deviceInfo().cuda;
    expect(cuda).toMatchObject({ available: false, devices: [] });
    expect(cuda.reason!.length).toBeGreaterThan(10);
  });

  it.runIf(NO_GPU)('NETLOOM_CUDA_LIBRARY naming a missing file or a file that is not a library: a reason, never a crash', () => {
    const garbage = path.join(tmp, 'libnetloom_cuda.so');
    writeFileSync(garbage, 'this is not an ELF shared library\n'.repeat(100));
    for (const lib of [path.join(tmp, 'missing', 'libnetloom_cuda.so'), garbage, tmp]) {
      const r = probeIn({ NETLOOM_CUDA_LIBRARY: lib });
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.cuda).toMatchObject({ available: false, devices: [] });
      expect(r.cuda.reason).toMatch(/\S/);
    }
  });
});

describe('a session on a device', () => {
  it('on the CPU says so', () => {
    const s = new Session(program(), 1);
    expect(s.device).toBe('CPU');
    s.close();
  });

  it.runIf(NO_GPU)('asked for cuda:0 or cuda:1 without a GPU: an NL_ error with the reason, and no session left behind', () => {
    const before = loadBinding().liveSessions();
    for (const cuda of [0, 1]) {
      let error: unknown;
      try {
        new Session(program(), 1, { device: { cuda, tf32: true } });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'NetloomError', code: expect.stringMatching(/^NL_/) });
      expect((error as Error).message).toContain(loadBinding().deviceInfo().cuda.reason!);
    }
    expect(loadBinding().liveSessions()).toBe(before);
  });

  it('a malformed device option is refused by the binding', () => {
    const { Session: S } = loadBinding();
    const words = encodeProgram(program());
    expect(() => new S(words, 1, { cuda: -1 })).toThrow(/device.cuda must be a device index/);
    expect(() => new S(words, 1, { cuda: 0.5 })).toThrow(/device.cuda must be a device index/);
    expect(() => new S(words, 1, { tf32: 'yes' as never })).toThrow(/device.tf32 must be a boolean/);
    expect(() => new S(words, 1, 'cuda' as never)).toThrow(/new Session\(program: Int32Array, threads: number, device\?/);
  });
});
