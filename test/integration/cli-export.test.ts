/**
 * The command line's formats end to end (real processes, real files): --save by extension, --weights
 * notes (DataParallel's prefix, other standardisation statistics), `netloom export` and `netloom
 * import`'s arguments. The iris MLP (a CSV, standardised) trains in a moment.
 *
 * The PyTorch file format (torch-file.ts), the ONNX writer/reader and the PyTorch code exporter are
 * other work of issue 12, stubs on this branch: their end-to-end checks are the it.todo at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, saveSafetensors } from '../../engine/io/safetensors.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const IRIS = join(process.cwd(), 'assets', 'templates', 'iris-mlp.json');
const IRIS_CSV = join(process.cwd(), 'assets', 'samples', 'iris.csv');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-cli-export-'));
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
    const quick = join(process.cwd(), 'assets', 'templates', 'quickstart.json');
    const out = join(tmp, 'wrong.safetensors');
    expectUserError(netloom('export', quick, '--format', 'safetensors', '--weights', WEIGHTS, '--out', out), /Error\(s\) in loading state_dict from .*Missing key\(s\)/s, 'NL_CHECKPOINT_MISMATCH');
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

// Replace each with the end-to-end check once the other issue-12 work is merged (their writers are stubs here):
it.todo('--save model.pth is read by torch.load(..., weights_only=True) and load_state_dict (needs the torch-io writer)');
it.todo('export --format pt writes the plain state dict torch.load reads, standardisation in _metadata (needs the torch-io writer)');
it.todo('export --format onnx runs in onnxruntime with the same outputs as netloom (needs exportOnnx)');
it.todo('export --format pytorch writes model.py, train.py, README.md and model.pt, and a second export replaces them (needs exportPytorchCode)');
it.todo('import model.onnx writes the project and <out>.safetensors, and the printed eval command runs (needs importOnnx)');
