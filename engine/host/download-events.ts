/**
 * Turns dataset download progress (engine/data/datasets.ts DatasetDownloadProgress, one stream per run
 * being prepared) into `dataset.download` events: the run and its caller's tag, the file, bytes received
 * of the total, and the speed in bytes/s over the last few seconds (a sliding window, so a resumed file
 * does not report the bytes it kept as speed, and a stall shows as a falling rate).
 */
import type { DatasetDownloadProgress } from '../data/datasets.js';
import type { EngineEvent } from '../contract/api.js';

export type DownloadEvent = Extract<EngineEvent, { type: 'dataset.download' }>;

/** Seconds of history the speed is averaged over. */
const WINDOW_MS = 3000;

export function downloadReporter(runId: string, tag: string | undefined, emit: (e: DownloadEvent) => void, now: () => number = Date.now): (p: DatasetDownloadProgress) => void {
  let file = '';
  let samples: { t: number; bytes: number }[] = [];
  return (p) => {
    const t = now();
    if (p.file !== file) {
      file = p.file;
      samples = [];
    }
    samples.push({ t, bytes: p.received });
    while (samples.length > 2 && t - samples[0].t > WINDOW_MS) samples.shift();
    const first = samples[0];
    const dt = (t - first.t) / 1000;
    const bytesPerSec = dt > 0 ? Math.max(0, (p.received - first.bytes) / dt) : 0;
    emit({
      type: 'dataset.download',
      runId,
      ...(tag !== undefined ? { tag } : {}),
      dataset: p.dataset,
      file: p.file,
      index: p.index,
      count: p.count,
      received: p.received,
      total: p.total ?? null,
      bytesPerSec,
      done: p.done,
    });
  };
}
