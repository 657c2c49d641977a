#!/usr/bin/env node
/**
 * `netloom`: the command line. train / eval / export / import / devices / serve, printing what the PyTorch quickstart
 * prints. User mistakes end with one message (`error [NL_CODE]: ...`, the code the README's
 * troubleshooting lists), a hint and exit code 1; a mistyped flag gets one line pointing at --help.
 * Every path on the command line is checked before anything is loaded or trained (cli-preflight.ts),
 * so a run is never lost to a typo; nothing is written unless the whole write succeeds. train and
 * eval drive the app's run object (cli-train.ts), export and import the model writers (cli-export.ts);
 * this file holds the commands and their flags.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { NetloomError, isNetloomError } from '../errors.js';
import { readProject, type JobOptions } from '../train/job.js';
import { BUILTIN_DATASET_NAMES, type BuiltinDatasetName } from '../contract/datasets.js';
import { OPTIMIZER_FLAGS } from '../contract/optimizers.js';
import { CsvDatasetSchema, ImageFolderDatasetSchema } from '../graph/document.js';
import { DEVICE_HINT, deviceProblem, settingHint, settingProblem, type SettingName } from '../contract/settings.js';
import { printDevices } from './cli-devices.js';
import { ProgressLine } from './progress.js';
import { preflight } from './cli-preflight.js';
import { evaluateProject, trainProject } from './cli-train.js';
import { addExportCommands, saveFormat } from './cli-export.js';
import { addSummaryCommand } from './cli-summary.js';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from './serve.js';
import { isLoopbackBindAddress } from './loopback.js';

function number(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} takes a number, got "${v}".`);
    return n;
  };
}

/**
 * A flag that sets a training number: a number (else commander's usage error) within the setting's declared
 * range (contract/settings.ts, the same the project file and the API use), refused as the flag is read.
 */
function settingFlag(flag: string, name: SettingName) {
  const parse = number(flag);
  return (v: string) => {
    const n = parse(v);
    const problem = settingProblem(name, n);
    if (problem) throw new NetloomError('NL_INVALID_ARGUMENT', `${flag}: ${problem}`, settingHint(name));
    return n;
  };
}

/** --device auto | cpu | cuda | cuda:N, refused as the flag is read (whether that GPU exists is the run's check). */
function deviceFlag(v: string): string {
  const problem = deviceProblem(v);
  if (problem) throw new NetloomError('NL_INVALID_ARGUMENT', `--device: ${problem}`, DEVICE_HINT);
  return v;
}

function choice<T extends string>(values: readonly T[]) {
  return (v: string) => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}.`);
    return v as T;
  };
}

interface CommonFlags {
  batchSize?: number;
  dataset?: BuiltinDatasetName;
  data?: string;
  threads?: number;
  device?: string;
  /** false with --no-tf32 (commander's default is true) */
  tf32?: boolean;
  limitTest?: number;
  download?: boolean;
  imageFolder?: string;
  imageSize?: [number, number];
  rgb?: boolean;
  csv?: string;
  label?: string;
  features?: string[];
  regression?: boolean;
  /** false with --no-standardize (commander's default is true) */
  standardize?: boolean;
  /** set by the action wrapper: --no-standardize was on the command line */
  standardizeGiven?: boolean;
  validationFraction?: number;
}

/** --image-size HxW (height x width), e.g. 28x28. */
function imageSize(v: string): [number, number] {
  const m = /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(v);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2]) : NaN;
  if (!(h >= 1 && h <= 4096 && w >= 1 && w <= 4096)) throw new InvalidArgumentError(`--image-size takes HEIGHTxWIDTH with whole numbers from 1 to 4096, e.g. 28x28, got "${v}".`);
  return [h, w];
}

/** --features a,b,c: column names separated by commas (surrounding spaces dropped). */
function columnList(v: string): string[] {
  const names = v.split(',').map((c) => c.trim());
  if (names.some((c) => c === '')) throw new InvalidArgumentError(`--features takes column names separated by commas, e.g. sepal_length,sepal_width, got "${v}".`);
  return names;
}

/** --validation-fraction: a share above 0 and below 1. */
function fraction(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError(`--validation-fraction takes a number above 0 and below 1, e.g. 0.2, got "${v}".`);
  return n;
}

/**
 * --image-folder (with --image-size, --rgb) or --csv (with --label, --features, --regression, --no-standardize) as a
 * training.dataset description, --validation-fraction for either; paths are relative to the working directory.
 */
function datasetFlags(f: CommonFlags): JobOptions['dataset'] {
  const bad = (message: string, hint: string) => new NetloomError('NL_INVALID_ARGUMENT', message, hint);
  if (f.imageFolder === undefined && (f.imageSize !== undefined || f.rgb))
    throw bad('--image-size and --rgb apply to --image-folder only', 'Add --image-folder <dir>, or leave them out.');
  if (f.csv === undefined && (f.label !== undefined || f.features !== undefined || f.regression || f.standardizeGiven))
    throw bad('--label, --features, --regression and --no-standardize apply to --csv only', 'Add --csv <file>, or leave them out.');
  if (f.imageFolder === undefined && f.csv === undefined && f.validationFraction !== undefined)
    throw bad('--validation-fraction applies to --csv and --image-folder only', 'Built-in datasets have their own test split; leave it out.');
  const chosen = [f.dataset !== undefined && '--dataset', f.imageFolder !== undefined && '--image-folder', f.csv !== undefined && '--csv'].filter(Boolean);
  if (chosen.length > 1) throw bad(`${chosen.join(' and ')} both choose the dataset`, 'Use one of them.');
  if (f.imageFolder !== undefined)
    return ImageFolderDatasetSchema.parse({
      type: 'image-folder', path: path.resolve(f.imageFolder), size: f.imageSize, mode: f.rgb ? 'rgb' : 'grey', validation_fraction: f.validationFraction,
    });
  if (f.csv !== undefined) {
    if (f.label === undefined) throw bad('--csv needs --label <column>: the column to predict', 'Example: --csv iris.csv --label species.');
    return CsvDatasetSchema.parse({
      type: 'csv', path: path.resolve(f.csv), label: f.label, features: f.features, task: f.regression ? 'regression' : 'classification',
      standardize: f.standardize !== false, validation_fraction: f.validationFraction,
    });
  }
  return f.dataset;
}

function jobOptions(f: CommonFlags & { epochs?: number; lr?: number; optimizer?: JobOptions['optimizer']; seed?: number; limitTrain?: number; weights?: string }): JobOptions {
  return {
    epochs: f.epochs,
    batchSize: f.batchSize,
    lr: f.lr,
    optimizer: f.optimizer,
    dataset: datasetFlags(f),
    dataRoot: f.data,
    seed: f.seed,
    threads: f.threads,
    device: f.device,
    // only --no-tf32 overrides the project (commander's default true would always override it)
    tf32: f.tf32 === false ? false : undefined,
    weights: f.weights,
    limitTrain: f.limitTrain,
    limitTest: f.limitTest,
    download: f.download,
    onDownloadProgress: f.download ? downloadProgress() : undefined,
  };
}

/** --download: a progress bar per file on a terminal, one line per file elsewhere. */
function downloadProgress(): NonNullable<JobOptions['onDownloadProgress']> {
  const out = process.stdout;
  const bar = new ProgressLine(out);
  const seen = new Set<string>();
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return (p) => {
    if (!seen.has(p.dest)) {
      seen.add(p.dest);
      if (!out.isTTY) console.log(`Downloading ${p.url}${p.resumedFrom > 0 ? ` (resuming at ${mb(p.resumedFrom)})` : ''}`);
    }
    const size = p.total === undefined ? mb(p.received) : `${mb(p.received)} / ${mb(p.total)}`;
    bar.update(p.total ? p.received / p.total : 0, `${p.dataset} ${p.file} (${p.index}/${p.count})  ${size}`);
    if (p.done) bar.done();
  };
}

async function train(projectPath: string, f: Parameters<typeof jobOptions>[0] & { save?: string }): Promise<void> {
  const project = await readProject(projectPath);
  await preflight(f);
  // the extension chooses the format: a wrong one is refused before the dataset is loaded or anything trained
  if (f.save !== undefined) saveFormat(f.save);
  await trainProject(project, projectPath, jobOptions(f), f);
}

async function evaluate(projectPath: string, f: CommonFlags & { weights: string }): Promise<void> {
  const project = await readProject(projectPath);
  await preflight(f);
  await evaluateProject(project, projectPath, jobOptions(f), f);
}



/** `netloom serve`: runs the web host until Ctrl-C (or SIGTERM), then closes it cleanly. */
function port(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port takes a whole number from 0 to 65535 (0 = any free port), got "${v}".`);
  return n;
}

async function serve(f: { host: string; port: number }): Promise<void> {
  const server = await startServer({ host: f.host, port: f.port });
  console.log(`Netloom is running at ${server.url}`);
  if (!isLoopbackBindAddress(f.host))
    console.log(`note: listening on ${f.host}: anyone who can reach this machine and has the link can use Netloom (and read and write project files as you).`);
  console.log('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.log('\nStopping Netloom.');
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Commander calls an action with (argument, options, command); this records which defaulted flags the
 * user actually gave (--no-standardize, whose option value is true unless given), for datasetFlags' checks.
 */
function withFlagSources<F extends CommonFlags>(fn: (arg: string, f: F) => Promise<void>) {
  return (arg: string, f: F, cmd: Command) => fn(arg, { ...f, standardizeGiven: cmd.getOptionValueSource('standardize') === 'cli' });
}

/** package.json's version (the file above this one named "netloom": dist/engine/host/ or engine/host/). */
function version(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'netloom' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** After a usage error (unknown flag, missing argument): one line pointing at the help, not the whole help. */
const helpPointer = (command?: string) => `(run 'netloom${command ? ` ${command}` : ''} --help' to see every ${command ? 'flag' : 'command'})`;

export function buildCli(): Command {
  const program = new Command('netloom')
    .description('Design, train and evaluate neural networks; PyTorch-compatible checkpoints.')
    .version(`netloom ${version()}`, '-V, --version', 'print the version')
    .showHelpAfterError(helpPointer());
  const common = (c: Command) =>
    c
      .option('--batch-size <n>', 'samples per batch (DataLoader batch_size)', settingFlag('--batch-size', 'batch_size'))
      .option('--dataset <name>', `dataset: ${BUILTIN_DATASET_NAMES.join(' | ')}`, choice(BUILTIN_DATASET_NAMES))
      .option('--data <root>', "torchvision-style data folder (<root>/FashionMNIST/raw); default: the built-in copy (MNIST, FashionMNIST) or the user data folder")
      .option('--download', 'download missing dataset files from the official source (into --data, else $NETLOOM_DATA_DIR, $XDG_DATA_HOME/netloom/datasets or ~/.local/share/netloom/datasets), verified by MD5; MNIST/FashionMNIST then use the official files, not the built-in copy')
      .option('--image-folder <dir>', 'train/test on a folder of images, one sub-folder per class (torchvision ImageFolder layout); 10% of the images are held out as the test split')
      .option('--image-size <HxW>', 'with --image-folder: resize every image to HEIGHTxWIDTH (e.g. 28x28)', imageSize)
      .option('--rgb', 'with --image-folder: 3 colour channels (default: greyscale, 1 channel)')
      .option('--csv <file>', 'train/test on a CSV file (numeric feature columns and a label column, first row = column names); 20% of the rows are held out as the test split')
      .option('--label <column>', 'with --csv: the column to predict (class names, or numbers with --regression)')
      .option('--features <a,b,c>', 'with --csv: the feature columns, in the order the Input takes them (default: every column but the label)', columnList)
      .option('--regression', 'with --csv: predict the label column as a number (train with MSELoss, L1Loss or SmoothL1Loss); default: classification')
      .option('--no-standardize', "with --csv: feed the features as they are (default: standardise each with the training rows' mean and standard deviation)")
      .option('--validation-fraction <x>', 'with --csv or --image-folder: share of the samples held out as the test split (default 0.2 for CSV, 0.1 for images)', fraction)
      .option('--threads <n>', 'CPU threads (default: all)', settingFlag('--threads', 'threads'))
      .option('--device <device>', "where to train: auto (the first GPU when one is found, else the CPU) | cpu | cuda | cuda:N (default: the project's training.device)", deviceFlag)
      .option('--no-tf32', "on a GPU: exact float32 matmul and conv instead of TF32 tensor cores (PyTorch's allow_tf32 = False)")
      .option('--limit-test <n>', 'use only the first N test samples', settingFlag('--limit-test', 'limit'));
  common(
    program
      .command('train')
      .description('train a project and print test accuracy after every epoch')
      .argument('<project>', 'project file (.json / .netloom)')
      .option('--epochs <n>', 'number of epochs', settingFlag('--epochs', 'epochs'))
      .option('--lr <x>', 'learning rate', settingFlag('--lr', 'lr'))
      .option('--optimizer <name>', OPTIMIZER_FLAGS.join(' | '), choice(OPTIMIZER_FLAGS))
      .option('--seed <n>', 'random seed for initialisation and shuffling', settingFlag('--seed', 'seed'))
      .option('--weights <file>', 'start from these weights (a .safetensors, .pt or .pth state dict, from Netloom or PyTorch) instead of a fresh initialisation')
      .option('--limit-train <n>', 'use only the first N training samples', settingFlag('--limit-train', 'limit'))
      .option('--save <file>', 'save the trained state dict here, in the format its extension names: .pt / .pth (torch.save\'s, for torch.load) or .safetensors; the folder must exist (checked before training)')
      .showHelpAfterError(helpPointer('train')),
  ).action(withFlagSources(train));
  common(
    program
      .command('eval')
      .description('evaluate saved weights on the test split')
      .argument('<project>', 'project file')
      .requiredOption('--weights <file>', 'state dict to evaluate (.safetensors, .pt or .pth, from Netloom or PyTorch: train.py\'s checkpoints/last.pt too)')
      .showHelpAfterError(helpPointer('eval')),
  ).action(withFlagSources(evaluate));
  addExportCommands(program, helpPointer);
  addSummaryCommand(program, helpPointer, settingFlag('--batch-size', 'batch_size'));
  program.command('devices').description('list compute devices: the CPU, and each GPU with its memory and compute capability, or why there is none').showHelpAfterError(helpPointer('devices')).action(printDevices);
  program
    .command('serve')
    .description('run the Netloom app in a browser: prints a local address (with its access token) to open')
    .option('--host <host>', 'interface to listen on (anything but a loopback address such as 127.0.0.1 exposes Netloom to the network)', DEFAULT_HOST)
    .option('--port <n>', 'port to listen on (0 = any free port)', port, DEFAULT_PORT)
    .showHelpAfterError(helpPointer('serve'))
    .action(serve);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (e) {
    if (isNetloomError(e)) {
      process.stderr.write(`\nerror [${e.code}]: ${(e as NetloomError).describe()}\n`);
      return 1;
    }
    process.stderr.write(`\ninternal error: ${(e as Error)?.stack ?? String(e)}\nPlease report this with the command you ran.\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv);
