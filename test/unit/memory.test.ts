/**
 * The memory pre-check (engine/train/memory.ts): what the estimate counts, what it is compared
 * with (the memory actually available: MemAvailable, cgroup limits, RLIMIT_AS; the limit under
 * prlimit is checked in test/integration/out-of-memory.test.ts), and its messages.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { encodeProgram } from '../../engine/compile/program.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { checkMemory, estimateMemory, MAX_ARENA_BYTES, memoryRoom } from '../../engine/train/memory.js';

const SGD = { type: 'SGD', lr: 0.1, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false } as const;
const GiB = 2 ** 30;

/** Input [1, side, side] -> Conv2d(1 -> 1, kernel 1, padding) -> Flatten -> Linear(auto -> out) -> CrossEntropyLoss */
function convNet(side: number, padding: number, out = 10): GraphDoc {
  return {
    nodes: [
      { id: 'input', type: 'Input', name: 'input', params: { shape: [1, side, side] } },
      { id: 'conv', type: 'Conv2d', name: 'conv', params: { in_channels: 'auto', out_channels: 1, kernel_size: 1, padding } },
      { id: 'flatten', type: 'Flatten', name: 'flatten', params: {} },
      { id: 'fc', type: 'Linear', name: 'fc', params: { in_features: 'auto', out_features: out } },
      { id: 'loss', type: 'CrossEntropyLoss', name: 'loss_fn', params: {} },
    ],
    edges: [
      { id: 'e1', source: 'input', target: 'conv' },
      { id: 'e2', source: 'conv', target: 'flatten' },
      { id: 'e3', source: 'flatten', target: 'fc' },
      { id: 'e4', source: 'fc', target: 'loss' },
    ],
  } as unknown as GraphDoc;
}
const compile = (g: GraphDoc, batchSize: number) => compileGraph(analyzeForTraining(g, 'test', { batchSize }), { batchSize, optimizer: SGD });
/** FashionMNIST as prepareJob counts it: loaded images, and the session's copy (a byte per pixel and one per label) */
const FASHION = { loadedBytes: 70000 * 784, copyBytes: 70000 * 785 };

describe('the estimate', () => {
  it("counts every buffer a run holds: the arena, two copies of the weights, the native workspaces, the dataset's copy", () => {
    const p = compile(convNet(28, 2), 16);
    const e = estimateMemory(p, FASHION, 2);
    const stateDict = p.params.reduce((s, q) => s + 4 * q.shape.reduce((a, b) => a * b, 1), 0);
    expect(e.paramBytes + e.activationBytes).toBe(p.arena16 * 64);
    expect(e.weightCopyBytes).toBe(2 * stateDict); // the best epoch's and the one being taken
    expect(e.workspaceBytes).toBeGreaterThanOrEqual(2 * (2 + 1 + 8) * 2 ** 20); // per thread: im2col, GEMM panels, stack
    expect(e.datasetCopyBytes).toBe(FASHION.copyBytes);
    expect(e.needed).toBe(p.arena16 * 64 + e.weightCopyBytes + e.workspaceBytes + FASHION.copyBytes);
    expect(e.total).toBe(e.needed + FASHION.loadedBytes);
    expect(estimateMemory(p, FASHION, 4).workspaceBytes).toBe(2 * e.workspaceBytes);
  });

  it("refuses issue 10's model (padding 3000, batch 64) on a machine with 23.5 GiB, 22 GiB of it available", () => {
    // The old estimate (arena + dataset, about 20 GiB, against the machine's 23.5 GiB) let it start;
    // the weight copies bring what it needs above what is there.
    const p = compile(convNet(28, 3000), 64);
    const e = estimateMemory(p, FASHION, 2);
    expect(p.arena16 * 64 + FASHION.loadedBytes + FASHION.copyBytes).toBeLessThan(21 * GiB);
    expect(e.needed).toBeGreaterThan(22 * GiB);
    expect(() => checkMemory(p, FASHION, { threads: 2, room: { bytes: 22 * GiB, source: 'MemAvailable in /proc/meminfo' } })).toThrow(
      expect.objectContaining({
        code: 'NL_OOM',
        message: expect.stringMatching(/^Training needs about 2\d\.\d GiB more \(activations at batch 64: 1\d\.\d GiB, .* copies of the weights \(best epoch\): 2\.7 GiB, .*\) but only 22\.0 GiB is available \(MemAvailable in \/proc\/meminfo\): lower the batch size\.$/),
        hint: expect.stringContaining('Lower the batch size'),
      }),
    );
  });

  it('names the remedy for the largest part', () => {
    const big = compile(convNet(28, 100), 4096);
    expect(() => checkMemory(big, { loadedBytes: 0, copyBytes: 0 }, { room: { bytes: GiB, source: 'test' } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining(': lower the batch size.') }));
    const small = compile(convNet(8, 0), 16);
    expect(() => checkMemory(small, { loadedBytes: 2 * GiB, copyBytes: 2 * GiB }, { room: { bytes: GiB, source: 'test' } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('train on fewer samples') }));
    const wide = compile(convNet(8, 100, 4096), 1);
    expect(() => checkMemory(wide, { loadedBytes: 0, copyBytes: 0 }, { room: { bytes: GiB, source: 'test' } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('use a smaller model') }));
  });

  it('passes a run that fits and returns the estimate', () => {
    const p = compile(convNet(28, 2), 16);
    expect(checkMemory(p, FASHION, { threads: 2, room: { bytes: GiB, source: 'test' } })).toEqual(estimateMemory(p, FASHION, 2));
  });

  it("refuses an arena above the engine's 64 GiB limit whatever the machine has", () => {
    const huge = compile(convNet(28, 1000), 4096);
    expect(huge.arena16 * 64).toBeGreaterThan(MAX_ARENA_BYTES);
    expect(() => checkMemory(huge, FASHION, { room: { bytes: 2 ** 50, source: 'test' } })).toThrow(
      expect.objectContaining({ code: 'NL_OOM', message: expect.stringContaining('more than the 64.0 GiB one training session can hold') }));
  });

  it('refuses a tensor above 2^31 - 1 values per sample, naming it (the program stores sizes as int32)', () => {
    // padding 30000: the convolution's output is 60028^2 = 3.6e9 values per sample
    const p = compile(convNet(28, 30000), 1);
    expect(() => checkMemory(p, FASHION, { room: { bytes: 2 ** 50, source: 'test' } })).toThrow(
      expect.objectContaining({ code: 'NL_OOM', message: expect.stringMatching(/^conv:out holds 3,603,360,784 values per sample, more than the 2,147,483,647 one tensor may hold$/) }));
    // and the encoder never wraps such a size into a small one
    expect(() => encodeProgram(p)).toThrow(/outside int32/);
  });
});

describe.skipIf(process.platform !== 'linux')('the memory available', () => {
  it('is MemAvailable, or less when a cgroup or the address-space limit leaves less', () => {
    const room = memoryRoom();
    const avail = Number(readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+)/m)![1]) * 1024;
    expect(room.bytes).toBeGreaterThan(0);
    expect(room.bytes).toBeLessThanOrEqual(avail + 256 * 2 ** 20); // MemAvailable moves a little between the reads
    expect(room.source).toMatch(/MemAvailable|cgroup|RLIMIT_AS/);
  });
});
