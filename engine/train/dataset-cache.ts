/**
 * One copy of a dataset for every run that trains on all of it, and no more than its part for a run
 * that trains on some.
 *
 * An interactive host (EngineService: the desktop app, `netloom serve`) makes runs one after the
 * other, often several at once on the same data. Each used to load its own copy (FashionMNIST is
 * 55 MB), and the native session copied it again. Now runs acquire a dataset here: the first loads
 * it, the others share that copy until the last of them releases it, and the native session reads
 * it in place (the binding borrows the arrays; runtime.h borrow_datasets). A run limited to some
 * samples keeps a copy of only those (limitDataset) and lets the whole one go.
 *
 * A dataset is the same when its description (paths made absolute, download or not, the mirrors
 * it downloads from) and its files on disk (sizes and times: datasetFingerprint) are the same, so
 * an edited CSV is read again. Concurrent acquirers of one dataset share its load, and with it a
 * download and that download's Stop (as two downloads of one file already did, download.ts).
 */
import { datasetFingerprint, type DescribedDataset } from './dataset-load.js';
import type { Split } from '../data/image-split.js';
import type { JobDataset } from './job-dataset.js';

export interface DatasetLease {
  readonly dataset: JobDataset;
  /** this run no longer uses the dataset (a second call does nothing) */
  release(): void;
}

/** What a run loads: the description with absolute paths, and, when it downloads, from where. */
export interface DatasetSource {
  doc: DescribedDataset;
  remote?: unknown;
}

interface Entry {
  pending: Promise<JobDataset>;
  /** once loaded */
  dataset?: JobDataset;
  users: number;
}

/** The bytes a dataset holds in memory (pixels, features, labels, targets, a CSV's raw values). */
export function datasetBytes(ds: JobDataset): number {
  if (ds.kind === 'image') return ds.train.images.byteLength + ds.train.labels.byteLength + ds.test.images.byteLength + ds.test.labels.byteLength;
  return [ds.train, ds.test].reduce((sum, s) => sum + s.x.byteLength + (s.raw === s.x ? 0 : s.raw.byteLength) + s.y.byteLength, 0);
}

/**
 * The first `trainCount` and `testCount` samples of each split as copies of their own, so that a run
 * limited to them holds only them; the dataset itself when nothing is cut.
 */
export function limitDataset(ds: JobDataset, trainCount: number, testCount: number): JobDataset {
  if (trainCount >= ds.train.count && testCount >= ds.test.count) return ds;
  const per = ds.sampleShape.reduce((a, b) => a * b, 1);
  if (ds.kind === 'image') {
    const cut = (s: Split, n: number): Split => (n >= s.count ? s : { images: s.images.slice(0, n * per), labels: s.labels.slice(0, n), count: n });
    return { ...ds, train: cut(ds.train, trainCount), test: cut(ds.test, testCount) };
  }
  const cut = <S extends typeof ds.train>(s: S, n: number): S => {
    if (n >= s.count) return s;
    const x = s.x.slice(0, n * per);
    // one label or target per row (the targets are one column wide)
    return { ...s, x, raw: s.raw === s.x ? x : s.raw.slice(0, n * per), y: s.y.slice(0, n), count: n };
  };
  return { ...ds, train: cut(ds.train, trainCount), test: cut(ds.test, testCount) };
}

export class DatasetCache {
  private readonly entries = new Map<string, Entry>();
  private loadCount = 0;

  /** The dataset `source` describes, loaded by `load` unless a run holds it already. */
  async acquire(source: DatasetSource, load: () => Promise<JobDataset>): Promise<DatasetLease> {
    const key = JSON.stringify([source.doc, source.remote ?? null, await datasetFingerprint(source.doc)]);
    let entry = this.entries.get(key);
    if (!entry) {
      this.loadCount++;
      const fresh: Entry = { pending: load(), users: 0 };
      // a failed load is forgotten, so the next run tries again
      fresh.pending.then((ds) => (fresh.dataset = ds), () => this.entries.get(key) === fresh && this.entries.delete(key));
      this.entries.set(key, fresh);
      entry = fresh;
    }
    const mine = entry;
    mine.users++;
    let dataset: JobDataset;
    try {
      dataset = await mine.pending;
    } catch (e) {
      mine.users--;
      throw e;
    }
    let released = false;
    return {
      dataset,
      release: () => {
        if (released) return;
        released = true;
        if (--mine.users === 0 && this.entries.get(key) === mine) this.entries.delete(key);
      },
    };
  }

  /** Whether `ds` is one of the copies held here (a run's dataset is shared, not a limited copy of its own). */
  holds(ds: JobDataset): boolean {
    for (const e of this.entries.values()) if (e.dataset === ds) return true;
    return false;
  }

  /** Loads so far, and each dataset held now: by how many runs, and its bytes. */
  stats(): { loads: number; datasets: { key: string; users: number; bytes: number }[] } {
    return { loads: this.loadCount, datasets: [...this.entries].map(([key, e]) => ({ key, users: e.users, bytes: e.dataset ? datasetBytes(e.dataset) : 0 })) };
  }
}
