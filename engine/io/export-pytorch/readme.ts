/** README.md of the exported folder: what each file is, how to run, resume and bring the weights back into Netloom. */
import { BUILTIN_DATASETS } from '../../contract/datasets.js';
import type { ModelExportInput } from '../model-export.js';
import { dataPy } from './data-py.js';
import type { ModelPyInfo } from './train-py.js';

/** Markdown-safe one-line text (the project name is the user's). */
const md = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/([\\`*_[\]<>#|])/g, '\\$1');

function dataSection(input: ModelExportInput): string[] {
  const ds = input.project.training.dataset;
  if (typeof ds === 'object' && ds.type === 'csv')
    return [
      `The CSV file \`${md(ds.path)}\` (a relative path is taken inside \`--data\`, default \`./data\`): label column \`${md(ds.label)}\`,`,
      'numeric feature columns. train.py holds out the rows Netloom holds out (its seeded, stratified split, ported to Python) and',
      'standardises the features with the training split\'s mean and population std, as Netloom does. Netloom\'s CSV reader',
      'knows more edge cases (other encodings, quoted decimal commas, its messages about missing values); train.py reads plain',
      'UTF-8 CSV with the csv module.',
    ];
  if (typeof ds === 'object' && ds.type === 'image-folder')
    return [
      `The image folder \`${md(ds.path)}\` (a relative path is taken inside \`--data\`) in torchvision's ImageFolder layout,`,
      '`<folder>/<class>/<image>.png|.jpg`. Reading it needs Pillow (`pip install pillow`). Pillow decodes JPEG with libjpeg,',
      'Netloom with its own decoder: JPEG pixels can differ by a few levels; PNG is exact.',
    ];
  const data = dataPy(ds);
  const name = typeof ds === 'string' ? ds : ds.name;
  const title = BUILTIN_DATASETS[name].title;
  const files = name === 'cifar10'
    ? `\`<root>/${title}/raw/cifar-10-batches-bin/*.bin\` (or \`cifar-10-binary.tar.gz\` there: the binary version, as Netloom downloads it)`
    : `\`<root>/${title}/raw/\` (\`train-images-idx3-ubyte\`, \`train-labels-idx1-ubyte\`, \`t10k-images-idx3-ubyte\`, \`t10k-labels-idx1-ubyte\`, each may be gzipped)`;
  return [
    `\`--data\` is ${data.dataHelp}, default \`./data\` (the folder the PyTorch quickstart's \`datasets.FashionMNIST(root="data", download=True)\``,
    `fills). train.py reads ${files}`,
    'with no torchvision, images as `ToTensor()` gives them (pixels / 255). Netloom\'s own data folder works too: point `--data` at the',
    'folder above the dataset\'s folder.',
  ];
}

export function readmeMd(input: ModelExportInput, model: ModelPyInfo): string {
  const name = md(input.project.name);
  return [
    `# ${name} — PyTorch code exported by Netloom`,
    '',
    '| file | what it is |',
    '| --- | --- |',
    `| \`model.py\` | the network: \`${model.className}\`, an \`nn.Module\` whose state-dict keys are the node names in Netloom |`,
    '| `train.py` | the training loop: the project\'s dataset, loss, optimizer, scheduler and settings (the PyTorch quickstart, grown up) |',
    '| `README.md` | this file |',
    '',
    'It needs PyTorch (1.13 or later) and Python 3.8+. `python train.py --help` lists the flags.',
    '',
    '## Run it',
    '',
    'One process (CUDA if available, else the CPU; `--device cpu` to choose):',
    '',
    '    python train.py --data ./data',
    '',
    'One machine, N processes (`DistributedDataParallel`: gloo on the CPU, nccl on GPUs; each process trains on its share',
    'of every epoch, rank 0 tests on the whole test split, prints and saves):',
    '',
    '    torchrun --nproc_per_node=2 train.py --data ./data',
    '',
    'Several machines: run the same command on each, with the node count, this node\'s rank and one rendezvous address:',
    '',
    '    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=4 --master_addr=10.0.0.1 --master_port=29500 train.py --data ./data',
    '    torchrun --nnodes=2 --node_rank=1 --nproc_per_node=4 --master_addr=10.0.0.1 --master_port=29500 train.py --data ./data',
    '',
    '(or `--rdzv_backend=c10d --rdzv_endpoint=10.0.0.1:29500` instead of `--master_addr`/`--master_port`). `--batch-size` is per',
    'process: N processes train on N batches per step.',
    '',
    'torch 1.13 on Python 3.11 (Debian 12\'s python3-torch) has a torchrun bug that stops it with',
    '`AttributeError: \'NoneType\' object has no attribute \'get\'`; add `--redirects 2 --tee 2` to the torchrun command.',
    '',
    'Quick runs: `--epochs 1 --limit-train 2000 --limit-test 500` trains and tests on the first samples only.',
    '',
    '## Data',
    '',
    ...dataSection(input),
    '',
    '## Checkpoints and resuming',
    '',
    'After every epoch train.py writes `checkpoints/epoch_<n>.pt` and `checkpoints/last.pt` (`--checkpoint-dir` to move them),',
    'each written to a temporary name first, so a crash never leaves half a file. A checkpoint is PyTorch\'s usual dict:',
    '`model_state_dict` (the plain model\'s, without DDP\'s `module.` prefix), `optimizer_state_dict`, `scheduler_state_dict`',
    '(when the project has a scheduler), `epoch` (epochs done), `batch` and `step`. Continue a run with:',
    '',
    '    python train.py --data ./data --resume checkpoints/last.pt',
    '',
    'It restores the model, the optimizer and the scheduler and goes on with the next epoch; `--epochs` is the total, so',
    'resume with the `--epochs` the run started with (a scheduler such as OneCycleLR is planned for that many). A',
    'resumable `.pt` Netloom saved ("with optimizer") resumes the same way. Resuming runs pickle: resume only from files you',
    'trust (torch 1.13\'s `weights_only` loader cannot read an optimizer\'s settings).',
    '',
    '## What differs from training in Netloom',
    '',
    'The model, the data, the loss, the optimizer and the schedule are the project\'s. The random numbers are PyTorch\'s:',
    'the initial weights, the shuffled order and the dropout masks come from `torch.manual_seed(--seed)`, not from',
    'Netloom\'s generator, so the losses follow the same course without being equal number for number. To continue from',
    'weights trained in Netloom, save them there as a `.pt` with the optimizer and pass it to `--resume`.',
    '',
    '## Back into Netloom',
    '',
    'The keys of `model_state_dict` are Netloom\'s, so the weights go straight back: in the app, open the project and use',
    '**File › Import Weights…** on `checkpoints/last.pt`; on the command line,',
    '',
    '    netloom eval project.json --weights checkpoints/last.pt',
    '',
    'Netloom also reads the optimizer state, to resume training where train.py stopped. To load weights Netloom saved into',
    'this model in Python:',
    '',
    '    import torch',
    `    from model import ${model.className}`,
    `    model = ${model.className}()`,
    '    model.load_state_dict(torch.load("model.pt", weights_only=True))',
    '',
  ].join('\n');
}
