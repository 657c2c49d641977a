/**
 * The template projects of "New from template" (assets/templates/<id>.json): the list with a line of
 * description each, and one template as a new project whose data paths still point beside it.
 */
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { CATALOG } from '../graph/catalog.js';
import type { ProjectDoc } from '../graph/document.js';
import { flattenGroups } from '../graph/groups.js';
import * as projectIo from '../io/project.js';
import { withAbsoluteDataPaths } from '../train/job-dataset.js';
import type { TemplateDto } from '../contract/api.js';

const TEMPLATE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** One line per template for the "New from template" dialog; unknown ones get a generated line. */
const TEMPLATE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  quickstart: "The PyTorch quickstart's network: a 784-512-512-10 MLP with ReLU, trained with SGD.",
  'fashion-cnn': 'Two convolution blocks (Conv2d, BatchNorm2d, ReLU, MaxPool2d) and an MLP head with dropout.',
  lenet5: "LeCun's LeNet-5: two convolutions with pooling, then three Linear layers, with a one-cycle schedule.",
  resnet8: 'A small residual network: three stages of residual blocks with BatchNorm and global average pooling.',
  autoencoder: 'Compresses each image to 32 numbers and reconstructs it; MSELoss against the input, trained with Adam.',
  'iris-mlp': "Fisher's Iris flowers from a CSV file: 4 measurements in, 3 species out, through one hidden layer of 16.",
};
/** Shown first, in this order; the rest follow by name. */
const TEMPLATE_ORDER = ['quickstart', 'fashion-cnn', 'lenet5', 'resnet8', 'autoencoder', 'iris-mlp'];

/** The templates in `dir`, the known ones first in TEMPLATE_ORDER; a broken one is logged and left out. */
export async function listTemplates(dir: string): Promise<TemplateDto[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch (e) {
    throw new NetloomError('NL_IO', `cannot list the templates in ${dir}: ${(e as Error).message}`, 'Reinstall Netloom: its assets folder is missing.', { cause: e });
  }
  const out: TemplateDto[] = [];
  for (const file of names) {
    const id = file.slice(0, -'.json'.length);
    try {
      const p = projectIo.parseProjectFileText(await fsp.readFile(path.join(dir, file), 'utf8'), path.join(dir, file));
      const layers = flattenGroups(p.graph).graph.nodes.filter((n) => n.type !== 'Input' && !CATALOG.get(n.type)?.isLoss).length;
      const description = TEMPLATE_DESCRIPTIONS[id] ?? `${layers} layers, trained on ${typeof p.training.dataset === 'string' ? p.training.dataset : p.training.dataset.type === 'csv' ? 'a CSV file' : 'an image folder'} with ${p.training.optimizer.type}.`;
      out.push({ id, name: p.name, dataset: typeof p.training.dataset === 'string' ? p.training.dataset : p.training.dataset.type, description });
    } catch (e) {
      // A broken template must not hide the others; it is a packaging bug, so log it.
      process.stderr.write(`netloom: skipped template ${file}: ${(e as Error).message}\n`);
    }
  }
  const rank = (id: string) => (TEMPLATE_ORDER.includes(id) ? TEMPLATE_ORDER.indexOf(id) : TEMPLATE_ORDER.length);
  return out.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
}

/** The template `id` of `dir` as a new, unsaved project. */
export async function readTemplate(dir: string, id: string): Promise<ProjectDoc> {
  const file = path.join(dir, `${id}.json`);
  if (!TEMPLATE_ID_RE.test(id) || !existsSync(file)) {
    const known = (await listTemplates(dir)).map((t) => t.id);
    throw new NetloomError('NL_INVALID_ARGUMENT', `there is no template "${id}"`, `Known templates: ${known.join(', ')}.`);
  }
  // A template's data (assets/samples/...) is named relative to the template; the new project has no
  // file of its own yet, so its paths are made absolute here to keep pointing at that data.
  return withAbsoluteDataPaths(projectIo.parseProjectFileText(await fsp.readFile(file, 'utf8'), file), file);
}
