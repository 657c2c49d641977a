/**
 * The `netloom` command line end to end: real processes, real files, real datasets.
 * Every bad input ends with one clear message, exit code 1, and no file damaged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinRoot, ensureBuiltin } from '../../engine/data/builtin.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-cli-'));

function netloom(...args: string[]) {
  return netloomIn(process.cwd(), ...args);
}

/** netloom run from another working directory (relative paths are relative to it). */
function netloomIn(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function project(mutate: (p: any) => void): string {
  const p = JSON.parse(readFileSync(QUICKSTART, 'utf8'));
  mutate(p);
  const file = join(tmp, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(p));
  return file;
}

/** `s` as a literal inside a RegExp. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The engine's message for a diverged run: a NaN/inf loss or gradients, or a step refused because it would overflow. */
const DIVERGED = /(the (loss|gradients) became|the (weights|optimizer state) would become) (NaN|infinite)/;

/** One user error: exit code 1, `error [NL_CODE]: message` (the code the README's troubleshooting lists), no stack. */
function expectUserError(r: ReturnType<typeof netloom>, pattern: RegExp, code?: string) {
  expect(r.code, r.err).toBe(1);
  expect(r.err).toMatch(/^\s*error \[NL_[A-Z_]+\]: /);
  if (code) expect(r.err).toMatch(new RegExp(`^\\s*error \\[${code}\\]: `));
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
}

beforeAll(async () => {
  expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  await ensureBuiltin('mnist');
  await ensureBuiltin('fashion-mnist');
});

describe('the installed command', () => {
  it('`npx netloom` runs the built file as a program (package.json bin: executable, with a node shebang)', () => {
    // npm links the bin before `prepare` builds it, so the build itself must make it executable
    const r = spawnSync(CLI, ['--help'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('train');
  });
});

describe('netloom train: learning', () => {
  it('trains MNIST with Adam to a useful accuracy, saves, and eval reproduces the test line exactly', () => {
    const weights = join(tmp, 'mnist.safetensors');
    const r = netloom('train', QUICKSTART, '--dataset', 'mnist', '--optimizer', 'adam', '--lr', '1e-3', '--epochs', '1', '--limit-train', '12000', '--save', weights);
    expect(r.code, r.err).toBe(0);
    const line = r.out.match(/Test Error: Accuracy: ([\d.]+)%, Avg loss: [\d.]+/);
    expect(line, r.out).not.toBeNull();
    expect(Number(line![1])).toBeGreaterThan(90);
    const e = netloom('eval', QUICKSTART, '--dataset', 'mnist', '--weights', weights);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toContain(line![0]);
  });

  it('BatchNorm running statistics and num_batches_tracked survive save -> eval (eval mode, dropout off)', () => {
    const weights = join(tmp, 'cnn.safetensors');
    const cnn = join(process.cwd(), 'assets', 'templates', 'fashion-cnn.json');
    const r = netloom('train', cnn, '--epochs', '1', '--limit-train', '1024', '--limit-test', '512', '--save', weights);
    expect(r.code, r.err).toBe(0);
    const line = r.out.match(/Test Error: .*/)![0];
    const e = netloom('eval', cnn, '--weights', weights, '--limit-test', '512');
    expect(e.code, e.err).toBe(0);
    expect(e.out).toContain(line);
    const bytes = readFileSync(weights);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
    expect(header['bn1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    expect(header['bn1.running_var']).toMatchObject({ dtype: 'F32', shape: [32] });
  });

  it('prints one tutorial-style line per epoch', () => {
    const r = netloom('train', QUICKSTART, '--epochs', '2', '--limit-train', '2048', '--limit-test', '512');
    expect(r.code, r.err).toBe(0);
    expect(r.out.match(/^Epoch \d\n-+$/gm)).toHaveLength(2);
    expect(r.out.match(/^Test Error: Accuracy: \d+\.\d%, Avg loss: \d+\.\d{6}$/gm)).toHaveLength(2);
  });
});

describe('every template trains', () => {
  for (const t of ['quickstart', 'lenet5', 'fashion-cnn', 'resnet8', 'autoencoder'])
    it(t, () => {
      const r = netloom('train', join(process.cwd(), 'assets', 'templates', `${t}.json`), '--epochs', '1', '--limit-train', '512', '--limit-test', '256');
      expect(r.code, r.err).toBe(0);
      // classification templates report accuracy; the autoencoder (MSE) only its loss
      expect(r.out).toMatch(t === 'autoencoder' ? /^Test Error: Avg loss: \d+\.\d{6}$/m : /^Test Error: Accuracy: \d+\.\d%, Avg loss: \d+\.\d{6}$/m);
    });
});

describe('netloom train: bad projects', () => {
  it('a file that is not JSON', () => {
    const f = join(tmp, 'broken.json');
    writeFileSync(f, '{"format": "netloom-project", ');
    expectUserError(netloom('train', f), /broken\.json is not valid JSON/);
  });
  it('a missing file', () => {
    // the app's wording: the CLI reads projects with the app's reader (openProjectFile)
    expectUserError(netloom('train', join(tmp, 'nope.json')), /Could not open .*nope\.json: no such file or folder/, 'NL_IO');
  });
  it('an unknown layer type', () => {
    expectUserError(netloom('train', project((p) => (p.graph.nodes[3].type = 'Swish'))), /unknown layer type "Swish"[\s\S]*Known layer types/);
  });
  it('a cycle', () => {
    expectUserError(netloom('train', project((p) => p.graph.edges.push({ source: 'relu2', target: 'fc2' }))), /cycle/);
  });
  it('an edge to a node that does not exist', () => {
    expectUserError(netloom('train', project((p) => (p.graph.edges[3].target = 'fc9'))), /there is no node "fc9"/);
  });
  it('a negative size', () => {
    expectUserError(netloom('train', project((p) => (p.graph.nodes[4].params.out_features = -3))), /linear_relu_stack\.2: out_features/);
  });
  it('--batch-size 0 and other bad flags', () => {
    expectUserError(netloom('train', QUICKSTART, '--batch-size', '0'), /--batch-size: Batch size \(batch_size\) must be a whole number from 1 to 1,048,576 \(got 0\)/);
    const r = netloom('train', QUICKSTART, '--epochs', 'many');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--epochs takes a number/);
  });
  it('--lr 1e308 names the learning rate and its range, not a native instruction (issue 10, item 9)', () => {
    const r = netloom('train', QUICKSTART, '--lr', '1e308', '--epochs', '1', '--limit-train', '64', '--limit-test', '64');
    expectUserError(r, /--lr: Learning rate \(lr\) must be a positive number no larger than 100 \(got 1e308\)/, 'NL_INVALID_ARGUMENT');
    expect(r.err).not.toMatch(/instruction|hyper-parameter|bug in Netloom/);
    expect(r.out).not.toMatch(/Epoch 1/);
  });
  it('--epochs, --seed and --threads beyond their ranges are refused before anything loads', () => {
    expectUserError(netloom('train', QUICKSTART, '--epochs', '1e308'), /--epochs: epochs must be a whole number from 1 to 100,000 \(got 1e308\)/);
    expectUserError(netloom('train', QUICKSTART, '--seed', '1e300'), /--seed: Random seed \(seed\) must be a whole number from 0 to 9,007,199,254,740,991 \(got 1e300\)/);
    expectUserError(netloom('train', QUICKSTART, '--threads', '100000'), /--threads: CPU threads \(threads\) must be a whole number from 1 to 1024 \(got 100000\)/);
  });
  it('a scheduler with milestones out of order', () => {
    const r = netloom('train', project((p) => (p.training.scheduler = { type: 'MultiStepLR', milestones: [5, 3] })), '--epochs', '1');
    expectUserError(r, /training\.scheduler\.milestones: milestones must be strictly increasing, but 3 follows 5.*\[3, 5\]/);
  });
  it('an Input shape that does not fit the dataset is reported before anything is downloaded', () => {
    const empty = join(tmp, 'no-download');
    mkdirSync(empty, { recursive: true });
    expectUserError(netloom('train', QUICKSTART, '--dataset', 'cifar10', '--download', '--data', empty), /does not match CIFAR10 samples \[3, 32, 32\]/);
    expect(readdirSync(empty)).toEqual([]);
  });
  it('a model whose output does not match the dataset', () => {
    expectUserError(netloom('train', project((p) => (p.graph.nodes[6].params.out_features = 5))), /scores 5 classes but FashionMNIST has 10/);
  });
});

describe('netloom train: bad datasets', () => {
  it('a folder without the dataset names what it looked for', () => {
    const empty = join(tmp, 'empty-data');
    mkdirSync(empty, { recursive: true });
    expectUserError(netloom('train', QUICKSTART, '--data', empty), /FashionMNIST/);
  });
  it('a truncated image file', () => {
    const root = join(tmp, 'trunc-data');
    const raw = join(root, 'FashionMNIST', 'raw');
    mkdirSync(raw, { recursive: true });
    const src = join(builtinRoot(), 'FashionMNIST', 'raw');
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(src, f), join(raw, f));
    const images = readFileSync(join(src, 'train-images-idx3-ubyte'));
    writeFileSync(join(raw, 'train-images-idx3-ubyte'), images.subarray(0, 1_000_000));
    expectUserError(netloom('train', QUICKSTART, '--data', root), /train-images-idx3-ubyte/);
  });
});

describe('netloom eval: bad checkpoints', () => {
  const header = (obj: unknown, extra = 0) => {
    const json = Buffer.from(JSON.stringify(obj));
    const b = Buffer.alloc(8 + json.length + extra);
    b.writeBigUInt64LE(BigInt(json.length), 0);
    json.copy(b, 8);
    return b;
  };
  const file = (name: string, bytes: Uint8Array) => {
    const f = join(tmp, name);
    writeFileSync(f, bytes);
    return f;
  };
  it('a truncated file', () => {
    const ok = header({ 'linear_relu_stack.0.weight': { dtype: 'F32', shape: [512, 784], data_offsets: [0, 512 * 784 * 4] } }, 100);
    expectUserError(netloom('eval', QUICKSTART, '--weights', file('trunc.safetensors', ok)), /trunc\.safetensors/);
  });
  it('a header length past the end of the file', () => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(1_000_000n, 0);
    expectUserError(netloom('eval', QUICKSTART, '--weights', file('hdr.safetensors', b)), /hdr\.safetensors/);
  });
  it('a dtype we do not support', () => {
    const b = header({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8);
    expectUserError(netloom('eval', QUICKSTART, '--weights', file('c64.safetensors', b)), /C64/);
  });
  it('keys from another network, all listed at once', () => {
    const b = header({ 'fc.weight': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4);
    const r = netloom('eval', QUICKSTART, '--weights', file('other.safetensors', b));
    expectUserError(r, /Missing key\(s\) in state_dict: "linear_relu_stack\.0\.weight"/);
    expect(r.err).toMatch(/Unexpected key\(s\) in state_dict: "fc\.weight"/);
  });
});

describe('weights that hold NaN or infinity (issue 10, item 9)', () => {
  /** The quickstart's state dict with `bad` values of linear_relu_stack.0.weight replaced. */
  async function weightsWith(name: string, bad: number[]): Promise<string> {
    const { saveSafetensors } = await import('../../engine/io/safetensors.js');
    const shapes: Record<string, number[]> = {
      'linear_relu_stack.0.weight': [512, 784], 'linear_relu_stack.0.bias': [512],
      'linear_relu_stack.2.weight': [512, 512], 'linear_relu_stack.2.bias': [512],
      'linear_relu_stack.4.weight': [10, 512], 'linear_relu_stack.4.bias': [10],
    };
    const tensors = Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) }]));
    bad.forEach((v, i) => (tensors['linear_relu_stack.0.weight'].data[i * 1000] = v));
    const file = join(tmp, name);
    await saveSafetensors(file, tensors);
    return file;
  }

  it('finite weights too large to evaluate: eval names the tensor with the largest, not the learning rate', async () => {
    const file = await weightsWith('huge.safetensors', Array.from({ length: 400 }, () => 3e38));
    const r = netloom('eval', QUICKSTART, '--weights', file, '--limit-test', '64');
    expectUserError(r, /give a non-finite loss on the test split .*: they are finite, but as large as 3e38 \(in 'linear_relu_stack\.0\.weight'\)/, 'NL_NON_FINITE');
    expect(r.err).not.toMatch(/Lower the learning rate \(try|weights from before the failing batch/);
  });

  it('eval names the tensor and counts its NaN and infinite values, instead of blaming the learning rate', async () => {
    const file = await weightsWith('nan.safetensors', [NaN, NaN, NaN, Infinity, -Infinity]);
    const r = netloom('eval', QUICKSTART, '--weights', file, '--limit-test', '64');
    expectUserError(r, /the tensor 'linear_relu_stack\.0\.weight' holds 3 NaN values and 2 infinite values \(of 401,408\)/, 'NL_BAD_CHECKPOINT');
    expect(r.err).not.toMatch(/loss became|Lower the learning rate/);
    // train --weights starts from them no more than eval does
    expectUserError(netloom('train', QUICKSTART, '--weights', file, '--epochs', '1', '--limit-train', '64'), /holds 3 NaN values/, 'NL_BAD_CHECKPOINT');
  });
});

describe('nothing is overwritten by a failed run', () => {
  it('a diverging run stops with a clear message and leaves --save untouched', () => {
    const target = join(tmp, 'keep.safetensors');
    writeFileSync(target, 'precious');
    const r = netloom('train', QUICKSTART, '--lr', '100', '--optimizer', 'sgd', '--epochs', '1', '--limit-train', '4096', '--save', target);
    expectUserError(r, DIVERGED);
    expect(readFileSync(target, 'utf8')).toBe('precious');
  });
});

describe('netloom train --image-folder', () => {
  const root = join(tmp, 'halves');
  beforeAll(async () => {
    const { PNG } = (await import('pngjs')).default;
    for (const [cls, top] of [['top', true], ['bottom', false]] as const) {
      mkdirSync(join(root, cls), { recursive: true });
      for (let i = 0; i < 30; i++) {
        const img = new PNG({ width: 12, height: 12 });
        for (let p = 0; p < 144; p++) {
          const v = (p < 72) === top ? 200 + ((p * 7 + i * 13) % 50) : (p * 11 + i * 5) % 50;
          img.data.set([v, v, v, 255], p * 4);
        }
        writeFileSync(join(root, cls, `${i}.png`), PNG.sync.write(img));
      }
    }
  });

  it('trains on a folder of images, resized with --image-size, testing on the held-out 10%', () => {
    const file = project((p) => {
      p.graph.nodes.find((n: any) => n.type === 'Input').params.shape = [1, 8, 8];
      p.graph.nodes.find((n: any) => n.id === 'fc3').params.out_features = 2;
      p.training.shuffle = true;
    });
    const r = netloom('train', file, '--image-folder', root, '--image-size', '8x8', '--epochs', '6', '--batch-size', '8', '--lr', '0.1', '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('halves: 54 training / 6 test samples');
    expect(r.out).toMatch(/Accuracy: 100\.0%/);
  });

  it('--rgb without --image-folder, and a bad --image-size, are user errors', () => {
    expectUserError(netloom('train', QUICKSTART, '--rgb'), /--image-size and --rgb apply to --image-folder only/);
    const r = netloom('train', QUICKSTART, '--image-folder', root, '--image-size', '8by8');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--image-size takes HEIGHTxWIDTH/);
  });
});

describe('the first hour (issue 14)', () => {
  describe('results have somewhere to go before training starts', () => {
    it('--save into a folder that does not exist is refused before the first epoch, naming the folder', () => {
      const target = join(tmp, 'no-such-folder', 'model.safetensors');
      const r = netloom('train', QUICKSTART, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--save', target);
      expectUserError(r, /--save .*no-such-folder.*model\.safetensors: the folder .*no-such-folder does not exist/, 'NL_IO');
      expect(r.err).toMatch(/hint: .*mkdir -p .*no-such-folder/);
      expect(r.out).not.toMatch(/Epoch 1/);
    });
    it('--save naming a folder is refused before the first epoch', () => {
      const dir = join(tmp, 'a-folder');
      mkdirSync(dir, { recursive: true });
      const r = netloom('train', QUICKSTART, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--save', dir);
      expectUserError(r, /--save .*a-folder is a folder/, 'NL_IO');
      expect(r.out).not.toMatch(/Epoch 1/);
    });
    it('a relative --save is relative to the current directory, and the error says which one', () => {
      const cwd = mkdtempSync(join(tmp, 'cwd-'));
      const r = netloomIn(cwd, 'train', QUICKSTART, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--save', 'runs/model.safetensors');
      expectUserError(r, /the folder .*runs does not exist/, 'NL_IO');
      expect(r.err).toContain(`current directory, ${cwd}`);
      const ok = netloomIn(cwd, 'train', QUICKSTART, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--save', 'model.safetensors');
      expect(ok.code, ok.err).toBe(0);
      expect(existsSync(join(cwd, 'model.safetensors'))).toBe(true);
    });
    it('a --weights file that is not there is reported before the dataset is read, relative to the current directory', () => {
      const cwd = mkdtempSync(join(tmp, 'cwd-'));
      const empty = join(tmp, 'empty-for-weights');
      mkdirSync(empty, { recursive: true });
      for (const cmd of ['train', 'eval']) {
        // the dataset folder is empty too: the weights, which need no loading, are checked first
        const r = netloomIn(cwd, cmd, QUICKSTART, '--data', empty, '--weights', 'model.safetensors');
        expectUserError(r, /--weights model\.safetensors: no such file/, 'NL_IO');
        expect(r.err).toContain(join(cwd, 'model.safetensors'));
        expect(r.err).toContain(`current directory, ${cwd}`);
        expect(r.err).not.toMatch(/next to the project/);
      }
    });
    it('a --csv or --image-folder path that is not there names the path it looked at, relative to the current directory', () => {
      const cwd = mkdtempSync(join(tmp, 'cwd-'));
      const iris = join(process.cwd(), 'assets', 'templates', 'iris-mlp.json');
      const csv = netloomIn(cwd, 'train', iris, '--csv', 'houses.csv', '--label', 'price');
      expectUserError(csv, /--csv houses\.csv: no such file/, 'NL_DATASET_MISSING');
      expect(csv.err).toContain(`${join(cwd, 'houses.csv')} (a relative path is taken from the current directory, ${cwd})`);
      expect(csv.err).not.toMatch(/choose the file again/);
      const images = netloomIn(cwd, 'train', QUICKSTART, '--image-folder', 'photos');
      expectUserError(images, /--image-folder photos: no such folder/, 'NL_DATASET_MISSING');
      expect(images.err).toContain(join(cwd, 'photos'));
    });
    it('a CSV column that is not in the file is reported before training, with the columns it has', () => {
      const iris = join(process.cwd(), 'assets', 'templates', 'iris-mlp.json');
      const file = join(process.cwd(), 'assets', 'samples', 'iris.csv');
      const r = netloom('train', iris, '--csv', file, '--label', 'species', '--features', 'sepal_length,petal_lenght', '--save', join(tmp, 'iris.safetensors'));
      expectUserError(r, /no feature column "petal_lenght"; its columns are "sepal_length", "sepal_width", "petal_length", "petal_width", "species"/);
      expect(r.out).not.toMatch(/Epoch 1/);
    });
  });

  describe('hints that are true', () => {
    it('after a NaN stop in the first epoch with --save, the hint says nothing was saved, and why (not that weights are kept)', () => {
      const target = join(tmp, 'nan-run.safetensors');
      const r = netloom('train', QUICKSTART, '--lr', '100', '--optimizer', 'sgd', '--epochs', '1', '--limit-train', '4096', '--save', target);
      expectUserError(r, new RegExp(`epoch 1: ${DIVERGED.source}`), 'NL_NON_FINITE');
      expect(r.err).toMatch(new RegExp(`Nothing was saved: no epoch finished before (the (loss|gradients) became (NaN|infinite)|training diverged), so there are no good weights to save; ${esc(target)} was not written`));
      expect(r.err).not.toMatch(/weights .* are kept/);
      expect(existsSync(target)).toBe(false);
    });

    it('after a NaN stop in a later epoch, --save saves the best epoch\'s weights and says which (issue 10, item 9)', () => {
      const target = join(tmp, 'nan-later.safetensors');
      // epoch 1 trains at lr 0.05; the scheduler then multiplies it by 2000 (lr 100): epoch 2 diverges
      const file = project((p) => (p.training.scheduler = { type: 'StepLR', step_size: 1, gamma: 2000 }));
      const r = netloom('train', file, '--lr', '0.05', '--epochs', '3', '--limit-train', '4096', '--limit-test', '512', '--save', target);
      expectUserError(r, new RegExp(`epoch 2: ${DIVERGED.source} at batch \\d+ of 64`), 'NL_NON_FINITE');
      const epoch1 = r.out.match(/Test Error: Accuracy: [\d.]+%, Avg loss: ([\d.]+)/);
      expect(epoch1, r.out).not.toBeNull();
      expect(r.out).toContain(`Saved the weights of epoch 1 (the best epoch: test loss ${epoch1![1]}) to ${target}`);
      expect(r.err).toMatch(new RegExp(`The weights of epoch 1 were saved to ${esc(target)}`));
      // they are epoch 1's: evaluating them reproduces epoch 1's test line exactly
      const e = netloom('eval', file, '--weights', target, '--limit-test', '512');
      expect(e.code, e.err).toBe(0);
      expect(e.out).toContain(epoch1![0]);
    });

    it('a second Ctrl-C quits at once and says that nothing was saved', async () => {
      const target = join(tmp, 'interrupted.safetensors');
      const resnet = join(process.cwd(), 'assets', 'templates', 'resnet8.json');
      // resnet8's test pass over 10,000 images lasts seconds: the second Ctrl-C lands while it runs
      const child = spawn(process.execPath, [CLI, 'train', resnet, '--epochs', '1', '--limit-train', '4096', '--save', target], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let sent = 0;
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => {
        out += d;
        if (sent === 0 && out.includes('Epoch 1')) {
          sent = 1;
          child.kill('SIGINT');
        } else if (sent === 1 && out.includes('Stopping after the current batch')) {
          sent = 2;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(sent, out + err).toBe(2);
      expect(code, out + err).toBe(130);
      expect(out).toMatch(/--save still saves; Ctrl-C again to quit now without saving/);
      expect(err).toMatch(new RegExp(`Quit at once: no test pass, nothing saved \\(${esc(target)} was not written\\)`));
      expect(existsSync(target)).toBe(false);
    });
  });

  describe('errors that do not drown in help', () => {
    it('a mistyped flag gets the suggestion and one line pointing at --help, not the whole help', () => {
      const r = netloom('train', QUICKSTART, '--epoch', '1');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/unknown option '--epoch'/);
      expect(r.err).toMatch(/Did you mean --epochs\?/);
      expect(r.err).toMatch(/netloom train --help/);
      expect(r.err).not.toMatch(/Options:|--batch-size/);
      expect(r.err.trim().split('\n').length).toBeLessThanOrEqual(3);
    });
    it('an unknown command points at `netloom --help`', () => {
      const r = netloom('trian', QUICKSTART);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/unknown command 'trian'/);
      expect(r.err).toMatch(/netloom --help/);
      expect(r.err).not.toMatch(/Commands:/);
    });
    it('prints the error codes the README troubleshooting refers to (NL_DATASET_MISSING, NL_OOM)', () => {
      const empty = join(tmp, 'empty-for-code');
      mkdirSync(empty, { recursive: true });
      expectUserError(netloom('train', QUICKSTART, '--data', empty), /No FashionMNIST data/, 'NL_DATASET_MISSING');
      // a batch of a million 784-pixel images needs far more than the 64 GiB one session may hold
      const wide = project((p) => (p.graph.nodes.find((n: any) => n.id === 'fc1').params.out_features = 65536));
      expectUserError(netloom('train', wide, '--batch-size', '1000000'), /GiB/, 'NL_OOM');
    });
  });

  describe('eval and --version', () => {
    it('eval prints which dataset it evaluated on, as train does', () => {
      const weights = join(tmp, 'eval-header.safetensors');
      const t = netloom('train', QUICKSTART, '--epochs', '1', '--limit-train', '256', '--limit-test', '128', '--save', weights);
      expect(t.code, t.err).toBe(0);
      const e = netloom('eval', QUICKSTART, '--weights', weights, '--limit-test', '128');
      expect(e.code, e.err).toBe(0);
      expect(e.out).toMatch(/^FashionMNIST: 128 test samples from .*FashionMNIST[/\\]raw$/m);
      expect(e.out).toMatch(new RegExp(`^Weights: ${esc(weights)}$`, 'm'));
    });
    it('--version prints the version of package.json', () => {
      const version = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).version;
      const r = netloom('--version');
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(`netloom ${version}`);
    });
  });
});
