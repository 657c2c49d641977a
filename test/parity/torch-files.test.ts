/**
 * PyTorch interop of Netloom's .pt/.pth reader and writer, with PyTorch itself as the oracle
 * (Debian's /usr/bin/python3, torch 1.13):
 *
 * - torch.save files Python writes, zip and legacy format, are read by Netloom to the values Python
 *   reports: every template's state dict (keys and shapes as Netloom compiles them), every dtype torch
 *   stores (float32/64, float16, bfloat16, int64), a transposed view, two tensors sharing one storage,
 *   a checkpoint dict, and a whole pickled model (refused by its class's name);
 * - .pt files Netloom writes load in Python with torch.load(weights_only=True) and
 *   load_state_dict(strict=True) into a module with those keys, bit for bit, with num_batches_tracked
 *   int64 and Netloom's metadata kept in `_metadata["netloom"]`.
 *
 * Python reports values as sha256 of their float32 (int64 for integer tensors) little-endian bytes,
 * so a comparison is of every bit without moving the values through JSON.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { readCheckpointFile, writeCheckpointFile, type TensorF32 } from '../../engine/io/checkpoint.js';
import { isPyDict, isPyTensor } from '../../engine/io/pyvalue.js';
import { PYTHON, itWithPython } from '../python-reference.js';
import { refusal } from '../support/rejection.js';

const withTorch = itWithPython(['torch', 'numpy'], 'PyTorch .pt interop tests');
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-torchfiles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TEMPLATES = ['quickstart', 'fashion-cnn', 'lenet5', 'resnet8', 'autoencoder', 'iris-mlp'];

interface Spec {
  key: string;
  shape: number[];
  dtype: 'f32' | 'i64';
}

/** The state-dict keys, shapes and dtypes Netloom compiles a template to. */
function templateSpec(name: string): Spec[] {
  const project = parseProjectText(readFileSync(`assets/templates/${name}.json`, 'utf8'), name);
  const program = compileGraph(analyzeForTraining(project.graph, name), { batchSize: 2, optimizer: project.training.optimizer });
  return program.params.map((p) => ({ key: p.key, shape: [...p.shape], dtype: p.dtype }));
}

function python(script: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** sha256 of a tensor's values as Python hashes them: float32, or int64 for integer tensors. */
function digest(t: TensorF32): string {
  const bytes = t.dtype === 'I64'
    ? Buffer.from(BigInt64Array.from(t.data, (x) => BigInt(x)).buffer)
    : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return createHash('sha256').update(bytes).digest('hex');
}

/** Python's side: the same digest of a tensor, its shape and dtype. */
const PY_DIGEST = `
import hashlib, json, sys, collections, torch
def digest(t):
    t = t.detach().contiguous()
    a = t.to(torch.int64) if not (t.is_floating_point()) else t.to(torch.float32)
    return hashlib.sha256(a.numpy().tobytes()).hexdigest()
def report(sd):
    return {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "sha": digest(v)} for k, v in sd.items()}
`;

/** Writes every template's state dict (seeded random values) as zip and legacy files; reports them. */
const PY_WRITE_TEMPLATES = `${PY_DIGEST}
spec = json.load(sys.stdin)
torch.manual_seed(0)
out = {}
for name, entries in spec["templates"].items():
    sd = collections.OrderedDict()
    for e in entries:
        if e["dtype"] == "i64":
            sd[e["key"]] = torch.randint(0, 1000, e["shape"], dtype=torch.int64)
        else:
            sd[e["key"]] = torch.randn(e["shape"])
    torch.save(sd, spec["dir"] + "/" + name + ".zip.pt")
    torch.save(sd, spec["dir"] + "/" + name + ".legacy.pth", _use_new_zipfile_serialization=False)
    out[name] = report(sd)
print(json.dumps(out))
`;

/** Every dtype, a transposed view, shared storage, a checkpoint dict and a whole model, both formats. */
const PY_WRITE_EDGES = `${PY_DIGEST}
spec = json.load(sys.stdin)
d = spec["dir"]
torch.manual_seed(1)
base = torch.randn(4, 6, dtype=torch.float64)
sd = collections.OrderedDict()
sd["f32"] = torch.randn(3, 5)
sd["f64"] = base
sd["f16"] = torch.randn(7).half()
sd["bf16"] = torch.randn(2, 3).bfloat16()
sd["i64"] = torch.tensor([0, -5, 2**40, 7])
sd["transposed"] = torch.randn(3, 4).t()
shared = torch.arange(12.0)
sd["shared_all"] = shared
sd["shared_view"] = shared[2:10].view(2, 4)[:, 1:3]
sd["scalar"] = torch.tensor(3.5)
sd["empty"] = torch.zeros(0, 3)
assert not sd["transposed"].is_contiguous() and sd["shared_view"].data_ptr() != shared.data_ptr()
out = {"sd": report(sd)}
for fmt, kw in (("zip", {}), ("legacy", {"_use_new_zipfile_serialization": False})):
    torch.save(sd, f"{d}/edges.{fmt}.pt", **kw)
    torch.save({"model_state_dict": sd, "epoch": 3}, f"{d}/ckpt.{fmt}.pt", **kw)
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 3)
    torch.save(Net(), f"{d}/model.{fmt}.pt", **kw)
print(json.dumps(out))
`;

/** Loads Netloom's files with weights_only=True into a module with those keys (strict), reporting them. */
const PY_LOAD = `${PY_DIGEST}
spec = json.load(sys.stdin)
def module_for(sd):
    root = torch.nn.Module()
    for key, t in sd.items():
        *path, leaf = key.split(".")
        m = root
        for p in path:
            if not hasattr(m, p):
                m.add_module(p, torch.nn.Module())
            m = getattr(m, p)
        if leaf in ("running_mean", "running_var", "num_batches_tracked"):
            m.register_buffer(leaf, torch.zeros_like(t))
        else:
            m.register_parameter(leaf, torch.nn.Parameter(torch.zeros_like(t)))
    return root
out = {}
for name, f in spec["files"].items():
    sd = torch.load(f, weights_only=True)
    m = module_for(sd)
    m.load_state_dict(sd, strict=True)
    out[name] = {"type": type(sd).__name__, "keys": list(sd.keys()), "tensors": report(m.state_dict()),
                 "netloom": sd._metadata["netloom"]}
print(json.dumps(out))
`;

type Report = Record<string, { shape: number[]; dtype: string; sha: string }>;

/** `ordered`: the keys in the same order too (a module's state_dict() orders them by module, not by file). */
function expectMatches(file: string, tensors: Record<string, TensorF32>, want: Report, ordered = true): void {
  const keys = (o: object) => (ordered ? Object.keys(o) : Object.keys(o).sort());
  expect(keys(tensors), file).toEqual(keys(want));
  for (const [k, w] of Object.entries(want)) {
    const t = tensors[k];
    expect(t.shape, `${file} ${k}`).toEqual(w.shape);
    expect(t.dtype ?? 'F32', `${file} ${k}`).toBe(w.dtype === 'int64' ? 'I64' : 'F32');
    expect(digest(t), `${file} ${k} values`).toBe(w.sha);
  }
}

describe('torch.save files from PyTorch, read by Netloom', () => {
  withTorch('every template\'s state dict, zip and legacy format', async () => {
    const templates = Object.fromEntries(TEMPLATES.map((t) => [t, templateSpec(t)]));
    const report = python(PY_WRITE_TEMPLATES, { dir: tmp, templates }) as Record<string, Report>;
    for (const name of TEMPLATES) {
      expect(Object.keys(report[name])).toEqual(templates[name].map((s) => s.key));
      for (const file of [`${name}.zip.pt`, `${name}.legacy.pth`]) {
        const back = await readCheckpointFile(path.join(tmp, file));
        expect(back.format).toBe(file.includes('zip') ? 'pytorch-zip' : 'pytorch-pickle');
        expectMatches(file, back.tensors, report[name]);
        expect({ ...back.metadata }).toEqual({});
      }
    }
  }, 120_000);

  withTorch('every dtype, a transposed view, shared storage, a checkpoint dict; a whole model is refused by name', async () => {
    const report = python(PY_WRITE_EDGES, { dir: tmp }) as { sd: Report };
    expect(report.sd.f16.dtype).toBe('float16');
    for (const fmt of ['zip', 'legacy']) {
      const plain = await readCheckpointFile(path.join(tmp, `edges.${fmt}.pt`));
      expectMatches(`edges.${fmt}.pt`, plain.tensors, report.sd);
      expect(plain.checkpoint).toBeUndefined();
      expect(Array.from(plain.tensors.i64.data)).toEqual([0, -5, 2 ** 40, 7]);

      const ckpt = await readCheckpointFile(path.join(tmp, `ckpt.${fmt}.pt`));
      expectMatches(`ckpt.${fmt}.pt`, ckpt.tensors, report.sd);
      expect(ckpt.checkpoint?.entries.get('epoch')).toBe(3n);

      const model = path.join(tmp, `model.${fmt}.pt`);
      const e = await refusal(readCheckpointFile(model));
      expect(e.code).toBe('NL_BAD_CHECKPOINT');
      expect(e.message).toMatch(/refusing to load: the pickle asks for __main__\.Net, which a checkpoint never needs/);
      expect(e.hint).toMatch(/torch\.save\(model\.state_dict\(\), path\)/);
    }
  }, 120_000);
});

/** A small state dict and a resumable checkpoint (Adam's own state_dict()), in both formats. */
const PY_WRITE_SMALL = `
import json, sys, torch
d = json.load(sys.stdin)["dir"]
torch.manual_seed(2)
m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
opt = torch.optim.Adam(m.parameters(), lr=0.01)
m(torch.randn(4, 3)).sum().backward()
opt.step()
ckpt = {"model_state_dict": m.state_dict(), "optimizer_state_dict": opt.state_dict(), "epoch": 1, "batch": 0, "step": 1}
for fmt, kw in (("zip", {}), ("legacy", {"_use_new_zipfile_serialization": False})):
    torch.save(m.state_dict(), f"{d}/small.{fmt}.pt", **kw)
    torch.save(ckpt, f"{d}/resume.{fmt}.pt", **kw)
print(json.dumps({"exp_avg": opt.state_dict()["state"][0]["exp_avg"].flatten().tolist()}))
`;

describe('damaged and resumable files from PyTorch', () => {
  withTorch('a state dict cut at every byte is refused, in both formats; a resumable checkpoint keeps torch.optim\'s state', async () => {
    const { exp_avg: expAvg } = python(PY_WRITE_SMALL, { dir: tmp }) as { exp_avg: number[] };
    for (const fmt of ['zip', 'legacy']) {
      const whole = readFileSync(path.join(tmp, `small.${fmt}.pt`));
      expect(Object.keys((await readCheckpointFile(path.join(tmp, `small.${fmt}.pt`))).tensors)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
      const cut = path.join(tmp, `cut.${fmt}.pt`);
      // every length for the legacy file; the zip's central directory is at its end, so a stride suffices there
      for (let n = 0; n < whole.length; n += fmt === 'zip' ? 7 : 1) {
        writeFileSync(cut, whole.subarray(0, n));
        const e = await refusal(readCheckpointFile(cut));
        expect(e.code, `${fmt} cut at ${n}: ${e.message}`).toBe('NL_BAD_CHECKPOINT');
      }
      const resume = await readCheckpointFile(path.join(tmp, `resume.${fmt}.pt`));
      const opt = resume.checkpoint?.entries.get('optimizer_state_dict');
      expect(isPyDict(opt)).toBe(true);
      const state = isPyDict(opt) ? opt.entries.get('state') : undefined;
      const first = isPyDict(state) ? state.entries.get(0n) : undefined;
      const avg = isPyDict(first) ? first.entries.get('exp_avg') : undefined;
      expect(isPyTensor(avg) && Array.from(avg.data)).toEqual(Array.from(Float32Array.from(expAvg)));
      expect(isPyTensor(isPyDict(first) ? first.entries.get('step') : undefined)).toBe(true);
    }
  }, 120_000);
});

describe('.pt files Netloom writes, read by PyTorch', () => {
  withTorch('every template\'s state dict loads with weights_only=True and load_state_dict(strict=True), bit for bit', async () => {
    const files: Record<string, string> = {};
    const written: Record<string, Record<string, TensorF32>> = {};
    const metadata = { producer: 'netloom', project: 'Größe ✓', 'netloom.standardize': '{"columns":["a"],"mean":[0.5],"std":[2]}' };
    for (const name of TEMPLATES) {
      const tensors: Record<string, TensorF32> = {};
      let seed = 1;
      for (const s of templateSpec(name)) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        // values with every float32 bit pattern class: signs, small and large exponents
        const data = Float32Array.from({ length: n }, (_, i) => (s.dtype === 'i64' ? (seed * 7 + i) % 1000 : Math.sin(seed * 1000 + i) * 10 ** ((i % 7) - 3)));
        tensors[s.key] = s.dtype === 'i64' ? { shape: s.shape, data, dtype: 'I64' } : { shape: s.shape, data };
        seed++;
      }
      files[name] = path.join(tmp, `netloom-${name}.pth`);
      written[name] = tensors;
      await writeCheckpointFile(files[name], tensors, metadata);
    }
    const report = python(PY_LOAD, { files }) as Record<string, { type: string; keys: string[]; tensors: Report; netloom: Record<string, string> }>;
    for (const name of TEMPLATES) {
      expect(report[name].type).toBe('OrderedDict');
      expect(report[name].keys).toEqual(Object.keys(written[name]));
      expectMatches(files[name], written[name], report[name].tensors, false);
      expect(report[name].netloom).toEqual(metadata);
      const bn = Object.entries(report[name].tensors).filter(([k]) => k.endsWith('num_batches_tracked'));
      for (const [, t] of bn) expect(t.dtype).toBe('int64');
      // and Netloom reads its own file back the same
      const back = await readCheckpointFile(files[name]);
      expectMatches(files[name], back.tensors, report[name].tensors, false);
      expect({ ...back.metadata }).toEqual(metadata);
    }
    expect(Object.values(report).some((r) => Object.keys(r.tensors).some((k) => k.endsWith('num_batches_tracked')))).toBe(true);
  }, 120_000);
});

