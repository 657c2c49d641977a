/**
 * The command line's formats end to end (real processes, real files): --save by extension, --weights
 * notes (DataParallel's prefix, other standardisation statistics), `netloom export` and `netloom
 * import`'s arguments. The iris MLP (a CSV, standardised) trains in a moment.
 *
 * What the other programs make of the files (end to end, at the end): PyTorch 1.13 (/usr/bin/python3)
 * loads --save's and `export --format pt`'s .pt with torch.load(weights_only=True) into the iris model
 * (strict), onnxruntime-node runs `export --format onnx` with Netloom's outputs, `export --format
 * pytorch` writes a folder PyTorch loads and a second export replaces, and `netloom import` of an
 * ONNX export evaluates as the project it came from.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProjectText } from '../../engine/graph/document.js';
import { readCheckpointFile } from '../../engine/io/checkpoint.js';
import { isPyDict, isPyTensor, type PyDict, type PyTensor } from '../../engine/io/pyvalue.js';
import { decodeSafetensors, saveSafetensors } from '../../engine/io/safetensors.js';
import { forwardOne } from '../../engine/train/evaluation.js';
import { TrainingRun } from '../../engine/train/run.js';
import { itWithPython } from '../python-reference.js';
import { runPython } from '../support/pyliteral.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const IRIS = join(process.cwd(), 'assets', 'templates', 'iris-mlp.json');
const IRIS_CSV = join(process.cwd(), 'assets', 'samples', 'iris.csv');
const QUICKSTART = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-cli-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const WEIGHTS = join(tmp, 'iris.safetensors');

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd: tmp });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectUserError(r: ReturnType<typeof netloom>, pattern: RegExp, code: string) {
  expect(r.code, r.err).toBe(1);
  expect(r.err).toMatch(new RegExp(`^\\s*error \\[${code}\\]: `));
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
}

const testLine = (out: string) => out.match(/Test Error: .*/)?.[0];

let trained: ReturnType<typeof netloom>;
beforeAll(() => {
  expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  trained = netloom('train', IRIS, '--epochs', '2', '--save', WEIGHTS);
  expect(trained.code, trained.err).toBe(0);
});

describe('netloom train --save: the extension chooses the format', () => {
  it('.safetensors: says so, and carries the CSV standardisation (the training split\'s statistics)', () => {
    expect(trained.out).toContain(`Saved safetensors state dict to ${WEIGHTS}\nDone!`);
    const file = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    const s = JSON.parse(file.metadata['netloom.standardize']);
    expect(s.columns).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(s.mean).toHaveLength(4);
    expect(s.std.every((d: number) => d > 0)).toBe(true);
  });

  it.each(['model.pt', 'model.pth', 'MODEL.PTH'])('%s: "Saved PyTorch state dict to ..."', (name) => {
    const r = netloom('train', IRIS, '--epochs', '1', '--save', name);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`Saved PyTorch state dict to ${name}\nDone!`);
    expect(existsSync(join(tmp, name))).toBe(true);
  });

  it.each([['model.bin', '".bin" is not'], ['model', 'a file name without an extension is not'], ['model.ckpt', '".ckpt" is not']])('%s is refused before training, with the list', (name, what) => {
    const r = netloom('train', IRIS, '--epochs', '1', '--save', name);
    expectUserError(r, new RegExp(`--save ${name}: ${what} a format Netloom writes; the extension chooses it: \\.safetensors, \\.pt, \\.pth`), 'NL_INVALID_ARGUMENT');
    expect(r.err).toMatch(/nothing has been trained yet/);
    expect(r.out).not.toMatch(/Epoch 1/);
    expect(existsSync(join(tmp, name))).toBe(false);
  });

  it('the help names the formats', () => {
    const r = netloom('train', '--help');
    expect(r.out.replace(/\s+/g, ' ')).toMatch(/--save <file> save the trained state dict here, in the format its extension names: \.pt \/ \.pth/);
    expect(r.out.replace(/\s+/g, ' ')).toMatch(/--weights <file> start from these weights \(a \.safetensors, \.pt or \.pth state dict/);
  });
});

describe('netloom eval --weights: what the load noticed', () => {
  it("keys with DataParallel's 'module.' prefix load without it, say so, and evaluate the same", () => {
    const file = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    const prefixed = join(tmp, 'ddp.safetensors');
    return saveSafetensors(prefixed, Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [`module.${k}`, t])), file.metadata).then(() => {
      const plain = netloom('eval', IRIS, '--weights', WEIGHTS);
      const r = netloom('eval', IRIS, '--weights', prefixed);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain("note: the keys had DataParallel's 'module.' prefix; loaded without it");
      expect(plain.out).not.toContain('module.');
      expect(testLine(r.out)).toBe(testLine(plain.out));
    });
  });

  it('some keys prefixed: refused, and the hint names the prefix', () => {
    const file = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    const partial = join(tmp, 'partial.safetensors');
    const [first, ...rest] = Object.entries(file.tensors);
    return saveSafetensors(partial, Object.fromEntries([[`module.${first[0]}`, first[1]], ...rest])).then(() => {
      const r = netloom('eval', IRIS, '--weights', partial);
      expectUserError(r, /Unexpected key\(s\) in state_dict: "module\.net\.0\.(weight|bias)"/, 'NL_CHECKPOINT_MISMATCH');
      expect(r.err).toMatch(/hint: Some keys start with 'module\.'/);
    });
  });

  it('a CSV with other statistics than the training split\'s: a note, not a silent mix', () => {
    const rows = readFileSync(IRIS_CSV, 'utf8').trim().split('\n');
    // every sepal_length in centimetres -> millimetres: same rows, other statistics
    const mm = [rows[0], ...rows.slice(1).map((l) => { const c = l.split(','); c[0] = String(Number(c[0]) * 10); return c.join(','); })].join('\n');
    const csv = join(tmp, 'iris-mm.csv');
    writeFileSync(csv, `${mm}\n`);
    const r = netloom('eval', IRIS, '--weights', WEIGHTS, '--csv', csv, '--label', 'species');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/note: .*iris\.safetensors was trained on features standardised with other statistics than this dataset's training split \(sepal_length: mean [\d.]+, std [\d.]+ then; mean [\d.]+, std [\d.]+ now\)/);
    expect(netloom('eval', IRIS, '--weights', WEIGHTS).out).not.toMatch(/other statistics/);
  });
});

describe('netloom export', () => {
  it('safetensors with --weights: the same tensors in the model\'s order, with the standardisation; prints what it wrote', () => {
    const out = join(tmp, 'export.safetensors');
    const r = netloom('export', IRIS, '--format', 'safetensors', '--weights', WEIGHTS, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`Wrote ${out}\n`);
    const a = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    const b = decodeSafetensors(readFileSync(out), out);
    expect(Object.keys(b.tensors).sort()).toEqual(['net.0.bias', 'net.0.weight', 'net.2.bias', 'net.2.weight']);
    for (const [k, t] of Object.entries(a.tensors)) expect(Array.from(b.tensors[k].data), k).toEqual(Array.from(t.data));
    expect(JSON.parse(b.metadata['netloom.standardize'])).toEqual(JSON.parse(a.metadata['netloom.standardize']));
  });

  it.each(['pt', 'safetensors', 'onnx'])('--format %s without --weights is refused: it needs trained weights', (format) => {
    const out = join(tmp, `no-weights.${format}`);
    expectUserError(netloom('export', IRIS, '--format', format, '--out', out), new RegExp(`--format ${format} needs trained weights: pass --weights <file>`), 'NL_INVALID_ARGUMENT');
    expect(existsSync(out)).toBe(false);
  });

  it.each([['pt', 'model.safetensors', /\.pt or \.pth/], ['safetensors', 'export-wrong.pt', /\.safetensors/], ['onnx', 'model', /\.onnx file, but --out model ends in no extension/]])(
    '--format %s --out %s: the extension must match the format', (format, out, pattern) => {
      expectUserError(netloom('export', IRIS, '--format', format, '--weights', WEIGHTS, '--out', out), pattern, 'NL_INVALID_ARGUMENT');
      expect(existsSync(join(tmp, out))).toBe(false);
    });

  it('an unknown format, a missing --out or --format: usage errors', () => {
    for (const args of [['--format', 'keras', '--out', 'x'], ['--format', 'pt'], ['--out', 'x.pt']]) {
      const r = netloom('export', IRIS, ...args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/expected one of pt, safetensors, onnx, pytorch|required option '--(out|format) /);
    }
  });

  it('--weights of another network: refused with the state-dict problems, nothing written', () => {
    const out = join(tmp, 'wrong.safetensors');
    expectUserError(netloom('export', QUICKSTART, '--format', 'safetensors', '--weights', WEIGHTS, '--out', out), /Error\(s\) in loading state_dict from .*Missing key\(s\)/s, 'NL_CHECKPOINT_MISMATCH');
    expect(existsSync(out)).toBe(false);
  });

  it('--format pytorch refuses a folder of other files (before generating anything), and a missing --weights file', () => {
    const folder = join(tmp, 'mine');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'notes.txt'), 'my own file');
    expectUserError(netloom('export', IRIS, '--format', 'pytorch', '--out', folder), /holds other files \(notes\.txt\) and no earlier PyTorch export/, 'NL_EXISTS');
    expect(readFileSync(join(folder, 'notes.txt'), 'utf8')).toBe('my own file');
    expectUserError(netloom('export', IRIS, '--format', 'pt', '--weights', 'missing.pt', '--out', 'x.pt'), /--weights missing\.pt: no such file/, 'NL_IO');
  });
});

describe('netloom import', () => {
  it('needs --out, and says how to use it', () => {
    const r = netloom('import', 'model.onnx');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/required option '--out <project>'/);
    expect(netloom('import', '--help').out).toMatch(/import an ONNX model as a project, with its weights beside it/);
  });
});

const withTorch = itWithPython(['torch', 'numpy'], 'the PyTorch checks of the CLI\'s files');

/**
 * PyTorch's side of a .pt: torch.load(weights_only=True) (no code runs), load_state_dict(strict=True) into the
 * iris template's network written in PyTorch, and what it holds: the state dict (OrderedDict or not) with
 * its tensors, and _metadata["netloom"].
 */
function torchLoadsIris(file: string): { ordered: boolean; sd: PyDict; netloom: PyDict } {
  const r = runPython(`
import collections, torch
from torch import nn
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
sd = torch.load(${JSON.stringify(file)}, weights_only=True)
Model().load_state_dict(sd, strict=True)
print(to_json({"ordered": isinstance(sd, collections.OrderedDict), "sd": sd, "netloom": getattr(sd, "_metadata", {}).get("netloom")}))`) as PyDict;
  const sd = r.entries.get('sd');
  const netloom = r.entries.get('netloom');
  if (!isPyDict(sd) || !isPyDict(netloom)) throw new Error(`${file}: torch.load gave no state dict with _metadata["netloom"]`);
  return { ordered: r.entries.get('ordered') === true, sd, netloom };
}

/** The tensors torch loaded, as key -> float32 values, in the file's order. */
const torchTensors = (sd: PyDict) => [...sd.entries].map(([k, t]): [string, number[]] => [String(k), Array.from((t as PyTensor).data)]);

describe('the files, in the programs that read them', () => {
  withTorch('--save model.pth is read by torch.load(..., weights_only=True) and load_state_dict (strict), with the tensors Netloom saved', async () => {
    const file = join(tmp, 'torch-read.pth');
    const r = netloom('train', IRIS, '--epochs', '1', '--save', file);
    expect(r.code, r.err).toBe(0);
    const { ordered, sd, netloom: meta } = torchLoadsIris(file);
    expect(ordered, 'torch.save(model.state_dict()) writes an OrderedDict').toBe(true);
    expect([...sd.entries.values()].every((t) => isPyTensor(t) && t.dtype === 'float32')).toBe(true);
    const ours = await readCheckpointFile(file);
    expect(torchTensors(sd)).toEqual(Object.entries(ours.tensors).map(([k, t]) => [k, Array.from(t.data)]));
    expect(meta.entries.get('project')).toBe('Iris MLP (CSV, 3 species)');
    expect(JSON.parse(meta.entries.get('netloom.standardize') as string).columns).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  }, 60_000);

  withTorch('export --format pt writes the plain state dict torch.load reads: the weights bit for bit, the standardisation in _metadata', () => {
    const out = join(tmp, 'exported.pt');
    const r = netloom('export', IRIS, '--format', 'pt', '--weights', WEIGHTS, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`Wrote ${out}\n`);
    const from = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    const { ordered, sd, netloom: meta } = torchLoadsIris(out);
    expect(ordered).toBe(true);
    // the model's order (= model.state_dict()'s), not safetensors' sorted one
    expect([...sd.entries.keys()]).toEqual(['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias']);
    for (const [k, values] of torchTensors(sd)) expect(values, k).toEqual(Array.from(from.tensors[k].data));
    expect(JSON.parse(meta.entries.get('netloom.standardize') as string)).toEqual(JSON.parse(from.metadata['netloom.standardize']));
  }, 60_000);

  it('export --format onnx runs in onnxruntime with the outputs Netloom computes (raw features in: the standardisation is in the model)', async () => {
    const out = join(tmp, 'iris.onnx');
    const r = netloom('export', IRIS, '--format', 'onnx', '--weights', WEIGHTS, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`Wrote ${out}\n`);
    const run = await TrainingRun.create(parseProjectText(readFileSync(IRIS, 'utf8'), IRIS), IRIS, { weights: WEIGHTS, threads: 1 });
    try {
      const ds = run.job.dataset;
      if (ds.kind !== 'tabular' || !ds.standardized) throw new Error('the iris template should be a standardised CSV project');
      const n = ds.test.count;
      const width = ds.features.length;
      const rows = Array.from({ length: n }, (_, i) => ds.test.x.slice(i * width, (i + 1) * width));
      const ours = rows.map((x) => Array.from(forwardOne(run.job, x)));
      // the held-out rows as the CSV has them: the ONNX model standardises them itself
      const raw = Float32Array.from(rows.flatMap((x) => Array.from(x, (v, j) => v * ds.stats.std[j] + ds.stats.mean[j])));
      const session = await ort.InferenceSession.create(out);
      const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', raw, [n, width]) });
      const theirs = result[session.outputNames[0]];
      expect(theirs.dims).toEqual([n, 3]);
      const y = theirs.data as Float32Array;
      let worst = 0;
      ours.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - y[i * 3 + j])))));
      // float32 round trip of the features (x * std + mean, then (x - mean) / std): far below this
      expect(worst, `largest |Netloom - onnxruntime| over ${n} rows`).toBeLessThanOrEqual(1e-4);
    } finally {
      await run.close();
    }
  }, 60_000);

  withTorch('export --format pytorch writes model.py, train.py, README.md and model.pt that PyTorch loads; a second export replaces them', () => {
    const folder = join(tmp, 'code');
    const first = netloom('export', IRIS, '--format', 'pytorch', '--weights', WEIGHTS, '--out', folder);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toBe(['model.py', 'train.py', 'README.md', 'model.pt'].map((f) => `Wrote ${join(folder, f)}\n`).join(''));
    // as the exported README says: the model class of model.py, torch.load(weights_only=True), strict
    const loaded = runPython(`
import sys, torch
sys.path.insert(0, ${JSON.stringify(folder)})
from train import Model
model = Model()
model.load_state_dict(torch.load(${JSON.stringify(join(folder, 'model.pt'))}, weights_only=True), strict=True)
print(to_json(model.state_dict()))`) as PyDict;
    const from = decodeSafetensors(readFileSync(WEIGHTS), WEIGHTS);
    for (const [k, values] of torchTensors(loaded)) expect(values, k).toEqual(Array.from(from.tensors[k].data));

    // the user edits model.py, and keeps a file of their own and train.py's checkpoints in the folder
    writeFileSync(join(folder, 'model.py'), '# edited\n');
    writeFileSync(join(folder, 'notes.txt'), 'mine');
    const second = netloom('export', IRIS, '--format', 'pytorch', '--out', folder);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toBe(['model.py', 'train.py', 'README.md'].map((f) => `Wrote ${join(folder, f)}\n`).join(''));
    expect(readFileSync(join(folder, 'model.py'), 'utf8')).toMatch(/^(?!# edited)[\s\S]*class \w+\(nn\.Module\)/);
    expect(existsSync(join(folder, 'model.pt')), 'exported without weights now: the earlier model.pt would be stale').toBe(false);
    expect(readFileSync(join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  }, 60_000);

  it('import model.onnx writes the project and <out>.safetensors, and the eval command it prints evaluates as the original', () => {
    // the quickstart (FashionMNIST, the default dataset an imported project gets): its printed command runs as is
    const weights = join(tmp, 'quick.pt');
    const onnx = join(tmp, 'quick.onnx');
    expect(netloom('train', QUICKSTART, '--epochs', '1', '--limit-train', '640', '--limit-test', '100', '--save', weights).code).toBe(0);
    expect(netloom('export', QUICKSTART, '--format', 'onnx', '--weights', weights, '--out', onnx).code).toBe(0);
    const r = netloom('import', onnx, '--out', 'imported.json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`Wrote ${join(tmp, 'imported.json')}\nWrote ${join(tmp, 'imported.safetensors')}\n`);
    const next = r.out.match(/^Next: netloom (.+)$/m)?.[1];
    expect(next).toBe('eval imported.json --weights imported.safetensors');
    const imported = netloom(...next!.split(' '), '--limit-test', '500');
    expect(imported.code, imported.err).toBe(0);
    const original = netloom('eval', QUICKSTART, '--weights', weights, '--limit-test', '500');
    expect(testLine(imported.out)).toMatch(/Accuracy: [\d.]+%, Avg loss: [\d.]+/);
    expect(testLine(imported.out)).toBe(testLine(original.out));
  }, 120_000);

  it('import of a model whose input is no image says to give it data of its shape before evaluating', () => {
    const onnx = join(tmp, 'iris.onnx');
    expect(netloom('export', IRIS, '--format', 'onnx', '--weights', WEIGHTS, '--out', onnx).code).toBe(0);
    const r = netloom('import', onnx, '--out', 'iris-imported.json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^note: The input is \[4\]: choose a dataset of that shape/m);
    expect(r.out).toMatch(/^Next: give it data of its input shape, e\.g\. netloom eval iris-imported\.json --weights iris-imported\.safetensors --csv <file> --label <column>/m);
    const withData = netloom('eval', 'iris-imported.json', '--weights', 'iris-imported.safetensors', '--csv', IRIS_CSV, '--label', 'species');
    expect(withData.code, withData.err).toBe(0);
    expect(testLine(withData.out)).toMatch(/Accuracy: [\d.]+%/);
  }, 120_000);
});
