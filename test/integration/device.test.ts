/**
 * The device choice end to end on a machine without a GPU (CI): `netloom devices` says why there is
 * none, auto trains on the CPU and says why, cuda / cuda:1 are refused with the reason before any
 * data is read (CLI, prepareJob, the API's checks), and --device is parsed as the flag is read. The
 * will-it-fit refusal runs prepareJob against a described GPU (a machine given as data, the seam
 * JobOptions.machine exists for): it is refused before any session is made, naming the largest batch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProjectText } from '../../engine/graph/document.js';
import { EngineService } from '../../engine/host/service.js';
import { loadBinding } from '../../engine/runtime/binding.js';
import type { MachineDevices } from '../../engine/runtime/devices.js';
import { prepareJob } from '../../engine/train/job.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-device-'));
const NO_GPU = !existsSync('/dev/nvidia0');
const reason = () => loadBinding().deviceInfo().cuda.reason!;

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The quickstart with `mutate` applied, as parsed JSON and as a file. */
function quickstart(mutate: (p: any) => void = () => {}): { json: any; file: string } {
  const json = JSON.parse(readFileSync(QUICKSTART, 'utf8'));
  mutate(json);
  const file = join(tmp, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(json));
  return { json, file };
}
/** A dataset no run could read: any error about it means the device was not checked first. */
const MISSING_DATA = (p: any) => (p.training.dataset = { type: 'csv', path: join(tmp, 'no-such.csv'), label: 'y' });

describe.runIf(NO_GPU)('without a GPU', () => {
  it('netloom devices: the CPU, then why there is no GPU', () => {
    const r = netloom('devices');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^cpu: .+\n {2}simd: .+\n {2}threads: \d+\n/);
    expect(r.out).toContain(`cuda: none: ${reason()}\n`);
  });

  it('netloom train with auto trains on the CPU and says why on its first line', () => {
    const r = netloom('train', quickstart().file, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--no-tf32');
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toBe(`Using CPU (${loadBinding().deviceInfo().cpuModel}, ${loadBinding().deviceInfo().simd}, ${loadBinding().deviceInfo().hardwareThreads} threads): ${reason()}`);
  });

  it('netloom train --device cuda / cuda:1, or a project asking for one: refused with the reason before any data is read', () => {
    const { file } = quickstart(MISSING_DATA);
    const asked = [['--device', 'cuda'], ['--device', 'cuda:1']];
    for (const flags of asked) {
      const r = netloom('train', file, ...flags);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(`error [NL_INVALID_ARGUMENT]: the device is "${flags[1]}" but this machine has no usable GPU: ${reason()}`);
      expect(r.err).toMatch(/hint: Set the device to auto/);
    }
    const r = netloom('eval', quickstart((p) => (MISSING_DATA(p), (p.training.device = 'cuda'))).file, '--weights', file);
    expect(r.err).toContain('the device is "cuda" but this machine has no usable GPU');
  });

  it('--device is checked as the flag is read', () => {
    for (const v of ['gpu', 'cuda:', 'CUDA:0']) {
      const r = netloom('train', quickstart().file, '--device', v);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`--device: Device (device) must be auto, cpu, cuda or cuda:N (got "${v}")`);
    }
  });

  it('prepareJob refuses cuda:1 before reading the dataset; the API reports it as an issue of training.device', async () => {
    const { json } = quickstart(MISSING_DATA);
    json.training.device = 'cuda:1';
    await expect(prepareJob(parseProjectText(JSON.stringify(json), 't'), 't')).rejects.toMatchObject({ code: 'NL_INVALID_ARGUMENT', message: expect.stringContaining(reason()) });
    const service = new EngineService();
    const checked = await service.checkTraining({ training: { device: 'cuda:1' } });
    expect(checked.issues).toEqual([expect.objectContaining({ path: ['device'], message: expect.stringContaining(reason()) })]);
    expect((await service.checkTraining({ training: { device: 'auto' } })).issues).toEqual([]);
    expect(await service.devices({})).toMatchObject({ cuda: { available: false, reason: reason(), devices: [] } });
    expect(await service.deviceFit({ project: quickstart().json })).toEqual({ device: 'cpu', name: loadBinding().deviceInfo().cpuModel, note: reason(), fit: null });
    // the API's run overrides take a device too (the CLI's --device)
    await expect(service.startRun({ project: quickstart().json, overrides: { device: 'cuda', tf32: false } })).rejects.toMatchObject({
      code: 'NL_INVALID_ARGUMENT', message: `the device is "cuda" but this machine has no usable GPU: ${reason()}`,
    });
  });
});

describe('will it fit (a described GPU)', () => {
  const small = (freeBytes: number): MachineDevices => ({
    cpu: { model: 'test', simd: 'none', threads: 1 },
    cuda: { available: true, reason: null, devices: [{ index: 0, name: 'Small GPU', totalBytes: freeBytes, freeBytes, computeCapability: '7.5', smCount: 40 }] },
  });

  it('a run that does not fit is NL_OOM naming the total, the free memory and the largest batch that fits, before any session exists', async () => {
    const { json } = quickstart((p) => (p.training.dataset = 'mnist'));
    const project = parseProjectText(JSON.stringify(json), 't');
    const before = loadBinding().liveSessions();
    // 700 MiB: the context (512 MiB), the workspace (64 MiB) and 1,100 MNIST samples leave about 120 MiB for the arena
    const e = await prepareJob(project, 't', { machine: small(700 * 2 ** 20), batchSize: 100_000, limitTrain: 1000, limitTest: 100 }).catch((x) => x);
    expect(e).toMatchObject({ code: 'NL_OOM' });
    expect(e.message).toMatch(/^the run does not fit on cuda:0 \(Small GPU\): [\d.]+ (MiB|GiB) of 700 MiB free at batch 100000: does not fit \(the largest batch that fits is [\d,]+\)$/);
    expect(e.hint).toMatch(/^Lower the batch size: at most \d+ fits cuda:0's 700 MiB free memory/);
    expect(loadBinding().liveSessions()).toBe(before);
  });
});
