/**
 * The built-in datasets as torchvision.datasets loads them: a root folder holding <Title>/raw/...
 * (MNIST, FashionMNIST, KMNIST: IDX files, *-ubyte[.gz]; CIFAR10: the binary tarball, see cifar.ts).
 * What each dataset is (names, titles, classes, shapes) is declared in engine/contract/datasets.ts;
 * where its files come from and how they are read (official URLs and MD5s, readers) is registry.ts.
 *
 * Where the files come from:
 *   - `root` given: that folder, as torchvision lays it out;
 *   - no root, MNIST / FashionMNIST: the built-in offline copies (see builtin.ts for how they are made and
 *     split; the bundled FashionMNIST split is NOT Zalando's official one);
 *   - no root, KMNIST / CIFAR-10, or `download: true`: the user's data folder, dataDir().
 * With `download: true`, files missing from `<root or dataDir()>/<Title>/raw/` are fetched from the official
 * mirrors, resumably and checked against their MD5 (download.ts), and the downloaded files are read in
 * preference to any extracted copies beside them (so asking for the official FashionMNIST never returns the
 * bundled split, even when NETLOOM_DATA_DIR makes both share one folder). Without it, missing files are an
 * NL_DATASET_MISSING that says how to download them.
 *
 * Pixels stay uint8 here; scaling to [0,1] (torchvision's ToTensor) happens where batches are assembled.
 */
import { homedir } from 'node:os';
import * as path from 'node:path';
import { BUILTIN_DATASET_NAMES, isBuiltinDataset, type BuiltinDatasetName, type BundledDatasetName } from '../contract/datasets.js';
import { NetloomError, isNetloomError } from '../errors.js';
import { ensureBuiltin } from './builtin.js';
import { download, type DownloadOptions, type DownloadProgress } from './download.js';
import type { Split } from './image-split.js';
import { REGISTRY, isPresent, urlsFor, type DatasetSpec, type LoadContext, type RemoteFile } from './registry.js';

export interface Dataset {
  name: BuiltinDatasetName;
  /** torchvision's class name, which is also its folder name. */
  title: string;
  sampleShape: number[];
  classes: string[];
  train: Split;
  test: Split;
  /** The raw/ folder the files were read from. */
  source: string;
}

/** A download progress event, with which dataset file it is. */
export interface DatasetDownloadProgress extends DownloadProgress {
  dataset: string;
  /** the file's name in raw/ */
  file: string;
  /** 1-based position among the files being downloaded now, and their number */
  index: number;
  count: number;
}

export interface LoadOptions {
  /** torchvision-style root (holding <Title>/raw); default: the built-in copy, else dataDir() */
  root?: string;
  /** fetch missing files from the official source into <root or dataDir()>/<Title>/raw */
  download?: boolean;
  onProgress?: (p: DatasetDownloadProgress) => void;
  signal?: AbortSignal;
  /** replace the registry's mirrors and/or files (tests, private mirrors) */
  remote?: { mirrors?: readonly string[]; files?: readonly RemoteFile[] };
  /** transport settings passed to download() */
  http?: Pick<DownloadOptions, 'fetchImpl' | 'timeoutMs' | 'retries' | 'retryDelayMs' | 'maxRedirects' | 'progressIntervalMs'>;
}

/** Where downloaded datasets are kept: $NETLOOM_DATA_DIR, else $XDG_DATA_HOME/netloom/datasets, else ~/.local/share/netloom/datasets. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.NETLOOM_DATA_DIR;
  if (override !== undefined && override !== '') return path.resolve(override);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'netloom', 'datasets');
  return path.join(homedir(), '.local', 'share', 'netloom', 'datasets');
}

/**
 * $NETLOOM_DATASET_MIRROR: a base URL (an organisation's own copy of the official files) tried before the
 * official mirrors, laid out as `<base>/<Title>/<file>` (e.g. .../FashionMNIST/train-images-idx3-ubyte.gz).
 * The files must be the official ones: they are checked against the same MD5s.
 */
export function envMirror(title: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const base = env.NETLOOM_DATASET_MIRROR?.trim();
  return base ? [`${base.replace(/\/+$/, '')}/${title}/`] : [];
}

export async function loadDataset(name: BuiltinDatasetName, opts: LoadOptions = {}): Promise<Dataset> {
  if (!isBuiltinDataset(name)) {
    throw new NetloomError(
      'NL_INVALID_ARGUMENT',
      `Unknown dataset ${JSON.stringify(name)}`,
      `Choose one of: ${BUILTIN_DATASET_NAMES.join(', ')}.`,
    );
  }
  const base = REGISTRY[name];
  const spec: DatasetSpec = { ...base, mirrors: [...envMirror(base.title), ...(opts.remote?.mirrors ?? base.mirrors)], files: opts.remote?.files ?? base.files };
  const useBuiltin = opts.root === undefined && !opts.download && spec.bundled;
  const root = path.resolve(useBuiltin ? await ensureBuiltin(name as BundledDatasetName) : (opts.root ?? dataDir()));
  const ctx: LoadContext = {
    spec,
    root,
    rawDir: path.join(root, spec.title, 'raw'),
    preferArchives: opts.download === true,
    // Without an explicit root, plain files beside the downloads may be the bundled copy (NETLOOM_DATA_DIR is
    // both homes); --download means the official files, so only what was downloaded counts then.
    allowExtracted: !(opts.download && opts.root === undefined && spec.bundled),
  };
  if (opts.download) await fetchMissing(ctx, opts);
  const { train, test } = await spec.load(ctx);
  return {
    name,
    title: spec.title,
    sampleShape: [...spec.sampleShape],
    classes: [...spec.classes],
    train,
    test,
    source: ctx.rawDir,
  };
}

// One download per destination file per process; other processes are not coordinated (see download.ts).
const inFlight = new Map<string, Promise<unknown>>();

async function fetchMissing(ctx: LoadContext, opts: LoadOptions): Promise<void> {
  const { spec } = ctx;
  const todo = spec.files.filter((f) => !isPresent(ctx, f));
  const hint =
    'Check the internet connection (and any proxy or firewall) and run again: the download resumes where it stopped. ' +
    (spec.bundled ? `Or leave out --download to use the bundled ${spec.title} copy, or` : 'Or') +
    ` point --data at a folder that already holds ${spec.title}/raw/ (a torchvision data folder works).`;
  for (const [i, f] of todo.entries()) {
    const dest = path.join(ctx.rawDir, f.file);
    let pending = inFlight.get(dest);
    if (pending === undefined) {
      pending = download(urlsFor(spec, f), dest, {
        ...opts.http,
        md5: f.md5,
        signal: opts.signal,
        hint,
        onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, dataset: spec.title, file: f.file, index: i + 1, count: todo.length })),
      }).finally(() => inFlight.delete(dest));
      inFlight.set(dest, pending);
    }
    try {
      await pending;
    } catch (e) {
      if (isNetloomError(e)) throw e;
      throw new NetloomError('NL_DOWNLOAD', `Could not download ${f.file}: ${(e as Error)?.message ?? String(e)}`, hint, { cause: e });
    }
  }
}
