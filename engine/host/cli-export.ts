/**
 * The command line's file formats: which format `--save` writes (its extension), `netloom export`
 * (a project, with or without trained weights, as safetensors, a PyTorch .pt, ONNX or PyTorch code)
 * and `netloom import` (an ONNX model as a project plus its weights). The writers are engine/io's;
 * this file checks the arguments before anything is loaded and prints what was written.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { NetloomError } from '../errors.js';
import { writeCheckpointFile } from '../io/checkpoint.js';
import { writeModelExport, EXPORT_EXTENSIONS, type ExportFormat } from '../io/model-export.js';
import { importOnnx } from '../io/onnx-import.js';
import { saveProjectFile, withProjectExtension } from '../io/project.js';
import { mismatchError, readCheckpoint, requireFinite, splitCheckpoint, stateDictProblems } from '../train/checkpoints.js';
import { buildExportInput } from '../train/export-input.js';
import { readProject } from '../train/job.js';
import { preflight } from './cli-preflight.js';

/** What `--save` writes for each extension it accepts, as the final line names it. */
const SAVE_FORMATS: Readonly<Record<string, string>> = { '.safetensors': 'safetensors', '.pt': 'PyTorch', '.pth': 'PyTorch' };

/**
 * The format `--save <file>` writes, from its extension (checked before training): "PyTorch" for .pt
 * and .pth (torch.save's format), "safetensors" for .safetensors; anything else is refused with the list.
 */
export function saveFormat(file: string): string {
  const ext = path.extname(file).toLowerCase();
  const format = SAVE_FORMATS[ext];
  if (!format)
    throw new NetloomError('NL_INVALID_ARGUMENT', `--save ${file}: ${ext ? `"${ext}" is not` : 'a file name without an extension is not'} a format Netloom writes; the extension chooses it: ${Object.keys(SAVE_FORMATS).join(', ')}`,
      `Use --save ${path.basename(file, ext) || 'model'}.pth for PyTorch (torch.load(..., weights_only=True) reads it) or .safetensors; nothing has been trained yet.`);
  return format;
}

/** The line after a save: "Saved PyTorch state dict to model.pth". */
export const savedLine = (file: string) => `Saved ${saveFormat(file)} state dict to ${file}`;

export const EXPORT_FORMATS: readonly ExportFormat[] = ['pt', 'safetensors', 'onnx', 'pytorch'];

/** The files --out may name for a format: a .pt/.pth, .safetensors or .onnx file; a folder for pytorch. */
function checkOut(format: ExportFormat, out: string): void {
  if (format === 'pytorch') return;
  const allowed = EXPORT_EXTENSIONS[format];
  if (!allowed.includes(path.extname(out).toLowerCase()))
    throw new NetloomError('NL_INVALID_ARGUMENT', `--format ${format} writes a ${allowed.join(' or ')} file, but --out ${out} ends in ${path.extname(out) ? `"${path.extname(out)}"` : 'no extension'}`,
      `Give --out model${allowed[0]}.`);
}

/** The weights of `file` for the model of `state`, strictly (every key, every shape), as a map in the model's order. */
async function exportWeights(file: string, state: readonly { key: string; shape: readonly number[] }[]): Promise<{ weights: Map<string, Float32Array>; notes: string[] }> {
  const read = await readCheckpoint(file);
  const model = splitCheckpoint(read.tensors).model;
  const problems = stateDictProblems(state, model);
  if (problems.length) throw mismatchError(file, problems);
  requireFinite(file, model);
  return { weights: new Map(state.map((e) => [e.key, model[e.key].data])), notes: read.notes };
}

/** `netloom export <project> --format F [--weights W] --out O`. */
export async function exportProject(projectPath: string, f: { format: ExportFormat; weights?: string; out: string }): Promise<void> {
  checkOut(f.format, f.out);
  if (!f.weights && f.format !== 'pytorch')
    throw new NetloomError('NL_INVALID_ARGUMENT', `--format ${f.format} needs trained weights: pass --weights <file>`,
      'Give the checkpoint `netloom train --save <file>` wrote (or one from PyTorch); --format pytorch exports the code without weights.');
  const project = await readProject(projectPath);
  await preflight({ weights: f.weights });
  let input = await buildExportInput(project, projectPath);
  if (f.weights) {
    const { weights, notes } = await exportWeights(f.weights, input.state);
    for (const n of notes) console.log(`note: ${n}`);
    input = { ...input, weights };
  }
  const written = await writeModelExport(f.format, input, f.out);
  for (const file of written) console.log(`Wrote ${file}`);
}

/** `netloom import <file.onnx> --out <project.json>`: the project, and its weights beside it. */
export async function importModel(file: string, f: { out: string }): Promise<void> {
  const imported = await importOnnx(file);
  const saved = await saveProjectFile(f.out, imported.project);
  const weights = `${saved.path.slice(0, saved.path.length - path.extname(saved.path).length)}.safetensors`;
  await writeCheckpointFile(weights, imported.tensors, { format: 'pt', producer: 'netloom', project: saved.project.name, source: path.basename(file) });
  console.log(`Wrote ${saved.path}`);
  console.log(`Wrote ${weights}`);
  for (const n of imported.notes) console.log(`note: ${n}`);
  const evalCommand = `netloom eval ${path.relative(process.cwd(), saved.path) || saved.path} --weights ${path.relative(process.cwd(), weights) || weights}`;
  // importOnnx sets a dataset only for a 1x28x28 input; any other model needs the user's data named first
  const hasDataset = JSON.stringify(importedInputShape(saved.project)) === '[1,28,28]';
  console.log(hasDataset ? `Next: ${evalCommand}`
    : `Next: give it data of its input shape, e.g. ${evalCommand} --csv <file> --label <column> (or --dataset, --image-folder), or set the dataset in the project`);
}

/** The per-sample shape of the imported project's Input node. */
function importedInputShape(project: { graph: { nodes: readonly { type: string; params: Record<string, unknown> }[] } }): unknown {
  return project.graph.nodes.find((n) => n.type === 'Input')?.params.shape;
}

function exportFormat(v: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${EXPORT_FORMATS.join(', ')}.`);
  return v as ExportFormat;
}

/** Adds `export` and `import` to the program. */
export function addExportCommands(program: Command, helpPointer: (command?: string) => string): void {
  program
    .command('export')
    .description('export a project: a state dict (.pt / .safetensors), an ONNX model, or PyTorch code (model.py, train.py)')
    .argument('<project>', 'project file')
    .requiredOption('--format <format>', `${EXPORT_FORMATS.join(' | ')} (pt, safetensors and onnx need --weights)`, exportFormat)
    .option('--weights <file>', 'trained weights to export (a checkpoint of any format Netloom reads); with --format pytorch, also written as model.pt in the folder')
    .requiredOption('--out <path>', 'the file to write (.pt/.pth, .safetensors, .onnx), or for --format pytorch a new or empty folder (or an earlier export)')
    .showHelpAfterError(helpPointer('export'))
    .action((project: string, f: { format: ExportFormat; weights?: string; out: string }) => exportProject(project, f));
  program
    .command('import')
    .description('import an ONNX model as a project, with its weights beside it (<out>.safetensors)')
    .argument('<file>', 'ONNX model (.onnx), e.g. from torch.onnx.export')
    .requiredOption('--out <project>', 'the project file to write (.json)')
    .showHelpAfterError(helpPointer('import'))
    .action((file: string, f: { out: string }) => importModel(file, { out: withProjectExtension(f.out) }));
}
