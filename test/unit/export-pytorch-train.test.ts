/**
 * PyTorch code export, the train.py and README side: the project's settings, dataset reader, loss target,
 * optimizer and scheduler as train.py writes them, and what the README tells. That the code runs and agrees
 * with Netloom is checked against real PyTorch in test/integration/pytorch-export.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { ProjectSchema, parseProjectText, type ProjectDoc } from '../../engine/graph/document.js';
import { exportPytorchCode } from '../../engine/io/export-pytorch.js';

const TEMPLATES = join(process.cwd(), 'assets', 'templates');
const template = (name: string) => parseProjectText(readFileSync(join(TEMPLATES, `${name}.json`), 'utf8'), name);

/** The exported files of `p` with its training section changed by `training`. */
function exported(p: ProjectDoc, training: Record<string, unknown> = {}): Record<string, string> {
  const project = ProjectSchema.parse({ ...p, training: { ...p.training, ...training } });
  const analysis = analyzeForTraining(project.graph, 'test', { batchSize: 2 });
  const program = compileGraph(analysis, { batchSize: 2, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  const state = program.params.map((q) => ({ key: q.key, shape: [...q.shape], kind: q.learnable ? ('param' as const) : ('buffer' as const), dtype: q.dtype }));
  return exportPytorchCode({ project, analysis, state });
}

/** The body of a top-level Python function, without indentation. */
function fn(text: string, name: string): string[] {
  const start = text.indexOf(`\ndef ${name}(`);
  if (start < 0) throw new Error(`train.py has no ${name}()`);
  const rest = text.slice(start + 1).split('\n');
  const end = rest.findIndex((l, i) => i > 0 && l !== '' && !l.startsWith(' '));
  return rest.slice(1, end < 0 ? undefined : end).map((l) => l.trim()).filter(Boolean);
}

describe('train.py: the project\'s settings', () => {
  it('the quickstart: its settings as constants, the flags torchrun passes through, FashionMNIST from torchvision\'s layout', () => {
    const train = exported(template('quickstart'))['train.py'];
    for (const line of ['EPOCHS = 5', 'BATCH_SIZE = 64', 'LEARNING_RATE = 0.001', 'SHUFFLE = False', 'DROP_LAST = False', 'SEED = 0', 'DATASET_TITLE = "FashionMNIST"'])
      expect(train).toContain(`\n${line}`);
    expect(train).toContain('\nCLIP_GRAD_NORM = None');
    expect(train).toContain('from model import PyTorchQuickstartModel as Model\n');
    for (const flag of ['--data', '--epochs', '--batch-size', '--lr', '--limit-train', '--limit-test', '--checkpoint-dir', '--resume', '--device', '--seed'])
      expect(train).toContain(`parser.add_argument("${flag}"`);
    expect(fn(train, 'make_optimizer')).toEqual(['return torch.optim.SGD(params, lr=lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)']);
    expect(fn(train, 'make_criterion')).toEqual(['return nn.CrossEntropyLoss()']);
    expect(fn(train, 'make_scheduler')).toEqual(['return None  # the project has no scheduler: the learning rate stays constant']);
    expect(fn(train, 'model_parameters')).toEqual(['return model.parameters()']);
    // the quickstart's output lines
    expect(train).toContain('print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")');
    expect(train).toContain('print(f"Test Error: \\n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \\n")');
    expect(train).toContain('print("Done!")');
  });

  it('clip_grad_norm, AdamW with every parameter (its own weight_decay default), a scheduler stepped every epoch', () => {
    const train = exported(template('quickstart'), {
      clip_grad_norm: 1, optimizer: { type: 'AdamW', lr: 0.01, betas: [0.8, 0.9] }, scheduler: { type: 'StepLR', step_size: 2 }, shuffle: true, drop_last: true,
    })['train.py'];
    expect(train).toContain('\nCLIP_GRAD_NORM = 1.0  #');
    expect(train).toContain('\nSHUFFLE = True\nDROP_LAST = True\n');
    expect(fn(train, 'make_optimizer')).toEqual(['return torch.optim.AdamW(params, lr=lr, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.01, amsgrad=False, maximize=False)']);
    expect(train).toContain('# scheduler.step() runs after every epoch\nSCHEDULER_INTERVAL = "epoch"');
    expect(fn(train, 'make_scheduler')).toEqual(['steps = epochs  # scheduler steps in the whole run', 'return torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)']);
  });

  it('OneCycleLR\'s total_steps "auto" is the run\'s optimizer steps; a SequentialLR child spans its part', () => {
    const lenet = exported(template('lenet5'))['train.py'];
    expect(lenet).toContain('SCHEDULER_INTERVAL = "step"');
    expect(fn(lenet, 'make_scheduler')[0]).toBe('steps = epochs * steps_per_epoch  # scheduler steps in the whole run');
    expect(fn(lenet, 'make_scheduler')[1]).toMatch(/^return torch\.optim\.lr_scheduler\.OneCycleLR\(optimizer, max_lr=0\.005, total_steps=steps, pct_start=0\.3, anneal_strategy="cos", /);
    const seq = exported(template('lenet5'), {
      scheduler: { type: 'SequentialLR', interval: 'step', milestones: [10], schedulers: [{ type: 'LinearLR', total_iters: 10 }, { type: 'OneCycleLR', max_lr: 0.1, total_steps: 'auto' }] },
    })['train.py'];
    expect(fn(seq, 'make_scheduler')).toEqual([
      'steps = epochs * steps_per_epoch  # scheduler steps in the whole run',
      'schedulers = [',
      'torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.3333333333333333, end_factor=1.0, total_iters=10),',
      'torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=max(steps - 10, 1), pct_start=0.3, anneal_strategy="cos", div_factor=25.0, final_div_factor=10000.0, three_phase=False, cycle_momentum=True, base_momentum=0.85, max_momentum=0.95),',
      ']',
      'return torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers=schedulers, milestones=[10])',
    ]);
  });

  it('the loss compares with what Netloom compares: labels, the graph\'s target, or one-hot labels', () => {
    expect(fn(exported(template('quickstart'))['train.py'], 'compute_loss').slice(1)).toEqual(['pred = model(X)', 'return criterion(pred, y), pred']);
    const auto = exported(template('autoencoder'))['train.py'];
    expect(fn(auto, 'compute_loss').slice(1)).toEqual(['pred, target = model(X)  # the model computes the target too: flatten\'s output', 'return criterion(pred, target), pred']);
    expect(auto).toContain('CLASSIFICATION = False  # MSELoss has no classes: test() reports the loss only');
    const p = template('quickstart');
    p.graph.nodes = p.graph.nodes.map((n) => (n.type === 'CrossEntropyLoss' ? { ...n, type: 'MSELoss', params: {} } : n));
    expect(fn(exported(p)['train.py'], 'compute_loss').slice(1)).toEqual([
      'pred = model(X)', '# no target connected: the class labels one-hot encoded, as Netloom does', 'return criterion(pred, nn.functional.one_hot(y, pred.shape[1]).float()), pred',
    ]);
  });

  it('datasets: MNIST and CIFAR10 without torchvision, a CSV with its options, an image folder', () => {
    const mnist = exported(template('lenet5'))['train.py'];
    expect(mnist).toContain('DATASET_TITLE = "MNIST"');
    expect(mnist).toContain('def read_idx(path):');
    const cifar = exported(template('quickstart'), { dataset: 'cifar10' });
    expect(cifar['train.py']).toContain('DATASET_TITLE = "CIFAR10"');
    expect(cifar['train.py']).toContain('tar.extractfile(f"cifar-10-batches-bin/{n}")');
    expect(cifar['train.py']).not.toContain('pickle');
    const iris = exported(template('iris-mlp'))['train.py'];
    expect(iris).toContain('CSV_PATH = "../samples/iris.csv"\nCSV_LABEL = "species"\nCSV_FEATURES = None  # every column but the label\nCSV_TASK = "classification"\nCSV_STANDARDIZE = True');
    expect(iris).toContain('def netloom_split(count, fraction, labels=None, seed=0):');
    const regression = exported(template('iris-mlp'), {
      dataset: { type: 'csv', path: 'data/houses.csv', label: 'price', features: ['area', 'rooms'], task: 'regression', standardize: false, delimiter: ';' },
    });
    expect(regression['train.py']).toContain('CSV_FEATURES = ["area", "rooms"]\nCSV_TASK = "regression"\nCSV_STANDARDIZE = False');
    expect(regression['train.py']).toContain('CSV_DELIMITER = ";"');
    const images = exported(template('quickstart'), { dataset: { type: 'image-folder', path: 'photos', size: [28, 28], mode: 'grey' } })['train.py'];
    expect(images).toContain('IMAGE_FOLDER = "photos"\nIMAGE_MODE = "grey"\nIMAGE_SIZE = (28, 28)  # (height, width)');
    expect(images).toContain('from PIL import Image');
  });

  it('a dataset path or label from the project stays a string literal', () => {
    const evil = 'x"); import os; os.system("rm -rf /"); ("';
    const train = exported(template('iris-mlp'), { dataset: { type: 'csv', path: evil, label: 'a\nb' } })['train.py'];
    expect(train).toContain('CSV_PATH = "x\\"); import os; os.system(\\"rm -rf /\\"); (\\""');
    expect(train).toContain('CSV_LABEL = "a\\nb"');
    expect(train).not.toMatch(/^import os;/m);
  });
});

describe('README.md', () => {
  it('says what each file is, how to run it on one and on several machines, resume, and load it into Netloom', () => {
    const readme = exported(template('quickstart'))['README.md'];
    expect(readme).toMatch(/^# PyTorch quickstart \(FashionMNIST MLP\) — PyTorch code exported by Netloom/);
    for (const text of [
      '| `model.py` |', '| `train.py` |', 'python train.py --data ./data', 'torchrun --nproc_per_node=2 train.py --data ./data',
      'torchrun --nnodes=2 --node_rank=0', '--master_addr=', '--rdzv_endpoint=', 'python train.py --data ./data --resume checkpoints/last.pt',
      '**File › Import Weights…**', 'netloom eval project.json --weights checkpoints/last.pt', 'from model import PyTorchQuickstartModel',
      'model.load_state_dict(torch.load("model.pt", weights_only=True))', '<root>/FashionMNIST/raw/',
    ])
      expect(readme, text).toContain(text);
    expect(exported(template('iris-mlp'))['README.md']).toContain('The CSV file `../samples/iris.csv`');
  });
});
