/**
 * checkpoints.ts, the reader's side: every netloom.* field a file holds is checked (a forged field
 * means a damaged file, and is refused naming the field), a resume position must fit the run, and
 * a state dict is compared as PyTorch's strict load_state_dict does, per graph node, with tensors
 * that hold NaN or infinite values named. (resume-metadata.test.ts checks the same through a run.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
import { thrown } from '../support/rejection.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { loadSafetensors, saveSafetensors, type TensorF32 } from '../../engine/io/safetensors.js';
import { Session } from '../../engine/runtime/session.js';
import {
  MAX_FIELD_CHARS, OPTIMIZER_PREFIX, checkNetloomMetadata, loadCheckpoint, loadReport, nonFiniteTensors, readCheckpoint, requireFinite, resumePosition, saveCheckpoint, splitCheckpoint,
  stateDictProblems,
} from '../../engine/train/checkpoints.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const refusal = (metadata: Record<string, string>) => thrown(() => checkNetloomMetadata(metadata, 'run.safetensors'));
const accepts = (metadata: Record<string, string>) => expect(() => checkNetloomMetadata(metadata, 'run.safetensors'), JSON.stringify(metadata)).not.toThrow();
const t = (shape: number[], values?: number[]): TensorF32 => ({ shape, data: Float32Array.from(values ?? Array(shape.reduce((a, b) => a * b, 1)).fill(0.5)) });

describe('checkNetloomMetadata', () => {
  const WHOLE: [string, number][] = [
    ['netloom.epoch', 2 ** 31 - 1], ['netloom.batch', 2 ** 31 - 1], ['netloom.best_epoch', 2 ** 31 - 1],
    ['netloom.step', Number.MAX_SAFE_INTEGER], ['netloom.scheduler_step', Number.MAX_SAFE_INTEGER], ['netloom.seed', Number.MAX_SAFE_INTEGER],
  ];

  it('accepts each whole-number field from 0 to its largest value, as plain digits', () => {
    for (const [k, max] of WHOLE) for (const v of ['0', '7', '10', String(max)]) accepts({ [k]: v });
  });

  it('refuses each whole-number field past its largest value or not as plain digits, naming the field, the range and the value', () => {
    for (const [k, max] of WHOLE) {
      for (const v of [String(max + 1), '01', '00', '-1', '-0', '+1', '1.0', '1e3', '0x10', ' 1', '1 ', '', 'one', '1\n']) {
        const e = refusal({ [k]: v });
        expect(e.code, `${k}=${JSON.stringify(v)}`).toBe('NL_BAD_CHECKPOINT');
        expect(e.message).toBe(`run.safetensors: ${k} must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}`);
        expect(e.hint).toBe('The file was damaged or edited: save the checkpoint again from Netloom.');
      }
    }
  });

  it('quotes at most 40 characters of a forged value', () => {
    expect(refusal({ 'netloom.phase': 'p'.repeat(40) }).message).toBe(`run.safetensors: netloom.phase must be "train" or "test", got "${'p'.repeat(40)}"`);
    expect(refusal({ 'netloom.phase': 'p'.repeat(41) }).message).toBe(`run.safetensors: netloom.phase must be "train" or "test", got "${'p'.repeat(40)}..."`);
  });

  it('limits every netloom.* field to MAX_FIELD_CHARS characters, and no other field', () => {
    accepts({ 'netloom.note': 'x'.repeat(MAX_FIELD_CHARS) });
    expect(refusal({ 'netloom.note': 'x'.repeat(MAX_FIELD_CHARS + 1) }).message).toBe(`run.safetensors: netloom.note is ${MAX_FIELD_CHARS + 1} characters long; at most ${MAX_FIELD_CHARS} are allowed`);
    // other metadata (PyTorch's, a user's) is not ours to judge
    accepts({ format: 'pt', note: 'x'.repeat(MAX_FIELD_CHARS * 4), epoch: '-1', phase: 'eval', optimizer: '{' });
  });

  it('accepts the phases "train" and "test" only', () => {
    accepts({ 'netloom.phase': 'train' });
    accepts({ 'netloom.phase': 'test' });
    for (const v of ['Train', 'TEST', '', 'eval', 'train '])
      expect(refusal({ 'netloom.phase': v }).message).toBe(`run.safetensors: netloom.phase must be "train" or "test", got ${JSON.stringify(v)}`);
  });

  it('accepts an optimizer as a JSON object with a "type", finite numbers and a positive lr', () => {
    for (const v of ['{"type":"SGD"}', '{"type":"Adam","lr":0.001,"betas":[0.9,0.999],"eps":1e-8,"amsgrad":false}', '{"type":"SGD","lr":1,"momentum":0,"nesterov":true,"tag":"x"}'])
      accepts({ 'netloom.optimizer': v });
  });

  it('refuses an optimizer that is not such an object, naming what is wrong', () => {
    const cases: [string, string][] = [
      ['{', 'netloom.optimizer is not valid JSON'],
      ['', 'netloom.optimizer is not valid JSON'],
      ['null', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      ['[]', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      ['[{"type":"SGD"}]', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      ['"SGD"', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      ['{}', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      ['{"type":1}', `netloom.optimizer must be a JSON object with the optimizer's "type"`],
      // JSON has no Infinity, but 1e999 parses as one
      ['{"type":"Adam","eps":1e999}', 'netloom.optimizer: eps must be a finite number'],
      ['{"type":"Adam","betas":[0.9,-1e999]}', 'netloom.optimizer: betas must be a finite number'],
      ['{"type":"Adam","lr":1e999}', 'netloom.optimizer: lr must be a finite number'],
      ['{"type":"SGD","lr":0}', 'netloom.optimizer: lr must be a finite positive number, got 0'],
      ['{"type":"SGD","lr":-0.1}', 'netloom.optimizer: lr must be a finite positive number, got -0.1'],
      ['{"type":"SGD","lr":"0.1"}', 'netloom.optimizer: lr must be a finite positive number, got "0.1"'],
      ['{"type":"SGD","lr":null}', 'netloom.optimizer: lr must be a finite positive number, got null'],
    ];
    for (const [v, message] of cases) {
      const e = refusal({ 'netloom.optimizer': v });
      expect({ code: e.code, message: e.message }, v).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `run.safetensors: ${message}` });
    }
    const deep = refusal({ 'netloom.optimizer': `{"type":"Adam","x":${'['.repeat(70)}${']'.repeat(70)}}` });
    expect(deep.message).toBe(`run.safetensors: netloom.optimizer nests objects and lists more than 64 levels deep (x${'[0]'.repeat(11)}...)`);
  });

  it('readCheckpoint checks the metadata of the file it reads', async () => {
    const file = path.join(tmp, 'forged.safetensors');
    await saveSafetensors(file, { w: t([1]) }, { 'netloom.epoch': '-1' });
    const e = await readCheckpoint(file).then(() => undefined, (x: NetloomError) => ({ code: x.code, message: x.message }));
    expect(e).toEqual({ code: 'NL_BAD_CHECKPOINT', message: `${file}: netloom.epoch must be a whole number from 0 to 2147483647, got "-1"` });
    const good = path.join(tmp, 'good.safetensors');
    await saveSafetensors(good, { w: t([1]) }, { 'netloom.epoch': '1', format: 'pt' });
    expect((await readCheckpoint(good)).metadata).toEqual({ 'netloom.epoch': '1', format: 'pt' });
  });
});

describe('resumePosition', () => {
  const run = { epochs: 3, batchesPerEpoch: 4 };
  const at = (epoch: number, batch: number, phase = 'train') => ({ 'netloom.epoch': String(epoch), 'netloom.batch': String(batch), 'netloom.step': String(epoch * 4 + batch), 'netloom.phase': phase });

  it('reads where the run stood, anywhere from its start to its end', () => {
    expect(resumePosition(at(0, 0), 'f', run)).toEqual({ epoch: 0, batch: 0, step: 0, phase: 'train' });
    expect(resumePosition(at(1, 4, 'test'), 'f', run)).toEqual({ epoch: 1, batch: 4, step: 8, phase: 'test' });
    expect(resumePosition(at(2, 3), 'f', run)).toEqual({ epoch: 2, batch: 3, step: 11, phase: 'train' });
    expect(resumePosition(at(3, 0), 'f', run)).toEqual({ epoch: 3, batch: 0, step: 12, phase: 'train' });
    expect(resumePosition({ ...at(0, 0), 'netloom.phase': undefined as unknown as string }, 'f', run).phase).toBe('train');
  });

  it('refuses an epoch past the run, and a batch past an epoch or past the end, saying what to change', () => {
    const e1 = thrown(() => resumePosition(at(4, 0), 'f.safetensors', run));
    expect(e1).toEqual({ code: 'NL_BAD_CHECKPOINT', message: 'f.safetensors: netloom.epoch is 4, but this run has 3 epochs', hint: 'Set epochs to more than 4 to continue that run, or load the weights only.' });
    const e2 = thrown(() => resumePosition(at(1, 5), 'f.safetensors', run));
    expect(e2).toEqual({
      code: 'NL_BAD_CHECKPOINT', message: 'f.safetensors: netloom.batch is 5, but an epoch of this run has 4 batches',
      hint: 'Resume with the batch size, sample limits and epochs it was saved with, or load the weights only.',
    });
    const e3 = thrown(() => resumePosition(at(3, 1), 'f.safetensors', run));
    expect(e3.message).toBe('f.safetensors: netloom.batch is 1, but an epoch of this run has 4 batches and netloom.epoch is its end');
  });
});

describe('stateDictProblems (strict load_state_dict)', () => {
  const model = [{ key: 'fc1.weight', shape: [4, 3] }, { key: 'fc1.bias', shape: [4] }, { key: 'fc2.weight', shape: [2, 4] }];

  it('finds nothing when every key and shape matches', () => {
    expect(stateDictProblems(model, { 'fc1.weight': t([4, 3]), 'fc1.bias': t([4]), 'fc2.weight': t([2, 4]) })).toEqual([]);
  });

  it("names missing and unexpected keys and mismatched shapes in PyTorch's words", () => {
    expect(stateDictProblems(model, { 'fc1.weight': t([3, 4]), 'fc1.bias': t([4, 1]), 'fc3.weight': t([1]), 'extra': t([1]) })).toEqual([
      'Missing key(s) in state_dict: "fc2.weight".',
      'Unexpected key(s) in state_dict: "fc3.weight", "extra".',
      'size mismatch for fc1.weight: copying a param with shape torch.Size([3, 4]) from checkpoint, the shape in current model is torch.Size([4, 3]).',
      'size mismatch for fc1.bias: copying a param with shape torch.Size([4, 1]) from checkpoint, the shape in current model is torch.Size([4]).',
    ]);
    expect(stateDictProblems(model, { 'fc1.weight': t([4, 3]), 'fc1.bias': t([]), 'fc2.weight': t([2, 4]) })).toEqual([
      'size mismatch for fc1.bias: copying a param with shape torch.Size([]) from checkpoint, the shape in current model is torch.Size([4]).',
    ]);
    // one dimension of several differs
    expect(stateDictProblems(model, { 'fc1.weight': t([4, 3]), 'fc1.bias': t([4]), 'fc2.weight': t([2, 5]) })).toEqual([
      'size mismatch for fc2.weight: copying a param with shape torch.Size([2, 5]) from checkpoint, the shape in current model is torch.Size([2, 4]).',
    ]);
  });
});

describe('splitCheckpoint', () => {
  it('moves the optimizer state (without its prefix) apart from the state dict', () => {
    const w = t([2]);
    const m = t([2]);
    const odd = t([1]);
    const { model, optimizer } = splitCheckpoint({ 'fc.weight': w, [`${OPTIMIZER_PREFIX}fc.weight.exp_avg`]: m, [`${OPTIMIZER_PREFIX}__proto__`]: odd, 'optimizer.stateX': odd });
    expect(Object.keys(model)).toEqual(['fc.weight', 'optimizer.stateX']);
    expect(model['fc.weight']).toBe(w);
    expect(Object.keys(optimizer)).toEqual(['fc.weight.exp_avg', '__proto__']);
    expect(optimizer['fc.weight.exp_avg']).toBe(m);
    expect(Object.getPrototypeOf(optimizer)).toBeNull(); // "__proto__" stays an ordinary entry
  });
});

describe('loadReport', () => {
  const nodes = [{ id: 'n1', name: 'fc1', type: 'Linear' }, { id: 'n2', name: 'block.1', type: 'Linear' }, { id: 'n3', name: 'bn', type: 'BatchNorm1d' }];
  const model = [
    { key: 'fc1.weight', shape: [4, 3] }, { key: 'fc1.bias', shape: [4] },
    { key: 'block.1.weight', shape: [2, 4] },
    { key: 'bn.running_mean', shape: [2] },
  ];

  it('is ok, per node and as a whole, when the file matches', () => {
    const r = loadReport(nodes, model, { 'fc1.weight': t([4, 3]), 'fc1.bias': t([4]), 'block.1.weight': t([2, 4]), 'bn.running_mean': t([2]) });
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.unassigned).toEqual([]);
    expect(r.hasOptimizerState).toBe(false);
    expect(r.nodes.map((n) => [n.nodeId, n.name, n.type, n.keys, n.ok])).toEqual([
      ['n1', 'fc1', 'Linear', ['fc1.weight', 'fc1.bias'], true],
      ['n2', 'block.1', 'Linear', ['block.1.weight'], true],
      ['n3', 'bn', 'BatchNorm1d', ['bn.running_mean'], true],
    ]);
  });

  it("gives each problem to the node it belongs to (a node's name may hold dots), and keys of no node apart", () => {
    const r = loadReport(nodes, model, {
      'fc1.weight': t([3, 4]), // mismatched
      // fc1.bias missing
      'block.1.weight': t([2, 4]), 'block.1.bias': t([2]), // unexpected, owned by "block.1"
      'bn.running_mean': t([2]),
      'fc9.weight': t([1]), 'noparam': t([1]), // owned by no node
      [`${OPTIMIZER_PREFIX}fc1.weight.exp_avg`]: t([4, 3]),
    });
    expect(r.ok).toBe(false);
    expect(r.hasOptimizerState).toBe(true);
    const [fc1, block, bn] = r.nodes;
    expect(fc1).toMatchObject({ missing: ['fc1.bias'], unexpected: [], mismatched: [{ key: 'fc1.weight', fileShape: [3, 4], modelShape: [4, 3] }], ok: false });
    expect(block).toMatchObject({ missing: [], unexpected: ['block.1.bias'], mismatched: [], ok: false });
    expect(bn).toMatchObject({ missing: [], unexpected: [], mismatched: [], ok: true });
    expect(r.unassigned).toEqual(['fc9.weight', 'noparam']);
    expect(r.problems).toEqual([
      'Missing key(s) in state_dict: "fc1.bias".',
      'Unexpected key(s) in state_dict: "block.1.bias", "fc9.weight", "noparam".',
      'size mismatch for fc1.weight: copying a param with shape torch.Size([3, 4]) from checkpoint, the shape in current model is torch.Size([4, 3]).',
    ]);
  });

  it('a shape that differs in one dimension of several is a mismatch', () => {
    const r = loadReport(nodes.slice(0, 1), model.slice(0, 2), { 'fc1.weight': t([4, 2]), 'fc1.bias': t([4]) });
    expect(r.nodes[0].mismatched).toEqual([{ key: 'fc1.weight', fileShape: [4, 2], modelShape: [4, 3] }]);
  });

  it('a shape that differs in rank only is a mismatch too', () => {
    const r = loadReport(nodes.slice(0, 1), model.slice(0, 2), { 'fc1.weight': t([4, 3, 1]), 'fc1.bias': t([4]) });
    expect(r.nodes[0].mismatched).toEqual([{ key: 'fc1.weight', fileShape: [4, 3, 1], modelShape: [4, 3] }]);
    expect(r.ok).toBe(false);
  });

  it('is not ok when a matching tensor holds NaN or infinite values, and says which', () => {
    const r = loadReport(nodes.slice(0, 1), model.slice(0, 2), { 'fc1.weight': t([4, 3]), 'fc1.bias': t([4], [0, NaN, 1, 2]) });
    expect(r.nodes[0].ok).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(["the tensor 'fc1.bias' holds 1 NaN value (of 4)"]);
  });
});

describe('nonFiniteTensors / requireFinite', () => {
  it('counts NaN and infinite values per tensor, in words', () => {
    const big = new Float32Array(12_345);
    big.fill(NaN, 0, 1_234);
    big[2000] = Infinity;
    big[2001] = -Infinity;
    expect(nonFiniteTensors({
      ok: t([3], [0, -1, 3.4e38]),
      nan: t([2], [NaN, NaN]),
      inf: t([3], [1, -Infinity, 2]),
      big: { shape: [12_345], data: big },
    })).toEqual([
      "the tensor 'nan' holds 2 NaN values (of 2)",
      "the tensor 'inf' holds 1 infinite value (of 3)",
      "the tensor 'big' holds 1,234 NaN values and 2 infinite values (of 12,345)",
    ]);
    expect(nonFiniteTensors({ a: t([2], [0, -0]), b: t([0]) })).toEqual([]);
    expect(nonFiniteTensors({ both: t([2], [NaN, Infinity]) })).toEqual(["the tensor 'both' holds 1 NaN value and 1 infinite value (of 2)"]);
  });

  it('requireFinite refuses such weights, naming every tensor and what to do', () => {
    expect(() => requireFinite('w.safetensors', { a: t([1], [1]) })).not.toThrow();
    const e = thrown(() => requireFinite('w.safetensors', { a: t([1], [NaN]), b: t([2], [Infinity, 1]) }));
    expect(e.code).toBe('NL_BAD_CHECKPOINT');
    expect(e.message).toBe("w.safetensors: the tensor 'a' holds 1 NaN value (of 1); the tensor 'b' holds 1 infinite value (of 2)");
    expect(e.hint).toMatch(/run that diverged.*best epoch.*lower learning rate/);
  });
});

describe('saveCheckpoint / loadCheckpoint with a real session', () => {
  /** A session of a template's network (fashion-cnn has BatchNorm, whose batch counter is int64). */
  function session(template: string): Session {
    const project = parseProjectText(readFileSync(path.join('assets', 'templates', `${template}.json`), 'utf8'), template);
    const program = compileGraph(analyzeForTraining(project.graph, template), { batchSize: 2, optimizer: OptimizerSchema.parse({ type: 'SGD' }) });
    return new Session(program, 1);
  }
  const sessions: Session[] = [];
  const open = (template: string) => {
    const s = session(template);
    sessions.push(s);
    return s;
  };
  afterAll(() => sessions.forEach((s) => s.close?.()));

  it('saves every parameter under its key, shape and dtype, with PyTorch\'s format tag and the given metadata', async () => {
    const s = open('fashion-cnn');
    const file = path.join(tmp, 'cnn.safetensors');
    await saveCheckpoint(file, s, { 'netloom.epoch': '2' });
    const back = await loadSafetensors(file);
    expect({ ...back.metadata }).toEqual({ format: 'pt', producer: 'netloom', 'netloom.epoch': '2' });
    expect(Object.keys(back.tensors).sort()).toEqual(s.program.params.map((p) => p.key).sort());
    for (const p of s.program.params) {
      expect(back.tensors[p.key].shape, p.key).toEqual([...p.shape]);
      expect(back.tensors[p.key].dtype, p.key).toBe(p.dtype === 'i64' ? 'I64' : 'F32');
    }
    expect(s.program.params.some((p) => p.dtype === 'i64')).toBe(true);
    // other values than the session's (the best epoch's copy) are saved in the session's layout
    const fill = (p: { dtype?: string }) => (p.dtype === 'i64' ? 3 : 0.25);
    const values = new Map(s.program.params.map((p) => [p.key, s.getParams().get(p.key)!.map(() => fill(p))]));
    await saveCheckpoint(file, s, {}, values);
    const filled = await loadSafetensors(file);
    for (const p of s.program.params) expect(filled.tensors[p.key].data.every((v) => v === fill(p)), p.key).toBe(true);
  });

  it('loads weights into the session, optimizer state left aside, and returns the metadata', async () => {
    const a = open('quickstart');
    const file = path.join(tmp, 'q.safetensors');
    const trained = new Map([...a.getParams()].map(([k, v]) => [k, v.map((_, i) => (i % 7) / 10)]));
    const tensors: Record<string, TensorF32> = {};
    for (const p of a.program.params) tensors[p.key] = { shape: [...p.shape], data: trained.get(p.key)! };
    tensors[`${OPTIMIZER_PREFIX}${a.program.params[0].key}.momentum_buffer`] = { ...tensors[a.program.params[0].key] };
    await saveSafetensors(file, tensors, { 'netloom.step': '5' });
    const b = open('quickstart');
    expect({ ...(await loadCheckpoint(file, b)) }).toEqual({ 'netloom.step': '5' });
    for (const [k, v] of b.getParams()) expect(Array.from(v), k).toEqual(Array.from(trained.get(k)!));
  });

  it('refuses a file of another network, naming every problem, and loads nothing', async () => {
    const q = open('quickstart');
    const before = new Map([...q.getParams()].map(([k, v]) => [k, Float32Array.from(v)]));
    const file = path.join(tmp, 'other.safetensors');
    const first = q.program.params[0];
    await saveSafetensors(file, { [first.key]: { shape: [1], data: Float32Array.of(1) }, 'stray.weight': { shape: [1], data: Float32Array.of(1) } });
    const e = await loadCheckpoint(file, q).then(() => undefined, (x: NetloomError) => x);
    expect(e?.code).toBe('NL_CHECKPOINT_MISMATCH');
    expect(e?.message.split('\n')).toEqual([
      `Error(s) in loading state_dict from ${file}:`,
      `  Missing key(s) in state_dict: ${q.program.params.slice(1).map((p) => `"${p.key}"`).join(', ')}.`,
      '  Unexpected key(s) in state_dict: "stray.weight".',
      `  size mismatch for ${first.key}: copying a param with shape torch.Size([1]) from checkpoint, the shape in current model is torch.Size([${first.shape.join(', ')}]).`,
    ]);
    expect(e?.hint).toBe('The checkpoint was saved from a different network: load it onto the graph it came from, or rename nodes so their names match the keys.');
    for (const [k, v] of q.getParams()) expect(Array.from(v), k).toEqual(Array.from(before.get(k)!));
  });

  it('refuses weights holding NaN, and loads nothing', async () => {
    const q = open('quickstart');
    const file = path.join(tmp, 'nan.safetensors');
    const values = new Map([...q.getParams()].map(([k, v]) => [k, Float32Array.from(v)]));
    values.get(q.program.params[1].key)![0] = NaN;
    await saveCheckpoint(file, q, {}, values);
    const fresh = open('quickstart');
    const e = await loadCheckpoint(file, fresh).then(() => undefined, (x: NetloomError) => x);
    expect(e?.code).toBe('NL_BAD_CHECKPOINT');
    expect(e?.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the tensor '${q.program.params[1].key}' holds 1 NaN value \\(of \\d+\\)$`));
  });
});
