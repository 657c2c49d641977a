#!/usr/bin/python3
"""Golden files from PyTorch for test/parity/csv.test.ts: training on CSV data, end to end.

Regenerate (PyTorch 1.13, Debian's python; NOT the python3 on PATH):

    /usr/bin/python3 test/parity/gen_csv.py

Writes test/parity/golden_csv/<case>.safetensors, golden_csv/regression.csv (the generated data of
the regression case) and golden_csv/manifest.json. Deterministic; the files are committed, so the
parity test needs no Python.

What it pins down is the path a CSV takes through Netloom: parse -> standardise -> the session's
float dataset -> the native gather of features and (regression) targets, batch by batch -> one
epoch of training. Each case reads a CSV the way engine/data/csv.ts does with no validation split
(every row is a training row, in file order):

  - features are the file's decimal numbers in float64; per-feature mean and population std
    (ddof=0) over all rows, summed row by row in file order (as csv.ts does, so every bit agrees);
    x = float32((v - mean) / std), computed in float64;
  - classification labels: the distinct label strings, sorted (csv.ts's order for these names), as
    class indices; regression targets: the label column's numbers as float32, not standardised;

then trains the case's graph (gen_golden_layers.GraphModule: one torch module per node, so the
state-dict keys are Netloom's) for one epoch: batch 16, no shuffle, the last batch short, with the
case's optimizer (torch.optim, foreach=False). A point loss with no target edge compares with the
regression targets, as Netloom's lowering does for a regression CSV. Initial weights come from
gen_golden.hash_init (seed = 1-based index of the key in the state dict, fan_in = weight.shape[1]),
which the test reproduces bit for bit.

Cases:
  iris-mlp     assets/samples/iris.csv with assets/templates/iris-mlp.json's own graph and optimizer
               (this is that template's parity check; gen_curves.py covers the image templates)
  regression   golden_csv/regression.csv (generated here: y = 1.5 a - 0.02 b + 4 c + 3 + noise, the
               features on very different scales) through Linear(3, 8) -> ReLU -> Linear(8, 1) ->
               MSELoss, SGD with momentum

Each file holds (safetensors layout, like gen_golden.py's):

    x                     [rows, features] F32   the standardised features
    y                     [rows]           I32   class indices (classification)
                          [rows, 1]        F32   targets (regression)
    losses                [batches]        F32   the loss of each batch's forward pass, before its step
    final/<key>                            F32   the parameters after the epoch
"""
import csv
import json
import math
import os
import random
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_golden import Writer, hash_init  # noqa: E402
from gen_golden_layers import GraphModule, make_optimizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, 'golden_csv')
BATCH = 16


class CsvGraph(GraphModule):
    """GraphModule whose point losses, when nothing is connected to their target port, compare with
    the dataset's float regression targets (passed where class labels would be)."""

    @staticmethod
    def loss(t, p, ins, labels):
        if len(ins) == 1 and labels.is_floating_point():
            ins = [ins[0], labels]
        return GraphModule.loss(t, p, ins, labels)


def read_csv(path, label, task):
    """(features float64 [rows, f], feature names, y) the way csv.ts reads a plain comma-separated file."""
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    li = header.index(label)
    names = [h for i, h in enumerate(header) if i != li]
    x = np.array([[float(v) for i, v in enumerate(r) if i != li] for r in body], dtype=np.float64)
    if task == 'classification':
        classes = sorted({r[li].strip() for r in body})
        y = np.array([classes.index(r[li].strip()) for r in body], dtype=np.int64)
    else:
        classes = None
        y = np.array([[float(r[li])] for r in body], dtype=np.float64)
    return x, names, y, classes


def standardise(x):
    """csv.ts's statistics: sequential float64 sums in row order, population std."""
    n, f = x.shape
    out = np.empty((n, f), dtype=np.float32)
    mean, std = [], []
    for j in range(f):
        s = 0.0
        for i in range(n):
            s += float(x[i, j])
        m = s / n
        ss = 0.0
        for i in range(n):
            d = float(x[i, j]) - m
            ss += d * d
        sd = math.sqrt(ss / n)
        mean.append(m)
        std.append(sd)
        for i in range(n):
            out[i, j] = np.float32((float(x[i, j]) - m) / sd)
    return out, mean, std


def init_recipe(model):
    """key -> {'hash': seed, 'fan_in': f}; applied to the model in place (gen_curves.py's rule, Linear only)."""
    recipe = {}
    with torch.no_grad():
        for k, (key, v) in enumerate(model.state_dict().items()):
            owner = key.rsplit('.', 1)[0]
            fan_in = int(model.get_submodule(owner).weight.shape[1])
            recipe[key] = {'hash': k + 1, 'fan_in': fan_in}
            v.copy_(torch.from_numpy(hash_init(k + 1, tuple(v.shape), fan_in)))
    return recipe


def make_regression_csv(path):
    rnd = random.Random(20260505)
    with open(path, 'w', newline='') as f:
        f.write('a,b,c,y\n')
        for _ in range(100):
            a = rnd.uniform(0, 10)
            b = rnd.uniform(-500, 500)
            c = rnd.gauss(0, 0.1)
            y = 1.5 * a - 0.02 * b + 4 * c + 3 + rnd.gauss(0, 0.05)
            f.write(f'{a:.4f},{b:.3f},{c:.5f},{y:.5f}\n')


def chain(shape, layers, loss):
    nodes = [{'id': 'input', 'type': 'Input', 'name': 'input', 'params': {'shape': shape}}]
    for k, (t, name, params) in enumerate(layers):
        nodes.append({'id': f'n{k}', 'type': t, 'name': name, 'params': params})
    nodes.append({'id': 'loss', 'type': loss, 'name': 'loss', 'params': {}})
    edges = [{'id': f'e{k}', 'source': a['id'], 'target': b['id']} for k, (a, b) in enumerate(zip(nodes, nodes[1:]))]
    return {'nodes': nodes, 'edges': edges}


def run_case(name, csv_path, label, task, graph, optimizer):
    x64, names, y, classes = read_csv(os.path.join(ROOT, csv_path), label, task)
    x, mean, std = standardise(x64)
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y) if task == 'classification' else torch.from_numpy(y.astype(np.float32))

    torch.manual_seed(0)
    model = CsvGraph(graph)
    recipe = init_recipe(model)
    model.train()
    opt = make_optimizer(optimizer, model.parameters())
    losses = []
    for start in range(0, len(x), BATCH):
        opt.zero_grad()
        loss, _ = model(xt[start:start + BATCH], yt[start:start + BATCH])
        loss.backward()
        opt.step()
        losses.append(loss.item())

    w = Writer()
    w.add('x', x)
    w.add('y', y if task == 'regression' else y.astype(np.int32), np.float32 if task == 'regression' else np.int32)
    w.add('losses', losses)
    for key, v in model.state_dict().items():
        w.add(f'final/{key}', v)
    size = w.save(os.path.join(OUT, f'{name}.safetensors'), {'case': name, 'generator': 'test/parity/gen_csv.py'})
    print(f'{name}: {len(x)} rows, {len(losses)} batches, loss {losses[0]:.4f} -> {losses[-1]:.4f}', file=sys.stderr)
    return {
        'file': f'{name}.safetensors',
        'csv': csv_path,
        'label': label,
        'task': task,
        'features': names,
        'classes': classes,
        'rows': len(x),
        'batch': BATCH,
        'mean': mean,
        'std': std,
        'graph': graph,
        'optimizer': optimizer,
        'keys': list(recipe),
        'init': recipe,
        'bytes': size,
    }


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    make_regression_csv(os.path.join(OUT, 'regression.csv'))
    iris = json.load(open(os.path.join(ROOT, 'assets', 'templates', 'iris-mlp.json')))
    ds = iris['training']['dataset']
    cases = {
        'iris-mlp': run_case('iris-mlp', 'assets/samples/iris.csv', ds['label'], ds['task'], iris['graph'], iris['training']['optimizer']),
        'regression': run_case(
            'regression', 'test/parity/golden_csv/regression.csv', 'y', 'regression',
            chain([3], [('Linear', 'net.0', {'out_features': 8}), ('ReLU', 'net.1', {}), ('Linear', 'net.2', {'out_features': 1})], 'MSELoss'),
            {'type': 'SGD', 'lr': 0.05, 'momentum': 0.9}),
    }
    manifest = {
        'generator': 'test/parity/gen_csv.py (regenerate: /usr/bin/python3 test/parity/gen_csv.py)',
        'torch': torch.__version__,
        'cases': cases,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
