/**
 * The speed a `dataset.download` event reports (engine/host/download-events.ts), with a clock of the test's own:
 * bytes over the last few seconds of a file, so the numbers are exact and no test depends on how fast this
 * machine is (the integration test only checks that a speed is reported while a file downloads).
 */
import { describe, expect, it } from 'vitest';
import type { DatasetDownloadProgress } from '../../engine/data/datasets.js';
import { downloadReporter, type DownloadEvent } from '../../engine/host/download-events.js';

function reporter() {
  let t = 0;
  const events: DownloadEvent[] = [];
  const report = downloadReporter('run-1', 'tag', (e) => events.push(e), () => t);
  const at = (ms: number, file: string, received: number, extra: Partial<DatasetDownloadProgress> = {}) => {
    t = ms;
    report({ url: `http://mirror/${file}`, dest: `/data/${file}`, received, total: 1_000_000, resumedFrom: 0, done: false, dataset: 'MNIST', file, index: 1, count: 4, ...extra });
    return events.at(-1)!;
  };
  return { at, events };
}

describe('dataset.download speed', () => {
  it('is bytes received over the time since the file\'s first event, in bytes a second', () => {
    const { at } = reporter();
    expect(at(10_000, 'a.gz', 0).bytesPerSec).toBe(0); // nothing to measure yet
    expect(at(10_500, 'a.gz', 50_000).bytesPerSec).toBe(100_000);
    expect(at(12_000, 'a.gz', 300_000).bytesPerSec).toBe(150_000);
  });

  it('averages over the last 3 seconds only: a stall shows as a falling rate', () => {
    const { at } = reporter();
    at(0, 'a.gz', 0);
    at(1000, 'a.gz', 400_000);
    at(2000, 'a.gz', 800_000);
    // stalled from 2 s on: the window slides past the bytes that came fast
    expect(at(4000, 'a.gz', 800_000).bytesPerSec).toBeCloseTo(400_000 / 3, 6); // since t = 1000
    expect(at(6000, 'a.gz', 800_000).bytesPerSec).toBe(0); // since t = 4000: nothing came since
  });

  it('a resumed file does not count the bytes it kept as speed; a new file starts a new measurement', () => {
    const { at } = reporter();
    expect(at(0, 'a.gz', 700_000, { resumedFrom: 700_000 }).bytesPerSec).toBe(0);
    expect(at(1000, 'a.gz', 800_000).bytesPerSec).toBe(100_000);
    expect(at(1500, 'b.gz', 20_000, { index: 2 }).bytesPerSec).toBe(0);
    expect(at(2500, 'b.gz', 70_000, { index: 2 }).bytesPerSec).toBe(50_000);
  });

  it('carries the run, its tag, the file and its place, and the bytes', () => {
    const { at } = reporter();
    expect(at(0, 'a.gz', 5, { index: 3, done: true })).toEqual({
      type: 'dataset.download', runId: 'run-1', tag: 'tag', dataset: 'MNIST', file: 'a.gz', index: 3, count: 4, received: 5, total: 1_000_000, bytesPerSec: 0, done: true,
    });
  });
});
