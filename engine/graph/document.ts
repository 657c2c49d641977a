/**
 * The project document: what a `.netloom` / project JSON file holds, validated with zod.
 *
 * A project is a graph of layers (nodes with PyTorch names and params, edges between them) plus
 * the training setup (dataset, DataLoader, optimizer, epochs, seed). Node `name`s become
 * state-dict prefixes (`<name>.weight`), so they follow PyTorch module-path rules.
 * `version` is the format version; files from a newer Netloom are refused, older ones migrated.
 */
import { z } from 'zod';
import { BuiltinDatasetSchema, DEFAULT_DATASET } from '../contract/datasets.js';
import { DEFAULT_OPTIMIZER, OptimizerSchema } from '../contract/optimizers.js';
import { NetloomError } from '../errors.js';
import { SchedulerSchema } from '../contract/schedulers.js';
import { deviceSetting, RUN_DEFAULTS, setting } from '../contract/settings.js';

export const PROJECT_FORMAT = 'netloom-project';
export const PROJECT_VERSION = 1;

/** PyTorch module paths: `fc1`, `linear_relu_stack.0`, and nn.Sequential's bare `0`, `2`. */
export const NODE_NAME_RE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

export const NodeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  name: z.string().regex(NODE_NAME_RE, 'must look like a PyTorch module name (letters, digits, _ and dots)'),
  params: z.record(z.string(), z.unknown()).default({}),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  /** the innermost group (submodule) holding this node; its `name` is then relative to that group (engine/graph/groups.ts) */
  group: z.string().min(1).optional(),
});

/** One attribute name of an nn.Module path: `encoder`, `layer1`, `downsample`, or nn.Sequential's `0`. */
export const GROUP_NAME_RE = /^[A-Za-z0-9_]+$/;

/**
 * A group is a PyTorch submodule (engine/graph/groups.ts has the rules): its name is the state-dict prefix of
 * everything in it; `repeat` makes it an nn.Sequential of that many copies (`layer1.0.`, `layer1.1.`).
 */
export const GroupSchema = z.object({
  id: z.string().min(1),
  name: z.string().regex(GROUP_NAME_RE, 'must be one PyTorch attribute name (letters, digits and _)'),
  /** the enclosing group; absent at the top level */
  parent: z.string().min(1).optional(),
  /** drawn as one node on the canvas */
  collapsed: z.boolean().default(false),
  /** absent: a plain submodule; N >= 1: an nn.Sequential of N copies chained output to input, each with its own weights */
  repeat: z.number().int().min(1).max(64).optional(),
  /** where the collapsed node sits */
  position: z.object({ x: z.number(), y: z.number() }).optional(),
});

export const EdgeSchema = z.object({
  id: z.string().optional(),
  source: z.string().min(1),
  target: z.string().min(1),
  /** input port on the target: "in0", "in1"... order a Concat's inputs; "target" is a loss's target */
  targetHandle: z.string().optional(),
});

/**
 * A folder of images in torchvision's ImageFolder layout (<path>/<class>/<image>.png|.jpg; see engine/data/images.ts).
 * A relative `path` is resolved against the project file's folder. Classes are the sub-folder names, sorted.
 * Image folders have no separate test split: a stratified `validation_fraction` of the images (default 0.1,
 * must be > 0 and < 1) is held out and used as the test split for test metrics.
 */
export const ImageFolderDatasetSchema = z.object({
  type: z.literal('image-folder'),
  path: z.string().min(1),
  /** [height, width] to resize every image to (PIL BILINEAR); omitted: all images must share one size */
  size: z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)]).optional(),
  mode: z.enum(['grey', 'rgb']).default('grey'),
  validation_fraction: z.number().gt(0).lt(1).default(0.1),
});

/**
 * A built-in dataset read from a torchvision data folder (`<root>/<Title>/raw/`, e.g. the `data` folder the
 * PyTorch quickstart downloads into), and/or downloaded from its official source. A relative `root` is resolved
 * against the project file's folder; without one the bundled copy (MNIST, FashionMNIST) or the user's data
 * folder is used. `download` fetches missing files (resumably, MD5-checked) into that folder.
 */
export const TorchvisionDatasetSchema = z.object({
  type: z.literal('torchvision'),
  name: BuiltinDatasetSchema,
  root: z.string().min(1).optional(),
  download: z.boolean().default(false),
});

/**
 * A CSV file (see engine/data/csv.ts): numeric feature columns and one label column. A relative `path` is
 * resolved against the project file's folder. Classification labels may be any strings (classes sorted
 * naturally); regression targets are numbers, and a point loss (MSELoss, L1Loss, SmoothL1Loss) with no target
 * edge compares the model's single output with them. Features are standardised with the training split's
 * mean/std when `standardize`. A stratified `validation_fraction` of the rows (default 0.2) is held out and
 * used as the test split.
 */
export const CsvDatasetSchema = z.object({
  type: z.literal('csv'),
  path: z.string().min(1),
  label: z.string().min(1),
  /** feature columns in the order the model sees them; default every column but the label */
  features: z.union([z.array(z.string().min(1)).min(1), z.literal('all-but-label')]).default('all-but-label'),
  task: z.enum(['classification', 'regression']).default('classification'),
  standardize: z.boolean().default(true),
  validation_fraction: z.number().gt(0).lt(1).default(0.2),
  /** detected from the file when omitted */
  delimiter: z.enum([',', ';', '\t']).optional(),
  header: z.boolean().default(true),
});

/** training.dataset: a built-in name or a dataset description (a torchvision folder, an image folder, a CSV). */
export const DatasetSchema = z.union([BuiltinDatasetSchema, TorchvisionDatasetSchema, ImageFolderDatasetSchema, CsvDatasetSchema]);

export const TrainingSchema = z.object({
  dataset: DatasetSchema.default(DEFAULT_DATASET),
  batch_size: setting('batch_size').default(RUN_DEFAULTS.batch_size),
  shuffle: z.boolean().default(RUN_DEFAULTS.shuffle),
  drop_last: z.boolean().default(RUN_DEFAULTS.drop_last),
  epochs: setting('epochs').default(RUN_DEFAULTS.epochs),
  seed: setting('seed').default(RUN_DEFAULTS.seed),
  optimizer: OptimizerSchema.default(() => OptimizerSchema.parse({ type: DEFAULT_OPTIMIZER })),
  /** torch.nn.utils.clip_grad_norm_(max_norm) before every step; null = off */
  clip_grad_norm: setting('clip_grad_norm').nullable().default(RUN_DEFAULTS.clip_grad_norm),
  /** torch.optim.lr_scheduler, stepped after every epoch or batch (its `interval`); null = constant lr */
  scheduler: SchedulerSchema.nullable().default(RUN_DEFAULTS.scheduler),
  /** where to train: auto (the first CUDA GPU when one is found, else the CPU), cpu, cuda, cuda:N */
  device: deviceSetting().default(RUN_DEFAULTS.device),
  /** TF32 tensor cores for matmul/conv on a GPU (PyTorch's allow_tf32); false = exact float32 */
  allow_tf32: z.boolean().default(RUN_DEFAULTS.allow_tf32),
});

export const ProjectSchema = z.object({
  format: z.literal(PROJECT_FORMAT),
  version: z.number().int().positive(),
  name: z.string().default('Untitled'),
  graph: z.object({ nodes: z.array(NodeSchema), edges: z.array(EdgeSchema), groups: z.array(GroupSchema).optional() }),
  training: TrainingSchema.default(TrainingSchema.parse({})),
});

export type NodeDoc = z.infer<typeof NodeSchema>;
export type EdgeDoc = z.infer<typeof EdgeSchema>;
export type GroupDoc = z.infer<typeof GroupSchema>;
export type TrainingDoc = z.infer<typeof TrainingSchema>;
export type DatasetDoc = z.infer<typeof DatasetSchema>;
export type ImageFolderDatasetDoc = z.infer<typeof ImageFolderDatasetSchema>;
export type TorchvisionDatasetDoc = z.infer<typeof TorchvisionDatasetSchema>;
export type CsvDatasetDoc = z.infer<typeof CsvDatasetSchema>;
export type ProjectDoc = z.infer<typeof ProjectSchema>;
export interface GraphDoc {
  nodes: NodeDoc[];
  edges: EdgeDoc[];
  /** submodules (engine/graph/groups.ts); absent or empty: every node name is already its full path */
  groups?: GroupDoc[];
}

/** Turns a zod issue path into words: `graph.nodes[2].params` -> "graph.nodes[2].params". */
function pathText(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

/** Validates parsed JSON as a project; throws NL_BAD_PROJECT naming every problem and where. */
export function parseProject(json: unknown, source: string): ProjectDoc {
  if (typeof json === 'object' && json !== null && 'version' in json) {
    const v = (json as { version: unknown }).version;
    if (typeof v === 'number' && v > PROJECT_VERSION)
      throw new NetloomError(
        'NL_BAD_PROJECT',
        `${source} was saved by a newer Netloom (project format ${v}; this version reads up to ${PROJECT_VERSION}).`,
        'Update Netloom to open it.',
      );
  }
  const r = ProjectSchema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${pathText(i.path)}: ${i.message}`);
    throw new NetloomError('NL_BAD_PROJECT', `${source} is not a valid Netloom project:\n${lines.join('\n')}`,
      'Fix the fields listed above, or start from assets/templates/quickstart.json.');
  }
  return r.data;
}

/** Parses project text (JSON). Invalid JSON is reported with the parser's position. */
export function parseProjectText(text: string, source: string): ProjectDoc {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NetloomError('NL_BAD_PROJECT', `${source} is not valid JSON: ${(e as Error).message}`,
      'Open it in a text editor and fix the syntax, or restore it from a backup.');
  }
  return parseProject(json, source);
}
