/**
 * EngineApi: THE contract between the renderer (canvas, panels) and the engine host.
 *
 * Both hosts implement it over one EngineService: Electron over IPC (electron/ipc.ts +
 * preload.ts) and `netloom serve` over a WebSocket (engine/host/serve.ts). The renderer imports
 * nothing from engine/ but the contract layer (engine/contract/: this file, the training settings,
 * optimizers, schedulers and built-in datasets). Contract files are "common" code: no Node
 * imports, only zod and each other, so they bundle into the browser.
 *
 * Wire format (both transports):
 *   request   { id: number, method: keyof EngineApi, params: <that method's params> }
 *   response  { id, result } | { id, error: ApiError }
 *   event     { event: EngineEvent }                         (server -> client, unsolicited)
 * Every message is validated on arrival with the schemas below: a bad request gets an error
 * response (code NL_BAD_REQUEST) and the connection keeps serving.
 */
import { z } from 'zod';
import { BuiltinDatasetSchema } from './datasets.js';
import { OptimizerFlagSchema } from './optimizers.js';
import { deviceSetting, setting } from './settings.js';

export const API_VERSION = 1;

// ---- shared documents ----------------------------------------------------------------------------

/** A project as stored on disk (engine/graph/document.ts validates it fully on the engine side). */
export const NodeDto = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string(),
  params: z.record(z.string(), z.unknown()),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  /** the innermost group holding the node; `name` is then relative to it */
  group: z.string().optional(),
});
/** A group: a PyTorch submodule (engine/graph/groups.ts); `repeat` makes it an nn.Sequential of N copies. */
export const GroupDto = z.object({
  id: z.string(),
  name: z.string(),
  parent: z.string().optional(),
  collapsed: z.boolean().optional(),
  repeat: z.number().int().optional(),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
});
export const EdgeDto = z.object({
  id: z.string().optional(),
  source: z.string(),
  target: z.string(),
  targetHandle: z.string().optional(),
});
export const GraphDto = z.object({ nodes: z.array(NodeDto), edges: z.array(EdgeDto), groups: z.array(GroupDto).optional() });
/** The project's JSON; its `training` section and version are checked by the engine. */
export const ProjectDto = z
  .object({
    format: z.literal('netloom-project'),
    version: z.number().int(),
    name: z.string(),
    graph: GraphDto,
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export type NodeDto = z.infer<typeof NodeDto>;
export type EdgeDto = z.infer<typeof EdgeDto>;
export type GroupDto = z.infer<typeof GroupDto>;
export type GraphDto = z.infer<typeof GraphDto>;
export type ProjectDto = z.infer<typeof ProjectDto>;

// ---- results -------------------------------------------------------------------------------------

/** One catalog layer, for the palette and the inspector's generated form. */
export const LayerDto = z.object({
  type: z.string(),
  group: z.string(),
  doc: z.string(),
  /** parameter name -> one-line doc */
  paramDocs: z.record(z.string(), z.string()),
  /** JSON Schema (draft 2020-12) of the parameters, defaults included: the inspector builds its form from it */
  paramsSchema: z.record(z.string(), z.unknown()),
  /** parameters a new node starts with (PyTorch defaults; required ones get a sensible value) */
  defaults: z.record(z.string(), z.unknown()),
  arity: z.object({ min: z.number(), max: z.number() }),
  ports: z.array(z.string()),
  isLoss: z.boolean(),
});
export type LayerDto = z.infer<typeof LayerDto>;

export const IssueDto = z.object({
  code: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  message: z.string(),
  hint: z.string(),
  /** one-click fix: set params[param] = value on nodeId */
  fix: z.object({ param: z.string(), value: z.unknown() }).optional(),
});
export type IssueDto = z.infer<typeof IssueDto>;

export const SummaryRowDto = z.object({
  nodeId: z.string(),
  name: z.string(),
  type: z.string(),
  /** output shape with the batch in front, e.g. [64, 512] */
  outShape: z.array(z.number()).nullable(),
  params: z.number(),
  /** multiply-adds x 2 of one forward pass over the batch */
  flops: z.number(),
  /** torchinfo's depth: 0 at the top level, +1 inside each group (a group's own row has its depth, its layers one more) */
  depth: z.number().int().optional(),
  /** set on a group's own row (type "Sequential" for a repeat, else "Module"): its id; nodeId is then "" */
  groupId: z.string().optional(),
});

export const AnalysisDto = z.object({
  batchSize: z.number(),
  nodes: z.array(
    z.object({
      id: z.string(),
      /** output shape with the batch in front; null when it cannot be inferred (an upstream problem) */
      outShape: z.array(z.number()).nullable(),
      paramCount: z.number(),
      /** parameters after defaults and "auto" resolution (e.g. in_features: 784) */
      resolved: z.record(z.string(), z.unknown()),
    }),
  ),
  /** the shape each edge carries (its source's output), e.g. [64, 784] */
  edges: z.array(z.object({ id: z.string(), shape: z.array(z.number()).nullable() })),
  /**
   * Each group as its collapsed node shows it: its full module path ("layer1", "encoder.block"), the shape
   * entering and leaving it (batch in front; null when not inferable or not one), its parameters (all copies).
   */
  groups: z
    .array(
      z.object({
        id: z.string(),
        path: z.string(),
        inShape: z.array(z.number()).nullable(),
        outShape: z.array(z.number()).nullable(),
        paramCount: z.number(),
        copies: z.number().int(),
      }),
    )
    .optional(),
  issues: z.array(IssueDto),
  summary: z.object({
    rows: z.array(SummaryRowDto),
    totalParams: z.number(),
    trainableParams: z.number(),
    totalFlops: z.number(),
    /** bytes of activations kept for backward at this batch size (float32) */
    activationBytes: z.number(),
    /** bytes of parameters (float32) */
    paramBytes: z.number(),
  }),
});
export type AnalysisDto = z.infer<typeof AnalysisDto>;

/** What a graph diff compares the graph with: a project file, a graph (a stored run's snapshot), or a checkpoint file. */
export const DiffAgainstDto = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('project'), path: z.string().min(1) }),
  z.object({ kind: z.literal('graph'), graph: GraphDto }),
  z.object({ kind: z.literal('checkpoint'), path: z.string().min(1) }),
]);
export type DiffAgainstDto = z.infer<typeof DiffAgainstDto>;

export const LayerStatusDto = z.enum(['added', 'removed', 'changed', 'renamed', 'same']);
export type LayerStatusDto = z.infer<typeof LayerStatusDto>;

/**
 * A graph diff (engine/graph/diff.ts has the rules): "from" is the reference, "to" the current graph. Layers are
 * matched by name, then by id (renames); params compared after defaults; connections by layer names.
 */
export const DiffDto = z.object({
  /** 'checkpoint': weights only, per layer by state-dict key and shape (no connections, no layers without weights) */
  kind: z.enum(['graph', 'checkpoint']),
  layers: z.array(
    z.object({
      /** the current name (the reference's for a removed layer) */
      name: z.string(),
      /** the canvas node; absent for a removed layer */
      nodeId: z.string().optional(),
      /** a renamed layer's name in the reference */
      baseName: z.string().optional(),
      /** '' when a checkpoint does not say */
      type: z.string(),
      /** a removed layer's place in the reference drawing (its ghost on the canvas); absent when not known */
      position: z.object({ x: z.number(), y: z.number() }).optional(),
      status: LayerStatusDto,
      /** param: a parameter name, 'type', 'inputs', or (checkpoints) a state-dict key; null = absent on that side */
      changes: z.array(z.object({ param: z.string(), from: z.unknown(), to: z.unknown() })),
    }),
  ),
  edges: z.object({
    added: z.array(z.object({ source: z.string(), target: z.string(), port: z.string().optional() })),
    removed: z.array(z.object({ source: z.string(), target: z.string(), port: z.string().optional() })),
  }),
  summary: z.object({ added: z.number(), removed: z.number(), changed: z.number(), renamed: z.number(), same: z.number() }),
  notes: z.array(z.string()),
});
export type DiffDto = z.infer<typeof DiffDto>;

export const TemplateDto = z.object({ id: z.string(), name: z.string(), dataset: z.string(), description: z.string() });
export type TemplateDto = z.infer<typeof TemplateDto>;

export const DirEntryDto = z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']) });
/** Which files a folder listing shows besides the folders: a file kind of the engine's (engine/io/file-kinds.ts), or none. */
export const ListKindDto = z.enum(['project', 'checkpoint', 'weights', 'torch', 'onnx', 'csv', 'folders']);
export type ListKindDto = z.infer<typeof ListKindDto>;

export const RecoveryDto = z.object({ project: ProjectDto, path: z.string().nullable(), savedAt: z.string() });

// ---- training runs -------------------------------------------------------------------------------

export const RunStateDto = z.enum(['ready', 'running', 'paused', 'stopped', 'finished', 'failed']);
export type RunStateDto = z.infer<typeof RunStateDto>;

/** Overrides of the project's training section for one run (the CLI's flags). */
export const RunOverridesDto = z
  .object({
    epochs: setting('epochs'),
    batchSize: setting('batch_size'),
    lr: setting('lr'),
    optimizer: OptimizerFlagSchema,
    dataset: BuiltinDatasetSchema,
    limitTrain: setting('limit'),
    limitTest: setting('limit'),
    seed: setting('seed'),
    /** where to train (the CLI's --device): auto, cpu, cuda, cuda:N; default the project's training.device */
    device: deviceSetting(),
    /** false: exact float32 on a GPU (the CLI's --no-tf32); default the project's training.allow_tf32 */
    tf32: z.boolean(),
    /** least milliseconds between run.progress events (default 100) */
    eventIntervalMs: setting('eventIntervalMs'),
  })
  .partial()
  .strict();
export type RunOverridesDto = z.infer<typeof RunOverridesDto>;

/** Optimizer settings that may change on resume (torch's names); each change is marked in the run's history. */
export const HyperDto = z
  .object({
    lr: setting('lr'),
    momentum: setting('momentum'),
    dampening: setting('dampening'),
    weight_decay: setting('weight_decay'),
    nesterov: z.boolean(),
    betas: z.tuple([setting('beta1'), setting('beta2')]),
    eps: setting('eps'),
    alpha: setting('alpha'),
  })
  .partial()
  .strict();
export type HyperDto = z.infer<typeof HyperDto>;

export const RunErrorDto = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });

export const HyperChangeDto = z.object({
  /** the global optimizer step the change applies from */
  step: z.number(),
  /** 1-based epoch and the batch (0-based, next to run) where the change applies */
  epoch: z.number(),
  batch: z.number(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
});
export type HyperChangeDto = z.infer<typeof HyperChangeDto>;

export const RunSummaryDto = z.object({
  runId: z.string(),
  name: z.string(),
  state: RunStateDto,
  /** 1-based epoch being run (or the last one, once over) */
  epoch: z.number(),
  epochs: z.number(),
  /** next batch to run in the epoch */
  batch: z.number(),
  batches: z.number(),
  bestEpoch: z.number().nullable(),
  error: RunErrorDto.optional(),
});
export type RunSummaryDto = z.infer<typeof RunSummaryDto>;

const RunProgressFields = {
  runId: z.string(),
  /** 1-based */
  epoch: z.number(),
  /** batches done in this epoch */
  batch: z.number(),
  batches: z.number(),
  /** samples done in this epoch */
  samples: z.number(),
  /** latest batch loss and the epoch's mean so far */
  loss: z.number(),
  meanLoss: z.number(),
  samplesPerSec: z.number(),
  lr: z.number(),
  /** null until there is a speed to go by */
  etaSeconds: z.number().nullable(),
};
const RunEpochFields = {
  runId: z.string(),
  epoch: z.number(),
  trainLoss: z.number(),
  /** correct / samples of the epoch's training batches (before each step); null for regression models */
  trainAccuracy: z.number().nullable(),
  testLoss: z.number(),
  /** null for regression models */
  testAccuracy: z.number().nullable(),
  /** train + test seconds of the epoch (time paused excluded) */
  seconds: z.number(),
};

/** Everything recorded so far (a reconnecting client redraws its charts from it). */
export const RunRecordDto = RunSummaryDto.extend({
  progress: z.array(z.object(RunProgressFields).omit({ runId: true }).extend({ step: z.number() })),
  epochsDone: z.array(z.object(RunEpochFields).omit({ runId: true })),
  changes: z.array(HyperChangeDto),
});

export const EvaluationDto = z.object({
  /** null for regression models */
  accuracy: z.number().nullable(),
  avgLoss: z.number(),
  samples: z.number(),
  /** confusion[true class][predicted class] */
  confusion: z.array(z.array(z.number())),
  perClass: z.array(z.object({ accuracy: z.number(), count: z.number() })),
  classNames: z.array(z.string()),
  /** regression models trained on a CSV's numeric target: errors over the test split, in the target's units
   *  (r2 null when the target is constant there), and the target column names */
  regression: z.object({ mae: z.number(), rmse: z.number(), r2: z.number().nullable(), targets: z.array(z.string()) }).optional(),
});
export type EvaluationDto = z.infer<typeof EvaluationDto>;

export const SampleDto = z.object({
  /** index in the test split */
  index: z.number(),
  label: z.number(),
  predicted: z.number(),
  /** uint8 pixels, base64, in the dataset's layout (sampleShape, row-major); empty for a CSV row */
  pixels: z.string(),
  /** a CSV row: its feature values as the file has them (not standardised), in the Input's order */
  features: z.array(z.number()).optional(),
  probabilities: z.array(z.number()),
});

export const NodeLoadDto = z.object({
  nodeId: z.string(),
  name: z.string(),
  type: z.string(),
  keys: z.array(z.string()),
  missing: z.array(z.string()),
  unexpected: z.array(z.string()),
  mismatched: z.array(z.object({ key: z.string(), fileShape: z.array(z.number()), modelShape: z.array(z.number()) })),
  ok: z.boolean(),
});

const RunId = z.object({ runId: z.string().min(1) });

/** What File ▸ Export writes: a safetensors or PyTorch (.pt) state dict, an ONNX model, or PyTorch code (a folder). */
export const ExportFormatDto = z.enum(['safetensors', 'pt', 'onnx', 'pytorch']);
export type ExportFormatDto = z.infer<typeof ExportFormatDto>;

/** What the engine tells about a load beyond the per-node report (e.g. DataParallel's 'module.' prefix dropped, a CSV
 *  standardisation that differs from the dataset's); always present, empty when there is nothing to say. */
const LoadNotes = z.array(z.string());

/** One CSV row in the dataset view: feature values as the file has them; class index (classification) or target value (regression). */
export const TableRowDto = z.object({ values: z.array(z.number()), label: z.number() });
export type TableRowDto = z.infer<typeof TableRowDto>;

/** A dataset for the dataset view and the playground (datasetInfo): what a run of it trains on (engine/train/dataset-info.ts). */
export const DatasetInfoDto = z.object({
  /** a built-in (also when read from a torchvision folder), an image folder or a CSV file */
  kind: z.enum(['builtin', 'image-folder', 'csv']),
  /** a built-in's name (mnist, ...), or 'image-folder' / 'csv' */
  name: z.string(),
  /** torchvision's class name (FashionMNIST), the image folder's or the CSV file's name */
  title: z.string(),
  /** one sample's shape: CHW for images, e.g. [1, 28, 28]; [features] for a CSV */
  sampleShape: z.array(z.number()),
  /** class names by label; empty for a regression CSV */
  classes: z.array(z.string()),
  /** samples per class in each split (empty for a regression CSV) */
  counts: z.object({ train: z.array(z.number()), test: z.array(z.number()) }),
  /** samples (rows) in each split */
  totals: z.object({ train: z.number(), test: z.number() }),
  /** 'validation': the test split is the held-out validation_fraction (image folders, CSVs) */
  testSplit: z.enum(['test', 'validation']),
  /** the first training samples of each class (resized as training resizes them), class by class; pixels: uint8 CHW, base64; empty for a CSV */
  samples: z.array(z.object({ label: z.number(), pixels: z.string() })),
  /** where the data was read from: a raw/ folder, an image folder, a CSV file */
  source: z.string(),
  /** the loader's notes (skipped files, constant features, decimal commas, ...) */
  notes: z.array(z.string()),
  /** a CSV: the columns used, the rows, the standardisation statistics and the target */
  table: z
    .object({
      task: z.enum(['classification', 'regression']),
      /** feature columns, in the Input's order */
      features: z.array(z.string()),
      label: z.string(),
      standardized: z.boolean(),
      /** per-feature mean and divisor (population std; 1 for a constant feature) of the training split */
      stats: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
      /** the first rows of the training split and of the test split, in file order */
      rows: z.array(TableRowDto),
      testRows: z.array(TableRowDto),
      /** regression: the target over both splits, and a histogram of each split */
      target: z
        .object({
          min: z.number(),
          max: z.number(),
          mean: z.number(),
          std: z.number(),
          bins: z.array(z.object({ from: z.number(), to: z.number(), train: z.number(), test: z.number() })),
        })
        .optional(),
    })
    .optional(),
});
export type DatasetInfoDto = z.infer<typeof DatasetInfoDto>;

/** One CUDA GPU as the probe saw it: cuda:<index>, its name, memory (free when probed) and compute capability ("9.0"). */
export const CudaDeviceDto = z.object({
  index: z.number().int().min(0),
  name: z.string(),
  totalBytes: z.number(),
  freeBytes: z.number(),
  computeCapability: z.string(),
  smCount: z.number(),
});
export type CudaDeviceDto = z.infer<typeof CudaDeviceDto>;

/** The machine as the engine sees it (the native binding's deviceInfo), for the device choice. */
export const DevicesDto = z.object({
  cpu: z.object({ model: z.string(), simd: z.string(), threads: z.number() }),
  /** whether training on a CUDA GPU is possible on this machine: its GPUs, or (available false) why there is none */
  cuda: z.object({ available: z.boolean(), reason: z.string().nullable(), devices: z.array(CudaDeviceDto).default([]) }),
});
export type DevicesDto = z.infer<typeof DevicesDto>;

/**
 * Will the model fit? The device a project's training.device resolves to on this machine and, on a
 * GPU, what a run at `batch` takes in its memory (engine/runtime/gpu-fit.ts) and the largest batch that fits.
 */
export const DeviceFitDto = z.object({
  /** 'cpu' or 'cuda:N' */
  device: z.string(),
  /** the GPU's name, or the CPU's model */
  name: z.string(),
  /** why auto chose the CPU (the probe's reason), or why no estimate could be made (the graph's first problem) */
  note: z.string().nullable(),
  fit: z
    .object({
      batch: z.number(),
      fits: z.boolean(),
      totalBytes: z.number(),
      freeBytes: z.number(),
      arenaBytes: z.number(),
      datasetBytes: z.number(),
      workspaceBytes: z.number(),
      contextBytes: z.number(),
      maxBatch: z.number(),
      /** "1.2 GiB of 79.1 GiB free at batch 64: fits (the largest batch that fits is 91,000)" */
      text: z.string(),
    })
    .nullable(),
});
export type DeviceFitDto = z.infer<typeof DeviceFitDto>;

/** The start of a CSV file, judged as a dataset (engine/data/csv-preview.ts). */
export const CsvPreviewDto = z.object({
  path: z.string(),
  bytes: z.number(),
  delimiter: z.enum([',', ';', '\t']),
  header: z.boolean(),
  columns: z.array(
    z.object({
      name: z.string(),
      /** usable as a numeric feature (every sampled cell a number) */
      numeric: z.boolean(),
      /** why not, naming the first offending cell */
      reason: z.string().nullable(),
      distinct: z.number(),
      integer: z.boolean(),
      /** what this column as the label suggests */
      task: z.enum(['classification', 'regression']),
    }),
  ),
  /** the first rows (≤ 8), one string per column */
  rows: z.array(z.array(z.string())),
  sampledRows: z.number(),
  /** the whole file was read (else only its start) */
  complete: z.boolean(),
});
export type CsvPreviewDto = z.infer<typeof CsvPreviewDto>;

/** One optimizer or scheduler type: its parameters' JSON Schema (torch's names, bounds and defaults). */
export const ParamsFormDto = z.object({
  type: z.string(),
  /** JSON Schema (draft 2020-12) of the parameters, `type` and `interval` left out */
  schema: z.record(z.string(), z.unknown()),
  /** the parameters every form shows first; the rest sit behind "more" */
  primary: z.array(z.string()),
});
export type ParamsFormDto = z.infer<typeof ParamsFormDto>;

/** A problem with the training section, where it is (e.g. ["optimizer", "momentum"]) and the engine's message. */
export const TrainingIssueDto = z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), hint: z.string().optional() });
export type TrainingIssueDto = z.infer<typeof TrainingIssueDto>;

// ---- the host around the app (desktop window or browser tab) --------------------------------------

/** Which host the renderer runs in, and what it offers beyond the engine. */
export const HostInfoDto = z.object({
  /** 'desktop': the Electron app (native menus and dialogs); 'browser': `netloom serve` */
  kind: z.enum(['desktop', 'browser']),
  /** the engine machine's platform (process.platform): paths and shortcuts follow it */
  platform: z.string(),
  /** the engine machine's home folder: where dialogs start for an unsaved project */
  home: z.string(),
  /** pickPath opens the operating system's file dialogs (else the app's own web dialogs) */
  nativeDialogs: z.boolean(),
});
export type HostInfoDto = z.infer<typeof HostInfoDto>;

/**
 * What a file dialog is for: it picks the title, the file filters and the starting folder. 'checkpoint' saves a
 * safetensors file; 'weights' opens a checkpoint of any format the engine reads (safetensors, .pt/.pth/.bin, .onnx);
 * 'torch' saves a .pt/.pth, 'onnx' opens or saves an ONNX model, 'pytorch-folder' is the folder PyTorch code goes in.
 */
export const PathPurposeDto = z.enum(['project', 'checkpoint', 'weights', 'torch', 'onnx', 'pytorch-folder', 'image-folder', 'csv', 'dataset-root', 'image']);
export type PathPurposeDto = z.infer<typeof PathPurposeDto>;

/**
 * The renderer's actions (their registered names) that the desktop menus show: the renderer reports
 * whether each is enabled (AppStateDto.enabled) and runs one when app.command names it.
 */
export const MENU_ACTIONS = [
  'new', 'open', 'save', 'saveAs', 'loadCheckpoint', 'importOnnx', 'saveCheckpoint', 'exportPt', 'exportOnnx', 'exportPytorch',
  'compareSaved', 'compareProject', 'compareCheckpoint',
  'undo', 'redo', 'copy', 'paste', 'delete', 'duplicate', 'selectAll',
  'zoomIn', 'zoomOut', 'fitView', 'autoLayout', 'toggleSummary', 'toggleTraining', 'toggleDataset', 'toggleTheme',
  'trainStart', 'trainPause', 'trainResume', 'trainStop', 'evaluate',
  'help',
] as const;
export type MenuAction = (typeof MENU_ACTIONS)[number];

/** The app's state as the host's menus and window need it (enabled items, title, unsaved changes). */
export const AppStateDto = z.object({
  /** the window title's document part */
  title: z.string().max(500),
  /** the project's file, when saved (the window's represented file on macOS) */
  projectPath: z.string().max(4096).nullable(),
  /** unsaved changes: the close guard asks before they are lost */
  dirty: z.boolean(),
  /** a run is training or paused: quitting asks, then stops it cleanly */
  training: z.boolean(),
  /** action name -> whether its menu item is enabled now */
  enabled: z.record(z.string().max(100), z.boolean()),
  /** action name -> checked state of a toggle item (panels) */
  checked: z.record(z.string().max(100), z.boolean()).default({}),
});
export type AppStateDto = z.infer<typeof AppStateDto>;

// ---- the methods ---------------------------------------------------------------------------------

/** Each method: params schema and result schema. The transports validate both. */
export const METHODS = {
  /** handshake: the engine's API version and build */
  hello: { params: z.object({}), result: z.object({ apiVersion: z.number(), version: z.string() }) },
  getCatalog: { params: z.object({}), result: z.array(LayerDto) },
  /** shapes, parameter counts, problems and the model summary for a graph at a batch size */
  analyze: { params: z.object({ graph: GraphDto, batchSize: z.number().int().positive() }), result: AnalysisDto },
  /** what changed from a saved project, a graph (a run's snapshot) or a checkpoint to `graph`; reads files, changes nothing */
  diffGraph: { params: z.object({ graph: GraphDto, against: DiffAgainstDto }), result: DiffDto },
  listTemplates: { params: z.object({}), result: z.array(TemplateDto) },
  getTemplate: { params: z.object({ id: z.string() }), result: ProjectDto },
  /** reads and validates (and migrates) a project file; nothing on disk changes */
  openProject: { params: z.object({ path: z.string().min(1) }), result: z.object({ path: z.string(), project: ProjectDto }) },
  /** validates, then writes atomically (temp file + rename); adds to the recent list. The path gets .json unless it
   *  ends in .json or .netloom. An existing file is replaced only with overwrite: true, else NL_EXISTS (ask, then retry) */
  saveProject: { params: z.object({ path: z.string().min(1), project: ProjectDto, overwrite: z.boolean().optional() }), result: z.object({ path: z.string() }) },
  recentProjects: { params: z.object({}), result: z.array(z.string()) },
  /** a folder listing for the open/save dialogs: folders, and the files of one kind (engine/io/file-kinds.ts; default
   *  project files; 'folders': none) */
  listDir: {
    params: z.object({ path: z.string().optional(), kind: ListKindDto.optional() }),
    result: z.object({ path: z.string(), parent: z.string().nullable(), entries: z.array(DirEntryDto) }),
  },
  /** autosave: the unsaved state, written every few seconds; read back after a crash */
  writeRecovery: { params: z.object({ project: ProjectDto, path: z.string().nullable() }), result: z.object({}) },
  readRecovery: { params: z.object({}), result: RecoveryDto.nullable() },
  clearRecovery: { params: z.object({}), result: z.object({}) },

  /** validates and prepares (dataset, compile), then trains in the background; events: run.progress/run.epoch/run.state.
   *  checkpoint: start from a saved state dict (resume: also its optimizer state and position).
   *  evaluateOnly: prepare and load the checkpoint but do not train: the run is created 'stopped',
   *  so evaluateRun / runSamples / predict / saveRunCheckpoint work on those weights at once */
  startRun: {
    params: z.object({
      project: ProjectDto,
      overrides: RunOverridesDto.optional(),
      checkpoint: z.object({ path: z.string().min(1), resume: z.boolean() }).optional(),
      evaluateOnly: z.boolean().optional(),
      /** chosen by the caller and echoed in dataset.download events, so it knows its run (and can stop it) before startRun answers */
      tag: z.string().max(100).optional(),
      /** the project's file, when it has been saved: relative dataset paths (CSV, image folder, torchvision root) resolve against its folder */
      path: z.string().min(1).optional(),
    }),
    /** notes: what loading `checkpoint` said (DataParallel's 'module.' prefix dropped, other CSV statistics); empty without one */
    /** device: where it trains, as the run's first line says it ("cuda:0 (NVIDIA H100 80GB HBM3, TF32 on)", "CPU: no NVIDIA driver found") */
    result: z.object({ runId: z.string(), notes: z.array(z.string()), device: z.string().optional() }),
  },
  /** stops after the current batch, remembering where; resolves once paused */
  pauseRun: { params: RunId, result: RunSummaryDto },
  /** continues a paused run exactly; hyper edits optimizer settings first (the change is returned and recorded) */
  resumeRun: { params: RunId.extend({ hyper: HyperDto.optional() }), result: z.object({ run: RunSummaryDto, change: HyperChangeDto.nullable() }) },
  /** ends the run for good; its weights stay available (evaluate, predict, save). A run still preparing
   *  (downloading its dataset) is abandoned: its download stops (kept for resuming) and startRun fails with NL_STOPPED */
  stopRun: { params: RunId, result: RunSummaryDto },
  listRuns: { params: z.object({}), result: z.array(RunSummaryDto) },
  getRun: { params: RunId, result: RunRecordDto },
  /** forgets a run that is not training (frees its memory) */
  closeRun: { params: RunId, result: z.object({}) },
  /** test split with the current weights (not while training) */
  evaluateRun: { params: RunId, result: EvaluationDto },
  /** up to `limit` test samples of one confusion-matrix cell */
  runSamples: {
    params: RunId.extend({ actual: z.number().int().min(0), predicted: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }),
    result: z.object({ sampleShape: z.array(z.number()), samples: z.array(SampleDto) }),
  },
  /** class probabilities for one sample (uint8 pixels in the dataset's layout, or a CSV row's features);
   *  a regression model answers with its output values */
  predict: {
    params: RunId.extend({
      pixels: z.array(z.number().int().min(0).max(255)).max(1 << 20).default([]),
      /** instead of pixels, for a CSV dataset: one row's feature values as the file has them (standardised by the engine) */
      features: z.array(z.number().finite()).max(1 << 20).optional(),
    }),
    result: z.object({
      /** class probabilities (empty for a regression model) */
      probabilities: z.array(z.number()),
      /** the most probable class (-1 for a regression model) */
      predicted: z.number(),
      /** a regression model's output values, in the target's units */
      output: z.array(z.number()).optional(),
    }),
  },
  /** a state dict of the last or the best-test-loss weights; withOptimizer (last only) makes it resumable. A path ending
   *  in .pt/.pth is PyTorch's format (the checkpoint dict when withOptimizer), any other safetensors: it gets .safetensors
   *  unless it ends in it; an existing file is replaced only with overwrite: true, else NL_EXISTS */
  saveRunCheckpoint: {
    params: RunId.extend({ path: z.string().min(1), which: z.enum(['last', 'best']).default('last'), withOptimizer: z.boolean().default(false), overwrite: z.boolean().optional() }),
    result: z.object({ path: z.string() }),
  },
  /** compares a checkpoint with the run's graph node by node; loads it when everything matches (unless dryRun) */
  checkpointReport: {
    params: RunId.extend({ path: z.string().min(1), dryRun: z.boolean().optional() }),
    result: z.object({ ok: z.boolean(), loaded: z.boolean(), nodes: z.array(NodeLoadDto), unassigned: z.array(z.string()), problems: z.array(z.string()), hasOptimizerState: z.boolean(),
      /** saved with the training position (withOptimizer): startRun can resume from it */
      resumable: z.boolean(), notes: LoadNotes }),
  },
  /** compares a checkpoint with a graph (no run needed): the same per-node report; loads nothing */
  graphCheckpointReport: {
    params: z.object({ graph: GraphDto, path: z.string().min(1) }),
    result: z.object({ ok: z.boolean(), nodes: z.array(NodeLoadDto), unassigned: z.array(z.string()), problems: z.array(z.string()), hasOptimizerState: z.boolean(), resumable: z.boolean(), notes: LoadNotes }),
  },
  /** File ▸ Export: the run's weights (last or best) as a safetensors or .pt state dict (withOptimizer, last only: resumable,
   *  the .pt in PyTorch's checkpoint layout), an ONNX model, or PyTorch code in a folder (with model.pt when there are
   *  weights). The run's own project is exported (its weights fit it); without a run only 'pytorch' works (code only),
   *  from `project` (saved at `projectPath`, which relative dataset paths resolve against). A file gets the format's
   *  extension unless it has one; an existing file is replaced only with overwrite: true, else NL_EXISTS */
  exportModel: {
    params: z
      .object({
        format: ExportFormatDto,
        path: z.string().min(1),
        runId: z.string().min(1).optional(),
        project: ProjectDto.optional(),
        projectPath: z.string().min(1).optional(),
        which: z.enum(['last', 'best']).default('last'),
        withOptimizer: z.boolean().default(false),
        overwrite: z.boolean().optional(),
      })
      .refine((p) => p.runId !== undefined || p.project !== undefined, { message: 'give runId (a run\'s weights) or project (PyTorch code without weights)' }),
    result: z.object({ files: z.array(z.string()) }),
  },
  /** File ▸ Import ▸ ONNX Model: the model as a new, unsaved project (layers, names, training defaults), its weights
   *  written to a safetensors file (`weights`, in the engine's temporary folder) to compare with the graph and load
   *  (graphCheckpointReport, startRun's checkpoint), and what the user should know about the import */
  importOnnx: {
    params: z.object({ path: z.string().min(1) }),
    result: z.object({ project: ProjectDto, weights: z.string(), notes: z.array(z.string()) }),
  },

  /** a dataset at a glance: classes, per-class counts of both splits, the first perClass training images of each class,
   *  or a CSV's columns, rows and statistics. Which dataset: exactly one of name, dataset (+ path) or runId */
  datasetInfo: {
    params: z
      .object({
        /** a built-in by name */
        name: BuiltinDatasetSchema.optional(),
        /** a project's training.dataset: a built-in's name or a description (torchvision folder, image folder, CSV), checked by the engine */
        dataset: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
        /** the project's file, when saved: relative dataset paths resolve against its folder (else they must be absolute) */
        path: z.string().min(1).optional(),
        /** the dataset a run trains on (in memory already: nothing is read) */
        runId: z.string().min(1).optional(),
        perClass: z.number().int().min(0).max(64).default(8),
        /** CSV rows returned of each split */
        rows: z.number().int().min(0).max(1000).default(12),
        /** read the files again even when a summary of them (unchanged on disk) is cached */
        fresh: z.boolean().optional(),
      })
      .refine((p) => [p.name, p.dataset, p.runId].filter((v) => v !== undefined).length === 1, { message: 'give exactly one of name, dataset or runId' }),
    result: DatasetInfoDto,
  },
  /** columns, delimiter, first rows and per-column numeric check of a CSV file (reads only its start) */
  csvPreview: {
    params: z.object({ path: z.string().min(1), delimiter: z.enum([',', ';', '\t']).optional(), header: z.boolean().optional() }),
    result: CsvPreviewDto,
  },

  /** the CPU (model, SIMD, threads) and the CUDA GPUs found, or why there are none */
  devices: { params: z.object({}), result: DevicesDto },
  /** where a project's run would train and, on a GPU, whether it fits at batchSize (default the project's) */
  deviceFit: { params: z.object({ project: ProjectDto, batchSize: setting('batch_size').optional() }), result: DeviceFitDto },
  /** the optimizers and LR schedulers a project may use, as forms (from the engine's own schemas) */
  trainingSchema: {
    params: z.object({}),
    result: z.object({ optimizers: z.array(ParamsFormDto), schedulers: z.array(ParamsFormDto) }),
  },
  /** checks a training section as a run would (schema, then the scheduler against the run's length):
   *  issues stop a run; warnings do not. trainSamples: samples per epoch, when the caller knows better */
  checkTraining: {
    params: z.object({ training: z.record(z.string(), z.unknown()), trainSamples: z.number().int().positive().optional() }),
    result: z.object({ issues: z.array(TrainingIssueDto), warnings: z.array(z.string()) }),
  },

  /** which host runs the app (desktop or browser) and what it offers */
  hostInfo: { params: z.object({}), result: HostInfoDto },
  /** the operating system's open/save/folder dialog (desktop only; the browser answers NL_UNSUPPORTED and
   *  the app shows its own dialog): the chosen path, or null when the user cancelled */
  pickPath: {
    params: z.object({
      mode: z.enum(['open', 'save', 'folder']),
      purpose: PathPurposeDto,
      /** a file or folder to start at (a save dialog's proposed file) */
      defaultPath: z.string().max(4096).optional(),
    }),
    result: z.object({ path: z.string().nullable() }),
  },
  /** the renderer reports its state so the host can enable menu items, title the window and guard closing */
  setAppState: { params: AppStateDto, result: z.object({}) },
  /** the renderer's answer to an app.command 'close-request': close the window now (after it saved or discarded),
   *  or, with cancel, keep it open (the user chose Cancel; a quit waiting for this window is called off) */
  closeWindow: { params: z.object({ cancel: z.boolean().optional() }), result: z.object({}) },
} as const;

export type MethodName = keyof typeof METHODS;
export type Params<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
export type Result<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>;

/** The API as the renderer sees it: one async function per method, plus events. */
export type EngineApi = {
  [M in MethodName]: (params: Params<M>) => Promise<Result<M>>;
} & {
  /** subscribe to engine events; returns the unsubscribe function */
  onEvent(listener: (e: EngineEvent) => void): () => void;
};

// ---- events --------------------------------------------------------------------------------------

export const EngineEvent = z.discriminatedUnion('type', [
  /** the engine's recent-files list changed */
  z.object({ type: z.literal('recent.changed'), recent: z.array(z.string()) }),
  /** training progress, throttled (about 10 a second per run) */
  z.object({ type: z.literal('run.progress'), ...RunProgressFields }),
  /** an epoch's metrics, after its test pass */
  z.object({ type: z.literal('run.epoch'), ...RunEpochFields }),
  /** running / paused / stopped / finished / failed (with the error) */
  z.object({ type: z.literal('run.state'), runId: z.string(), state: RunStateDto, error: RunErrorDto.optional() }),
  /** a run being prepared downloads its dataset: one file of `count`, throttled (about 10 a second) */
  z.object({
    type: z.literal('dataset.download'),
    runId: z.string(),
    /** startRun's tag, when it had one */
    tag: z.string().optional(),
    /** torchvision's class name, e.g. FashionMNIST */
    dataset: z.string(),
    file: z.string(),
    /** 1-based among the files being downloaded */
    index: z.number(),
    count: z.number(),
    received: z.number(),
    /** the file's size; null when the server does not say */
    total: z.number().nullable(),
    bytesPerSec: z.number(),
    done: z.boolean(),
  }),
  /** the desktop host asks the app to do something: a menu item (an action's name), a file to open
   *  (dropped, double-clicked, from Open Recent), or 'close-request' (the window is closing: check unsaved work) */
  z.object({ type: z.literal('app.command'), command: z.string().max(100), path: z.string().max(4096).optional() }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;

// ---- errors --------------------------------------------------------------------------------------

/** What crosses the boundary when a call fails: a stable code, the message, the fix. No stacks. */
export const ApiError = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
export type ApiError = z.infer<typeof ApiError>;

/** The renderer-side error class: thrown by the client when a call's response is an error. */
export class EngineCallError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(e: ApiError) {
    super(e.message);
    this.name = 'EngineCallError';
    this.code = e.code;
    this.hint = e.hint;
  }
}

// ---- wire messages -------------------------------------------------------------------------------

export const Request = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export const Response = z.union([
  z.object({ id: z.number().int(), result: z.unknown() }),
  z.object({ id: z.number().int(), error: ApiError }),
]);
export const EventMessage = z.object({ event: EngineEvent });
export type Request = z.infer<typeof Request>;

/** Validates a request's method and params; returns the parsed params or an ApiError. */
export function checkRequest(method: string, params: unknown): { ok: true; method: MethodName; params: unknown } | { ok: false; error: ApiError } {
  if (!Object.hasOwn(METHODS, method))
    return { ok: false, error: { code: 'NL_BAD_REQUEST', message: `unknown method "${method}"`, hint: `Known methods: ${Object.keys(METHODS).join(', ')}.` } };
  const r = METHODS[method as MethodName].params.safeParse(params ?? {});
  if (!r.success)
    return {
      ok: false,
      error: { code: 'NL_BAD_REQUEST', message: `invalid parameters for ${method}: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}` },
    };
  return { ok: true, method: method as MethodName, params: r.data };
}
