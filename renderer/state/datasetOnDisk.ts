/**
 * Whether a built-in dataset that Netloom does not ship (KMNIST, CIFAR-10) is on this computer yet, and the
 * project value that trains on it downloading whatever is missing first.
 *
 * The engine is asked with datasetInfo on the torchvision description of the user's data folder (no root, no
 * download): it reads what is there and never downloads, so NL_DATASET_MISSING means "not downloaded". The
 * answer is kept for the session and asked again after a run (which may have downloaded it).
 */
import { BUILTIN_DATASETS, isBuiltinDataset, type BuiltinDatasetName } from '../../engine/contract/datasets';

export type OnDisk = 'present' | 'missing' | 'unknown';

/** The built-in a training.dataset value reads from the user's data folder (a name, or a torchvision description without a root), else null. */
export function builtinInDataDir(dataset: unknown): BuiltinDatasetName | null {
  if (isBuiltinDataset(dataset)) return dataset;
  if (dataset === null || typeof dataset !== 'object') return null;
  const d = dataset as { type?: unknown; name?: unknown; root?: unknown };
  return d.type === 'torchvision' && d.root === undefined && isBuiltinDataset(d.name) ? d.name : null;
}

/**
 * What the chooser writes into the project for a built-in: a bundled one by its name (the offline copy); one that
 * must be downloaded as a torchvision description with download: true, so Start fetches what is missing (with the
 * download progress and Stop) instead of failing with command-line advice. Files already there are not fetched again.
 */
export function datasetValueFor(name: BuiltinDatasetName): unknown {
  return BUILTIN_DATASETS[name].bundled ? name : { type: 'torchvision', name, download: true };
}

/** The engine's answer to the probe: a summary (present), or the error it failed with. */
export function onDiskFrom(outcome: { ok: true } | { ok: false; code: string | undefined }): OnDisk {
  if (outcome.ok) return 'present';
  return outcome.code === 'NL_DATASET_MISSING' ? 'missing' : 'unknown';
}

/** The probe's request: the user's data folder, read only. */
export const probeRequest = (name: BuiltinDatasetName) => ({ dataset: { type: 'torchvision', name }, perClass: 0, rows: 0 });
