/**
 * The built-in datasets, declared once: what each is (names, torchvision title, sample shape,
 * classes, split sizes) and whether it ships with the app or has to be downloaded. The project
 * file's schema (graph/document.ts), the API (api.ts), the CLI's --dataset, the renderer's dataset
 * pickers and the loaders (engine/data/registry.ts adds the files, mirrors, MD5s and the reader)
 * all take them from here.
 *
 * Adding a built-in dataset: an entry here, and its files and reader in engine/data/registry.ts.
 * Zod only, no Node imports: the renderer bundles this (it is part of the contract).
 */
import { z } from 'zod';

export interface BuiltinDatasetInfo {
  /** torchvision's class name, which is also its folder name (<root>/<title>/raw) */
  readonly title: string;
  /** one sample, channels first (CHW) */
  readonly sampleShape: readonly number[];
  /** class names by label, as torchvision's `classes` */
  readonly classes: readonly string[];
  /** samples in the official train and test splits */
  readonly trainSize: number;
  readonly testSize: number;
  /** has an offline copy inside Netloom (engine/data/builtin.ts), so it trains with no download */
  readonly bundled: boolean;
  /** the official files can be fetched (--download; the app downloads on its own when not bundled) */
  readonly downloadable: boolean;
  /** roughly, for messages */
  readonly downloadSize: string;
}

const DIGITS = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];

/** Every built-in dataset by its name in project files and on the command line; this order is the one lists show. */
export const BUILTIN_DATASETS = {
  'fashion-mnist': {
    title: 'FashionMNIST',
    sampleShape: [1, 28, 28],
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    trainSize: 60000,
    testSize: 10000,
    bundled: true,
    downloadable: true,
    downloadSize: 'about 30 MB',
  },
  mnist: {
    title: 'MNIST',
    sampleShape: [1, 28, 28],
    classes: DIGITS,
    trainSize: 60000,
    testSize: 10000,
    bundled: true,
    downloadable: true,
    downloadSize: 'about 11 MB',
  },
  kmnist: {
    title: 'KMNIST',
    sampleShape: [1, 28, 28],
    classes: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'],
    trainSize: 60000,
    testSize: 10000,
    bundled: false,
    downloadable: true,
    downloadSize: 'about 21 MB',
  },
  cifar10: {
    title: 'CIFAR10',
    sampleShape: [3, 32, 32],
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    trainSize: 50000,
    testSize: 10000,
    bundled: false,
    downloadable: true,
    downloadSize: 'about 163 MB',
  },
} as const satisfies Record<string, BuiltinDatasetInfo>;

export type BuiltinDatasetName = keyof typeof BUILTIN_DATASETS;

/** The names in list order: fashion-mnist, mnist, kmnist, cifar10. */
export const BUILTIN_DATASET_NAMES = Object.keys(BUILTIN_DATASETS) as [BuiltinDatasetName, ...BuiltinDatasetName[]];

/** The dataset a project without one trains on (the PyTorch quickstart's). */
export const DEFAULT_DATASET: BuiltinDatasetName = 'fashion-mnist';

/** A built-in dataset, by name (the project file's training.dataset, the API's and the CLI's --dataset). */
export const BuiltinDatasetSchema = z.enum(BUILTIN_DATASET_NAMES);

export function isBuiltinDataset(v: unknown): v is BuiltinDatasetName {
  return typeof v === 'string' && Object.hasOwn(BUILTIN_DATASETS, v);
}

/** The built-ins that ship with the app. */
export type BundledDatasetName = { [K in BuiltinDatasetName]: (typeof BUILTIN_DATASETS)[K]['bundled'] extends true ? K : never }[BuiltinDatasetName];

export const BUNDLED_DATASET_NAMES = BUILTIN_DATASET_NAMES.filter((n) => BUILTIN_DATASETS[n].bundled) as BundledDatasetName[];
