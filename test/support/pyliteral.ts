/**
 * PyValue <-> real Python objects for the tests that compare Netloom's checkpoint dicts with PyTorch,
 * without going through a .pt file: a PyValue becomes Python source (tensors as torch.tensor(...)),
 * and Python values come back as tagged JSON. The file format itself is tested by the torch-io tests;
 * these check what the dicts hold against what torch.optim and lr_scheduler produce and accept.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON } from '../python-reference.js';
import { pyDict, pyTuple, type PyKey, type PyValue } from '../../engine/io/pyvalue.js';

const float = (n: number) => (Number.isNaN(n) ? "float('nan')" : n === Infinity ? "float('inf')" : n === -Infinity ? "float('-inf')" : `float('${n}')`);
const key = (k: PyKey) => (typeof k === 'bigint' ? String(k) : JSON.stringify(k));

/** Python source evaluating to `v` (needs `import torch, collections`). */
export function pySource(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return float(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pySource).join(', ')}]`;
  if (v.kind === 'tuple') return `(${v.items.map(pySource).join(', ')}${v.items.length === 1 ? ',' : ''})`;
  if (v.kind === 'tensor') {
    const dtype = v.dtype === 'int64' ? 'torch.int64' : 'torch.float32';
    return `torch.tensor([${Array.from(v.data, float).join(', ')}], dtype=${dtype}).reshape([${v.shape.join(', ')}])`;
  }
  const items = [...v.entries].map(([k, x]) => `(${key(k)}, ${pySource(x)})`).join(', ');
  const dict = v.ordered ? `collections.OrderedDict([${items}])` : `dict([${items}])`;
  // an OrderedDict's attributes (state_dict()'s _metadata) set as torch.load would
  const attrs = [...(v.attributes ?? [])].map(([k, x]) => `setattr(d, ${JSON.stringify(k)}, ${pySource(x)})`);
  return attrs.length ? `(lambda d: [${attrs.join(', ')}] and d)(${dict})` : dict;
}

/** Python: `to_json(x)` turns torch's values into the tagged JSON fromTagged reads. */
export const TO_JSON = `
import json, collections, torch
def tag(x):
    if torch.is_tensor(x):
        return {"__tensor__": str(x.dtype).replace("torch.", ""), "shape": list(x.shape), "data": x.double().flatten().tolist()}
    if isinstance(x, bool) or x is None or isinstance(x, str): return x
    if isinstance(x, int): return {"__int__": str(x)}
    if isinstance(x, float): return {"__float__": repr(x)}
    if isinstance(x, tuple): return {"__tuple__": [tag(i) for i in x]}
    if isinstance(x, list): return [tag(i) for i in x]
    if isinstance(x, dict): return {"__dict__": [[{"__int__": str(k)} if isinstance(k, int) else k, tag(v)] for k, v in x.items()], "ordered": isinstance(x, collections.OrderedDict)}
    return {"__repr__": repr(x)}
def to_json(x): return json.dumps(tag(x))
`;

type Tagged = null | boolean | string | Tagged[] | { [k: string]: unknown };

/** A value tagged by TO_JSON as a PyValue (objects of no PyValue kind, such as a bound method, become their repr string). */
export function fromTagged(t: Tagged): PyValue {
  if (t === null || typeof t === 'boolean' || typeof t === 'string') return t;
  if (Array.isArray(t)) return t.map(fromTagged);
  if ('__int__' in t) return BigInt(t.__int__ as string);
  if ('__float__' in t) return Number(t.__float__ as string);
  if ('__tuple__' in t) return pyTuple(...(t.__tuple__ as Tagged[]).map(fromTagged));
  if ('__repr__' in t) return `<${t.__repr__ as string}>`;
  if ('__tensor__' in t) {
    const dtype = t.__tensor__ === 'int64' ? 'int64' : 'float32';
    return { kind: 'tensor', dtype, shape: t.shape as number[], data: Float32Array.from(t.data as number[]) };
  }
  const entries = (t.__dict__ as [Tagged, Tagged][]).map(([k, v]): [PyKey, PyValue] => [typeof k === 'string' ? k : BigInt((k as { __int__: string }).__int__), fromTagged(v)]);
  return pyDict(entries, t.ordered as boolean);
}

/** Runs a Python script (TO_JSON is defined); its last stdout line is tagged JSON, returned as a PyValue. */
export function runPython(script: string): PyValue {
  const r = spawnSync(PYTHON, ['-c', `${TO_JSON}\n${script}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return fromTagged(JSON.parse(lines[lines.length - 1]) as Tagged);
}
