/**
 * `netloom`'s preflight: every path on the command line is checked before anything is loaded or
 * trained, so a run is never lost to a typo at its end (a --save folder that does not exist, a
 * --weights file that is not there).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';

/** The flags that name files. */
export interface PathFlags {
  csv?: string;
  imageFolder?: string;
  weights?: string;
  save?: string;
}

/** For a relative path, ": /cwd/runs/x (a relative path is taken from the current directory, /cwd)"; nothing for an absolute one. */
function located(p: string): string {
  return path.isAbsolute(p) ? '' : `: ${path.resolve(p)} (a relative path is taken from the current directory, ${process.cwd()})`;
}

async function statOf(p: string) {
  try {
    return await fsp.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new NetloomError('NL_IO', `Could not look at ${p}${located(p)}: ${(e as Error).message}`, 'Check the permissions of the folders on the way.', { cause: e });
  }
}

/** --save: its folder exists and is writable, and the name is not a folder: checked before training, not after. */
async function checkSaveTarget(file: string): Promise<void> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const note = path.isAbsolute(file) ? '' : ` (a relative path is taken from the current directory, ${process.cwd()})`;
  const io = (message: string, hint: string) => new NetloomError('NL_IO', `--save ${file}: ${message}${note}`, hint);
  const d = await statOf(dir);
  if (!d) throw io(`the folder ${dir} does not exist`, `Create it first (mkdir -p ${dir}), or save somewhere else; nothing has been trained yet.`);
  if (!d.isDirectory()) throw io(`${dir} is not a folder`, 'Save into a folder; nothing has been trained yet.');
  if ((await statOf(abs))?.isDirectory()) throw io(`${abs} is a folder`, `Give a file name, e.g. --save ${path.join(file, 'model.pth')}.`);
  try {
    await fsp.access(dir, fsp.constants.W_OK);
  } catch {
    throw io(`the folder ${dir} is not writable`, 'Save into a folder you can write to; nothing has been trained yet.');
  }
}

/** --weights: a readable file. */
async function checkWeightsFile(file: string): Promise<void> {
  const st = await statOf(file);
  if (!st)
    throw new NetloomError('NL_IO', `--weights ${file}: no such file${located(file)}`,
      'Give the path of a checkpoint (.safetensors, .pt or .pth) written by `netloom train --save <file>` (it writes where --save says, relative to the folder netloom ran in), saved from the app or by PyTorch (torch.save(model.state_dict(), path)).');
  if (!st.isFile()) throw new NetloomError('NL_IO', `--weights ${file}: not a file${located(file)}`, 'Give the path of a checkpoint file (.safetensors, .pt or .pth).');
  try {
    await fsp.access(file, fsp.constants.R_OK);
  } catch {
    throw new NetloomError('NL_IO', `--weights ${file}: not readable${located(file)}`, 'Check the file\'s permissions.');
  }
}

/** --csv and --image-folder: the file or folder exists (the CSV's columns are checked as soon as its header is read). */
async function checkDatasetPaths(f: PathFlags): Promise<void> {
  if (f.csv !== undefined) {
    const st = await statOf(f.csv);
    if (!st?.isFile())
      throw new NetloomError('NL_DATASET_MISSING', `--csv ${f.csv}: ${st ? 'not a file' : 'no such file'}${located(f.csv)}`,
        'Give the path of a CSV file: its first line names the columns, --label names the one to predict.');
  }
  if (f.imageFolder !== undefined) {
    const st = await statOf(f.imageFolder);
    if (!st?.isDirectory())
      throw new NetloomError('NL_DATASET_MISSING', `--image-folder ${f.imageFolder}: ${st ? 'not a folder' : 'no such folder'}${located(f.imageFolder)}`,
        "Give a folder with one sub-folder per class holding that class's images: <folder>/<class>/<image>.png or .jpg (torchvision's ImageFolder layout).");
  }
}

/** Everything on the command line that names a file, checked before a dataset is loaded or an epoch runs. */
export async function preflight(f: PathFlags): Promise<void> {
  if (f.save !== undefined) await checkSaveTarget(f.save);
  if (f.weights !== undefined) await checkWeightsFile(f.weights);
  await checkDatasetPaths(f);
}
