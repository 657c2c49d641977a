/**
 * PyTorch code export: the project as a folder a PyTorch user runs as it is.
 *
 *   model.py    the network, an nn.Module whose state-dict keys are Netloom's node names
 *   train.py    the PyTorch quickstart grown up: the project's data, loss, optimizer, scheduler and
 *               settings, one process or torchrun/DDP, resumable checkpoints in the layout Netloom reads
 *   README.md   how to run it, resume it, and bring the weights back into Netloom
 *
 * The parts live in export-pytorch/ (naming, one emitter per layer family, forward, train.py, README).
 */
import { NetloomError } from '../errors.js';
import type { ModelExportInput } from './model-export.js';
import { layerCode } from './export-pytorch/layers.js';
import { modelPy, moduleKeys } from './export-pytorch/model-py.js';
import { readmeMd } from './export-pytorch/readme.js';
import { trainPy } from './export-pytorch/train-py.js';

/** model.py, train.py and README.md for the project: relative file name -> content. */
export function exportPytorchCode(input: ModelExportInput): Record<string, string> {
  const a = input.analysis;
  if (a.issues.length || a.inputId === undefined || a.lossId === undefined)
    throw new NetloomError('NL_BAD_GRAPH', `${input.project.name}: the network has ${a.issues.length || 'structural'} problem(s) and cannot be exported as PyTorch code${a.issues[0] ? `: ${a.issues[0].message}` : ''}`,
      'Fix the problems shown on the canvas (every node between one Input and one loss), then export again.');
  // nn.Module.train()/eval() assign self.training on every module: a child of that name makes them fail
  const training = a.order.find((n) => !n.spec.isLoss && layerCode(n).kind === 'module' && n.doc.name.split('.').includes('training'));
  if (training)
    throw new NetloomError('NL_UNSUPPORTED', `node ${training.doc.name}: PyTorch cannot hold a module named "training" (nn.Module keeps its train/eval flag under that name, and model.train() would fail)`,
      'Rename the node (for example to "training_layer") and export again; its state-dict keys follow the new name.');
  // The generated module must hold exactly the state dict Netloom has, or load_state_dict(strict=True) fails later, far from here.
  const ours = input.state.map((e) => e.key).sort().join('\n');
  const theirs = moduleKeys(input).sort().join('\n');
  if (ours !== theirs)
    throw new NetloomError('NL_INTERNAL', `${input.project.name}: the generated model.py would not have the state-dict keys of the model (${input.state.length} tensors)`,
      'This is a bug in Netloom\'s PyTorch export: please report it with the project file.');
  const model = modelPy(input);
  return {
    'model.py': model.text,
    'train.py': trainPy(input, model),
    'README.md': readmeMd(input, model),
  };
}
