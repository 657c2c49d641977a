#!/usr/bin/python3
"""Per-layer and optimizer/scheduler golden files from PyTorch for test/parity/layers.test.ts.

Regenerate (PyTorch 1.13, Debian's python; NOT the python3 on PATH):

    /usr/bin/python3 test/parity/gen_golden_layers.py

Writes test/parity/golden_layers/{layers,optim}.safetensors plus golden_layers/manifest.json.
Deterministic (torch.manual_seed per case, one thread); committed, so the tests need no Python.
The safetensors writer is gen_golden.py's (Writer); the layout is the same F32/I32/F64 one.

1. Layer cases (helper_test_op style: one `case(...)` line each). Every case is a Netloom graph
   document (nodes/edges, stored whole in the manifest so the TS side compiles exactly it):
   Input(shape) -> layer(s) [-> Flatten] -> loss; the same document is executed in torch by
   GraphModule below (one torch module per node, registered under the node's name, so the
   state-dict keys are Netloom's). Tensors per case, prefixed `<case>/`:
       x [n, *shape], labels [n] I32, init/<key> (every state-dict entry, buffers included),
       logits (the loss node's first input), loss, grad/input (d loss / d x), grad/<key>
       (learnable parameters), after/<key> (buffers after the train-mode forward: running stats,
       num_batches_tracked), eval/logits and eval/loss (eval-mode forward after that step; BatchNorm).
   manifest.cases[<case>].err64 holds, per tensor, max|torch_f32 - torch_f64| / max|torch_f64|:
   torch's own float32 rounding error on that case, which justifies the tolerances the test uses.

2. Optimizer and scheduler runs (`opt_run(...)` lines): the model OPT_GRAPH (Linear -> Tanh
   -> BatchNorm1d -> Linear, state-dict keys fc1/bn/fc2) trained STEPS steps on STEPS fixed batches with
   torch.optim.<X>(foreach=False) (+ clip_grad_norm_, + an lr_scheduler stepped per epoch of
   EPOCH_STEPS batches or per batch). Tensors, prefixed `opt/`: x [STEPS, n, 6], labels, init/<key>;
   per run `<run>/losses` [STEPS], `<run>/lrs` [STEPS] F64 (param_groups[0]['lr'] used by each step),
   `<run>/param/<key>` and `<run>/state/<key>/<torch state name>` after the last step.

The Dropout module applies Netloom's own counter-based masks (NetloomDropout, a bit-exact numpy port
of native/core/kernels/dropout.cpp); gen_curves.py imports it and GraphModule from here.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import Writer  # noqa: E402  (same safetensors layout as the MLP golden files)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'golden_layers')
STEPS = 10
EPOCH_STEPS = 2

# ------------------------------------------------------------------------------------------------
# Netloom's dropout mask (native/core/kernels/dropout.cpp + runtime.cpp), bit-exact

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    """splitmix64 finaliser on a uint64 numpy array (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_mask(seed, salt, step, count, p):
    """The float32 mask Netloom's DROPOUT_FORWARD uses for `count` elements (rows x features, flat):
    node seed = seed ^ (GOLDEN * (salt + 1)) (salt = 1-based index of the Dropout among the graph's
    Dropouts in lowering order), key = mix64(seed + GOLDEN) ^ mix64((step + 1) * 0xD1B54A32D192ED03),
    u_i = (mix64(key + (i + 1) * GOLDEN) >> 40) * 2^-24, mask_i = u_i >= p ? 1/(1-p) : 0 (float32)."""
    with np.errstate(over='ignore'):
        node_seed = (seed ^ ((GOLDEN * (salt + 1)) & M64)) & M64
        key = int(_mix64(np.array([(node_seed + GOLDEN) & M64], dtype=np.uint64))[0]) ^ \
            int(_mix64(np.array([((step + 1) * 0xD1B54A32D192ED03) & M64], dtype=np.uint64))[0])
        i = np.arange(1, count + 1, dtype=np.uint64)
        h = _mix64(np.uint64(key) + i * np.uint64(GOLDEN))
    u = (h >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    pf = np.float32(p)
    scale = np.float32(1.0) / (np.float32(1.0) - pf) if pf < 1 else np.float32(0.0)
    return np.where(u >= pf, scale, np.float32(0.0)).astype(np.float32)


class NetloomDropout(nn.Module):
    """nn.Dropout with Netloom's masks: the runtime's seed, this node's salt and the step counter
    (the session's `steps` before the step; the caller sets .step)."""

    def __init__(self, p, salt, seed=0):
        super().__init__()
        self.p, self.salt, self.seed, self.step = p, salt, seed, 0

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        m = dropout_mask(self.seed, self.salt, self.step, x.numel(), self.p)
        return x * torch.from_numpy(m).to(x.dtype).reshape(x.shape)


# ------------------------------------------------------------------------------------------------
# A Netloom graph document executed by torch

def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def full_names(graph):
    """The graph with every node under its full module path (engine/graph/groups.ts's rules for groups
    without repeats, and repeat 1: `layer1.0.conv1`). A repeat of more copies is refused: the parity
    templates don't use one, and its chaining lives in groups.ts (checked by the unit tests there)."""
    groups = {g['id']: g for g in graph.get('groups') or []}

    def prefix(gid):
        g = groups[gid]
        if g.get('repeat', 1) > 1:
            raise ValueError(f"group {g['name']}: repeat {g['repeat']} is not supported here")
        own = g['name'] + ('.0' if 'repeat' in g else '')
        return (prefix(g['parent']) + '.' if g.get('parent') else '') + own

    nodes = [dict(n, name=prefix(n['group']) + '.' + n['name']) if n.get('group') else n for n in graph['nodes']]
    return {'nodes': nodes, 'edges': graph['edges']}


def topo(graph):
    """Nodes in Netloom's order (analyze.ts: Kahn over edges, inputs ordered by port)."""
    nodes = {n['id']: n for n in graph['nodes']}
    inputs = {i: [] for i in nodes}
    for k, e in enumerate(graph['edges']):
        h = e.get('targetHandle')
        if h == 'target':
            rank = 1e9 + k
        elif h and h[-1].isdigit():
            import re
            rank = int(re.search(r'(\d+)$', h).group(1)) * 1e6 + k
        else:
            rank = k
        inputs[e['target']].append((rank, e['source']))
    inputs = {i: [s for _, s in sorted(v)] for i, v in inputs.items()}
    indeg = {i: len(v) for i, v in inputs.items()}
    consumers = {i: [] for i in nodes}
    for e in graph['edges']:
        consumers[e['source']].append(e['target'])
    queue = [i for i in nodes if indeg[i] == 0]
    order = []
    while queue:
        i = queue.pop(0)
        order.append(i)
        for c in consumers[i]:
            indeg[c] -= 1
            if indeg[c] == 0:
                queue.append(c)
    return [nodes[i] for i in order], inputs


LOSSES = {'CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss'}


def make_module(t, p, shapes, salt, seed):
    """torch module for a Netloom node of type t with params p; shapes = per-sample input shapes."""
    s = shapes[0] if shapes else None
    if t == 'Linear':
        return nn.Linear(s[0], p['out_features'], bias=p.get('bias', True))
    if t in ('Conv2d', 'Conv1d'):
        C = nn.Conv2d if t == 'Conv2d' else nn.Conv1d
        return C(s[0], p['out_channels'], p['kernel_size'], stride=p.get('stride', 1), padding=p.get('padding', 0),
                 dilation=p.get('dilation', 1), groups=p.get('groups', 1), bias=p.get('bias', True))
    if t == 'ConvTranspose2d':
        return nn.ConvTranspose2d(s[0], p['out_channels'], p['kernel_size'], stride=p.get('stride', 1), padding=p.get('padding', 0),
                                  output_padding=p.get('output_padding', 0), groups=p.get('groups', 1), bias=p.get('bias', True),
                                  dilation=p.get('dilation', 1))
    if t == 'MaxPool2d':
        return nn.MaxPool2d(p['kernel_size'], stride=p.get('stride'), padding=p.get('padding', 0), dilation=p.get('dilation', 1),
                            ceil_mode=p.get('ceil_mode', False))
    if t == 'AvgPool2d':
        return nn.AvgPool2d(p['kernel_size'], stride=p.get('stride'), padding=p.get('padding', 0), ceil_mode=p.get('ceil_mode', False),
                            count_include_pad=p.get('count_include_pad', True), divisor_override=p.get('divisor_override'))
    if t == 'AdaptiveAvgPool2d':
        o = p['output_size']
        return nn.AdaptiveAvgPool2d(tuple(o) if isinstance(o, list) else o)
    if t in ('BatchNorm1d', 'BatchNorm2d'):
        C = nn.BatchNorm1d if t == 'BatchNorm1d' else nn.BatchNorm2d
        return C(s[0], eps=p.get('eps', 1e-5), momentum=p.get('momentum', 0.1), affine=p.get('affine', True),
                 track_running_stats=p.get('track_running_stats', True))
    if t == 'LayerNorm':
        ns = p.get('normalized_shape', 'auto')
        ns = [s[-1]] if ns == 'auto' else ns
        return nn.LayerNorm(ns, eps=p.get('eps', 1e-5), elementwise_affine=p.get('elementwise_affine', True))
    if t == 'Dropout':
        return NetloomDropout(p.get('p', 0.5), salt, seed)
    simple = {'ReLU': nn.ReLU, 'SiLU': nn.SiLU, 'Sigmoid': nn.Sigmoid, 'Tanh': nn.Tanh, 'Identity': nn.Identity}
    if t in simple:
        return simple[t]()
    if t == 'LeakyReLU':
        return nn.LeakyReLU(p.get('negative_slope', 0.01))
    if t == 'ELU':
        return nn.ELU(p.get('alpha', 1.0))
    if t == 'GELU':
        return nn.GELU(approximate=p.get('approximate', 'none'))
    if t == 'Softmax':
        return nn.Softmax(p.get('dim', 1))
    if t == 'LogSoftmax':
        return nn.LogSoftmax(p.get('dim', 1))
    if t == 'Flatten':
        return nn.Flatten(p.get('start_dim', 1), p.get('end_dim', -1))
    raise ValueError(f'no torch module for {t}')


def set_submodule(root, name, m):
    parts = name.split('.')
    for part in parts[:-1]:
        if not hasattr(root, part):
            root.add_module(part, nn.Module())
        root = getattr(root, part)
    root.add_module(parts[-1], m)


class GraphModule(nn.Module):
    """Runs a Netloom graph document: forward(x, labels) -> (loss, logits = the loss's first input).
    Modules with state are registered under the node's name (nested for dotted names), so
    state_dict() keys equal Netloom's `<name>.<tensor>` keys."""

    def __init__(self, graph, seed=0):
        super().__init__()
        graph = full_names(graph)
        self.order, self.inputs = topo(graph)
        self.mods = {}
        shapes = {}
        salt = 0
        for n in self.order:
            t, p, i = n['type'], n.get('params', {}), n['id']
            ins = [shapes[j] for j in self.inputs[i]]
            if t == 'Input':
                shapes[i] = tuple(p['shape'])
                continue
            if t in LOSSES:
                self.loss_node = n
                continue
            if t == 'Dropout':
                salt += 1
            if t == 'Reshape':
                numel = int(np.prod(ins[0]))
                shp = list(p['shape'])
                if -1 in shp:
                    shp[shp.index(-1)] = numel // -int(np.prod(shp))
                shapes[i] = tuple(shp)
                continue
            if t == 'Add':
                shapes[i] = ins[0]
                continue
            if t == 'Concat':
                d = p.get('dim', 1)
                ax = (d if d > 0 else d + len(ins[0]) + 1) - 1
                out = list(ins[0])
                out[ax] = sum(s[ax] for s in ins)
                shapes[i] = tuple(out)
                continue
            m = make_module(t, p, ins, salt, seed)
            self.mods[i] = m
            if any(True for _ in m.parameters()) or any(True for _ in m.buffers()) or True:
                set_submodule(self, n['name'], m)
            with torch.no_grad():
                was = m.training
                m.eval()
                shapes[i] = tuple(m(torch.zeros(2, *ins[0])).shape[1:])
                m.train(was)
        self.shapes = shapes

    def dropouts(self):
        return [m for m in self.mods.values() if isinstance(m, NetloomDropout)]

    def forward(self, x, labels):
        vals = {}
        for n in self.order:
            t, p, i = n['type'], n.get('params', {}), n['id']
            ins = [vals[j] for j in self.inputs[i]]
            if t == 'Input':
                vals[i] = x
            elif t in LOSSES:
                return self.loss(t, p, ins, labels), ins[0]
            elif t == 'Reshape':
                vals[i] = ins[0].reshape(ins[0].shape[0], *self.shapes[i])
            elif t == 'Add':
                out = ins[0]
                for v in ins[1:]:
                    out = out + v
                vals[i] = out
            elif t == 'Concat':
                vals[i] = torch.cat(ins, dim=p.get('dim', 1))
            else:
                vals[i] = self.mods[i](ins[0])
        raise ValueError('graph has no loss')

    @staticmethod
    def loss(t, p, ins, labels):
        pred = ins[0]
        red = p.get('reduction', 'mean')
        if t in ('CrossEntropyLoss', 'NLLLoss'):
            w = p.get('weight')
            w = torch.tensor(w, dtype=pred.dtype) if w is not None else None
            if t == 'CrossEntropyLoss':
                return F.cross_entropy(pred, labels, weight=w, ignore_index=p.get('ignore_index', -100), reduction=red,
                                       label_smoothing=p.get('label_smoothing', 0.0))
            return F.nll_loss(pred, labels, weight=w, ignore_index=p.get('ignore_index', -100), reduction=red)
        target = ins[1] if len(ins) > 1 else F.one_hot(labels, pred.shape[1]).to(pred.dtype)
        if t == 'MSELoss':
            return F.mse_loss(pred, target, reduction=red)
        if t == 'L1Loss':
            return F.l1_loss(pred, target, reduction=red)
        if t == 'SmoothL1Loss':
            return F.smooth_l1_loss(pred, target, reduction=red, beta=p.get('beta', 1.0))
        return F.binary_cross_entropy_with_logits(pred, target, reduction=red)


# ------------------------------------------------------------------------------------------------
# Graph documents

def chain(input_shape, layers, loss=('CrossEntropyLoss', {}), flatten=None):
    """Input(input_shape) -> layers (each (type, params) or (type, params, name)) [-> Flatten] -> loss.
    A Flatten is appended when the last output is not flat and the loss is a class loss (flatten=None)."""
    nodes = [{'id': 'input', 'type': 'Input', 'name': 'input', 'params': {'shape': list(input_shape)}}]
    for k, l in enumerate(layers):
        t, p = l[0], l[1]
        name = l[2] if len(l) > 2 else ('layer' if len(layers) == 1 else f'layer{k}')
        nodes.append({'id': f'n{k}', 'type': t, 'name': name, 'params': p})
    g = {'nodes': nodes, 'edges': [{'id': f'e{k}', 'source': nodes[k]['id'], 'target': nodes[k + 1]['id']} for k in range(len(nodes) - 1)]}
    if flatten is None:
        flatten = len(GraphModule({'nodes': nodes, 'edges': g['edges']}).shapes[nodes[-1]['id']]) > 1
    if flatten:
        add(g, {'id': 'flat', 'type': 'Flatten', 'name': 'flatten', 'params': {}}, [nodes[-1]['id']])
    add(g, {'id': 'loss', 'type': loss[0], 'name': 'loss_fn', 'params': loss[1]}, [g['nodes'][-1]['id']])
    return g


def add(g, node, sources, handles=None):
    g['nodes'].append(node)
    for k, s in enumerate(sources):
        e = {'id': f'e{len(g["edges"])}', 'source': s, 'target': node['id']}
        if handles and handles[k]:
            e['targetHandle'] = handles[k]
        g['edges'].append(e)
    return g


def dag(input_shape, nodes, loss=('CrossEntropyLoss', {}), loss_inputs=None, flatten_last=True):
    """nodes: (id, type, params, [source ids], [handles]?); the loss reads the last node (+ a target)."""
    g = {'nodes': [{'id': 'input', 'type': 'Input', 'name': 'input', 'params': {'shape': list(input_shape)}}], 'edges': []}
    for n in nodes:
        add(g, {'id': n[0], 'type': n[1], 'name': n[0], 'params': n[2]}, n[3], n[4] if len(n) > 4 else None)
    last = g['nodes'][-1]['id']
    if flatten_last and loss[0] in ('CrossEntropyLoss', 'NLLLoss'):
        add(g, {'id': 'flat', 'type': 'Flatten', 'name': 'flatten', 'params': {}}, [last])
        last = 'flat'
    srcs = loss_inputs or [last]
    add(g, {'id': 'loss', 'type': loss[0], 'name': 'loss_fn', 'params': loss[1]}, srcs, [None, 'target'][:len(srcs)])
    return g


# ------------------------------------------------------------------------------------------------
# Cases

CASES = []


def case(name, graph, batch=3, x_scale=1.0, labels=None, randomize_affine=True, nbt=0, positive=False, seed=None):
    CASES.append(dict(name=name, graph=graph, batch=batch, x_scale=x_scale, labels=labels, randomize_affine=randomize_affine,
                      nbt=nbt, positive=positive, seed=seed))


def L(shape, t, p, **kw):
    """A one-layer case graph: Input(shape) -> t(p) [-> Flatten] -> CrossEntropyLoss."""
    return chain(shape, [(t, p)], **kw)


CE = 'CrossEntropyLoss'
# Linear
case('linear_b1', L([7], 'Linear', {'out_features': 4}), batch=1)
case('linear_nobias_b3', L([7], 'Linear', {'out_features': 5, 'bias': False}))
# Conv2d
case('conv2d_k3x5_b3', L([2, 7, 9], 'Conv2d', {'out_channels': 3, 'kernel_size': [3, 5]}))
case('conv2d_k3x5_b1', L([2, 7, 9], 'Conv2d', {'out_channels': 3, 'kernel_size': [3, 5]}), batch=1)
case('conv2d_s2_p1', L([2, 8, 7], 'Conv2d', {'out_channels': 4, 'kernel_size': 3, 'stride': 2, 'padding': 1}))
case('conv2d_s2x1_p2x0', L([3, 9, 8], 'Conv2d', {'out_channels': 2, 'kernel_size': [2, 3], 'stride': [2, 1], 'padding': [2, 0]}))
case('conv2d_same_even_k4x2', L([2, 6, 7], 'Conv2d', {'out_channels': 3, 'kernel_size': [4, 2], 'padding': 'same'}))
case('conv2d_same_k2_dil2', L([2, 6, 5], 'Conv2d', {'out_channels': 2, 'kernel_size': [2, 3], 'dilation': 2, 'padding': 'same'}))
case('conv2d_valid', L([2, 6, 5], 'Conv2d', {'out_channels': 2, 'kernel_size': 2, 'padding': 'valid'}))
case('conv2d_dil2_s1x2_p2x1', L([2, 9, 9], 'Conv2d', {'out_channels': 3, 'kernel_size': 3, 'dilation': 2, 'stride': [1, 2], 'padding': [2, 1]}))
case('conv2d_groups2', L([4, 6, 6], 'Conv2d', {'out_channels': 6, 'kernel_size': 3, 'padding': 1, 'groups': 2}))
case('conv2d_depthwise_s2', L([3, 7, 6], 'Conv2d', {'out_channels': 6, 'kernel_size': 3, 'stride': 2, 'groups': 3}))
case('conv2d_depthwise_b1', L([4, 5, 5], 'Conv2d', {'out_channels': 4, 'kernel_size': [3, 2], 'padding': 1, 'groups': 4, 'bias': False}), batch=1)
case('conv2d_1x1_s2_nobias', L([3, 7, 7], 'Conv2d', {'out_channels': 5, 'kernel_size': 1, 'stride': 2, 'bias': False}))
# Conv1d
case('conv1d_k4_s2_p1', L([3, 11], 'Conv1d', {'out_channels': 4, 'kernel_size': 4, 'stride': 2, 'padding': 1}))
case('conv1d_same_even_dil2_g2', L([4, 10], 'Conv1d', {'out_channels': 6, 'kernel_size': 4, 'dilation': 2, 'padding': 'same', 'groups': 2}))
case('conv1d_b1_nobias', L([2, 6], 'Conv1d', {'out_channels': 3, 'kernel_size': 3, 'bias': False}), batch=1)
# ConvTranspose2d
case('convT_k3_s2_p1_op1', L([3, 4, 5], 'ConvTranspose2d', {'out_channels': 2, 'kernel_size': 3, 'stride': 2, 'padding': 1, 'output_padding': 1}))
case('convT_k3x5_g2_dil', L([4, 3, 4], 'ConvTranspose2d', {'out_channels': 6, 'kernel_size': [3, 5], 'stride': [2, 1], 'padding': [1, 2],
                                                          'output_padding': [1, 0], 'groups': 2, 'dilation': [1, 2]}))
case('convT_k2_s2_b1_nobias', L([2, 3, 3], 'ConvTranspose2d', {'out_channels': 3, 'kernel_size': 2, 'stride': 2, 'bias': False}), batch=1)
# Pools
case('maxpool_k2_odd', L([2, 6, 7], 'MaxPool2d', {'kernel_size': 2}))
case('maxpool_k3_s2_p1_ceil', L([2, 7, 8], 'MaxPool2d', {'kernel_size': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True}))
case('maxpool_k3x2_dil2_p1', L([2, 9, 8], 'MaxPool2d', {'kernel_size': [3, 2], 'stride': [2, 1], 'padding': 1, 'dilation': 2}))
case('avgpool_k3_s2_p1', L([2, 7, 8], 'AvgPool2d', {'kernel_size': 3, 'stride': 2, 'padding': 1}))
case('avgpool_ceil_nocount', L([2, 7, 8], 'AvgPool2d', {'kernel_size': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True, 'count_include_pad': False}))
case('avgpool_divisor_override', L([2, 6, 7], 'AvgPool2d', {'kernel_size': [2, 3], 'padding': 1, 'divisor_override': 5}))
case('adaptive_avg_1', L([3, 5, 7], 'AdaptiveAvgPool2d', {'output_size': 1}))
case('adaptive_avg_3x4', L([2, 7, 9], 'AdaptiveAvgPool2d', {'output_size': [3, 4]}))
case('adaptive_avg_none_x3', L([2, 5, 7], 'AdaptiveAvgPool2d', {'output_size': [None, 3]}))
# Normalization
case('bn2d_train', L([3, 4, 5], 'BatchNorm2d', {}))
case('bn2d_momentum_none', L([3, 4, 5], 'BatchNorm2d', {'momentum': None}), nbt=3)
case('bn2d_b1', L([2, 3, 4], 'BatchNorm2d', {'momentum': 0.3, 'eps': 1e-3}), batch=1)
case('bn2d_noaffine', L([3, 4, 5], 'BatchNorm2d', {'affine': False}))
case('bn2d_no_running_stats', L([3, 4, 5], 'BatchNorm2d', {'track_running_stats': False}))
case('bn1d_flat', L([5], 'BatchNorm1d', {}))
case('bn1d_seq', L([4, 6], 'BatchNorm1d', {'momentum': None}), batch=2)
case('layernorm_last', L([4, 6], 'LayerNorm', {}))
case('layernorm_2dims', L([3, 4, 5], 'LayerNorm', {'normalized_shape': [4, 5]}))
case('layernorm_noaffine', L([3, 4, 5], 'LayerNorm', {'normalized_shape': 5, 'elementwise_affine': False, 'eps': 1e-3}))
case('layernorm_2dims_noaffine_b1', L([3, 4, 5], 'LayerNorm', {'normalized_shape': [4, 5], 'elementwise_affine': False}), batch=1)
# Activations (x ~ 2 N(0,1): both sides of every kink)
for t, p in [('ReLU', {}), ('LeakyReLU', {'negative_slope': 0.2}), ('ELU', {'alpha': 0.7}), ('GELU', {}), ('GELU', {'approximate': 'tanh'}),
             ('SiLU', {}), ('Sigmoid', {}), ('Tanh', {})]:
    case(f'{t.lower()}{"_tanh" if p.get("approximate") else ""}', L([3, 7], t, p), x_scale=2.0)
case('softmax_dim1_3d', L([4, 5], 'Softmax', {'dim': 1}), x_scale=2.0)
case('softmax_dim-1_3d', L([4, 5], 'Softmax', {'dim': -1}), x_scale=2.0)
case('logsoftmax_dim1_3d', L([4, 5], 'LogSoftmax', {'dim': 1}), x_scale=2.0)
case('logsoftmax_dim-1_3d', L([4, 5], 'LogSoftmax', {'dim': -1}), x_scale=2.0)
case('softmax_dim2_4d', L([3, 4, 5], 'Softmax', {'dim': 2}), x_scale=2.0)
# Structure
case('flatten_2_3_then_layernorm', chain([3, 4, 5], [('Flatten', {'start_dim': 2, 'end_dim': 3}), ('LayerNorm', {})]))
case('reshape_layernorm', chain([2, 3, 4], [('Reshape', {'shape': [4, -1]}), ('LayerNorm', {})]))
case('identity_linear', chain([5], [('Identity', {}), ('Linear', {'out_features': 3})]))
case('add_fanout_same_input', dag([6], [('add', 'Add', {}, ['input', 'input']), ('fc', 'Linear', {'out_features': 4}, ['add'])]))
case('add_residual', dag([6], [('fc1', 'Linear', {'out_features': 6}, ['input']), ('add', 'Add', {}, ['fc1', 'input']),
                               ('act', 'Tanh', {}, ['add']), ('add2', 'Add', {}, ['act', 'add', 'fc1'])]))
case('concat3_dim1_channels', dag([2, 4, 5], [('a', 'Conv2d', {'out_channels': 3, 'kernel_size': 3, 'padding': 1}, ['input']),
                                              ('b', 'Conv2d', {'out_channels': 1, 'kernel_size': 1}, ['input']),
                                              ('cat', 'Concat', {'dim': 1}, ['b', 'input', 'a'], ['in2', 'in0', 'in1'])]))
case('concat3_dim2', dag([2, 4, 5], [('t', 'Tanh', {}, ['input']), ('s', 'Sigmoid', {}, ['input']),
                                     ('cat', 'Concat', {'dim': 2}, ['t', 'input', 's'])]))
case('concat_dim-1_flat', dag([5], [('fc', 'Linear', {'out_features': 3}, ['input']), ('cat', 'Concat', {'dim': -1}, ['input', 'fc', 'fc'])]))
# Losses directly on the input (x = the logits / predictions)
case('ce_b3', L([5], 'Identity', {}, flatten=False))
case('ce_b1', chain([5], [], loss=(CE, {})), batch=1)
case('ce_weight', chain([5], [], loss=(CE, {'weight': [0.2, 1.0, 2.5, 0.7, 1.3]})), batch=4)
case('ce_ignore_index', chain([5], [], loss=(CE, {'ignore_index': 2})), batch=4, labels=[2, 0, 4, 2])
case('ce_label_smoothing', chain([5], [], loss=(CE, {'label_smoothing': 0.1})), batch=4)
case('ce_weight_smooth_ignore', chain([5], [], loss=(CE, {'weight': [0.2, 1.0, 2.5, 0.7, 1.3], 'label_smoothing': 0.25, 'ignore_index': 1})),
     batch=4, labels=[1, 3, 0, 2])
case('ce_sum', chain([5], [], loss=(CE, {'reduction': 'sum'})), batch=4)
case('ce_sum_weight_ignore', chain([5], [], loss=(CE, {'reduction': 'sum', 'weight': [0.2, 1.0, 2.5, 0.7, 1.3], 'ignore_index': 0})),
     batch=4, labels=[0, 3, 0, 4])
case('nll', chain([5], [('LogSoftmax', {})], loss=('NLLLoss', {})), batch=4)
case('nll_weight_ignore', chain([5], [('LogSoftmax', {})], loss=('NLLLoss', {'weight': [0.2, 1.0, 2.5, 0.7, 1.3], 'ignore_index': 3})),
     batch=4, labels=[3, 1, 2, 4])
case('nll_sum_raw', chain([5], [], loss=('NLLLoss', {'reduction': 'sum'})), batch=3)
for t, extra in [('MSELoss', {}), ('L1Loss', {}), ('SmoothL1Loss', {}), ('SmoothL1Loss', {'beta': 0.5}), ('SmoothL1Loss', {'beta': 0.0}),
                 ('BCEWithLogitsLoss', {})]:
    tag = t.replace('Loss', '').lower() + (f'_beta{extra["beta"]}' if 'beta' in extra else '')
    # one-hot labels as targets
    case(f'{tag}_onehot', chain([5], [], loss=(t, extra)), batch=3)
    case(f'{tag}_onehot_sum', chain([5], [], loss=(t, {**extra, 'reduction': 'sum'})), batch=2)
    # a target tensor computed from the input (gradient flows into both operands, as in torch)
    case(f'{tag}_target', dag([6], [('pred', 'Linear', {'out_features': 6}, ['input']), ('tgt', 'Sigmoid', {}, ['input'])],
                              loss=(t, extra), loss_inputs=['pred', 'tgt']), batch=3)
case('mse_target_sum_4d', dag([2, 3, 4], [('pred', 'Conv2d', {'out_channels': 2, 'kernel_size': 3, 'padding': 1}, ['input'])],
                              loss=('MSELoss', {'reduction': 'sum'}), loss_inputs=['pred', 'input']), batch=2)
# Dropout with Netloom's masks (exact); statistics are checked in layers.test.ts
case('dropout_netloom_mask', chain([37], [('Dropout', {'p': 0.3}), ('Linear', {'out_features': 4})]), seed=12345)
case('dropout_two_nodes', chain([9], [('Dropout', {'p': 0.5}), ('Linear', {'out_features': 9}), ('Dropout', {'p': 0.2}), ('Linear', {'out_features': 3})]),
     seed=987654321987)

# ------------------------------------------------------------------------------------------------


def randomize(model, nbt):
    """BatchNorm/LayerNorm: non-trivial affine parameters and running statistics."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
                if getattr(m, 'weight', None) is not None:
                    m.weight.copy_(1 + 0.5 * torch.randn_like(m.weight))
                    m.bias.copy_(0.3 * torch.randn_like(m.bias))
                if getattr(m, 'running_mean', None) is not None:
                    m.running_mean.copy_(0.2 * torch.randn_like(m.running_mean))
                    m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
                    m.num_batches_tracked.fill_(nbt)


def run_layer_case(model, x, labels):
    """Train-mode forward + backward, then an eval-mode forward. Returns name -> tensor."""
    out = {}
    xr = x.clone().requires_grad_(True)
    model.train()
    model.zero_grad()
    loss, logits = model(xr, labels)
    loss.backward()
    out['logits'] = logits.detach().clone()
    out['loss'] = loss.detach().clone()
    out['grad/input'] = xr.grad.clone()
    for k, p in model.named_parameters():
        out[f'grad/{k}'] = p.grad.clone() if p.grad is not None else torch.zeros_like(p)
    params = dict(model.named_parameters())
    for k, v in model.state_dict().items():
        if k not in params:
            out[f'after/{k}'] = v.clone()
    if any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules()):
        model.eval()
        with torch.no_grad():
            loss, logits = model(x, labels)
        out['eval/logits'] = logits.clone()
        out['eval/loss'] = loss.clone()
        model.train()
    return out


def err64(out32, out64):
    e = {}
    for k, v in out32.items():
        if not v.is_floating_point():
            continue
        r = out64[k].double()
        scale = r.abs().max().item() or 1.0
        e[k] = (v.double() - r).abs().max().item() / scale
    return e


def layer_cases(w):
    manifest = {}
    for ci, c in enumerate(CASES):
        torch.manual_seed(1000 + ci)
        seed = c['seed'] if c['seed'] is not None else 0
        model = GraphModule(c['graph'], seed=seed)
        if c['randomize_affine']:
            randomize(model, c['nbt'])
        n = c['batch']
        in_shape = model.shapes['input']
        x = torch.randn(n, *in_shape) * c['x_scale']
        loss_node = model.loss_node
        pred_shape = model.shapes[model.inputs[loss_node['id']][0]]
        classes = int(np.prod(pred_shape))
        labels = torch.tensor(c['labels']) if c['labels'] is not None else torch.randint(0, classes, (n,))
        init = {k: v.clone() for k, v in model.state_dict().items()}
        out32 = run_layer_case(model, x, labels)
        m64 = GraphModule(c['graph'], seed=seed).double()
        m64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in init.items()})
        out64 = run_layer_case(m64, x.double(), labels)
        name = c['name']
        w.add(f'{name}/x', x)
        w.add(f'{name}/labels', labels, np.int32)
        for k, v in init.items():
            w.add(f'{name}/init/{k}', v, np.int32 if not v.is_floating_point() else np.float32)
        for k, v in out32.items():
            w.add(f'{name}/{k}', v, np.int32 if not v.is_floating_point() else np.float32)
        learn = [k for k, _ in model.named_parameters()]
        manifest[name] = {
            'graph': c['graph'], 'batch': n, 'seed': seed, 'keys': list(init), 'learnable': learn,
            'eval': 'eval/logits' in out32, 'err64': {k: float(f'{v:.3g}') for k, v in err64(out32, out64).items()},
        }
    return manifest


# ------------------------------------------------------------------------------------------------
# Optimizers and LR schedulers

# BatchNorm after the Tanh: a bias right before a BatchNorm has an exactly-zero gradient, whose float32
# noise (~1e-8) Adam/RMSprop/Adagrad would normalise into lr-sized steps in different directions.
OPT_GRAPH = chain([6], [('Linear', {'out_features': 5}, 'fc1'), ('Tanh', {}, 'act'), ('BatchNorm1d', {}, 'bn'),
                        ('Linear', {'out_features': 4}, 'fc2')])
OPT_BATCH = 4

OPT_RUNS = []


def opt_run(name, doc, clip=None, sched=None):
    OPT_RUNS.append((name, doc, clip, sched))


# (Netloom optimizer document: torch's class name and keyword arguments)
opt_run('sgd', {'type': 'SGD', 'lr': 0.1})
opt_run('sgd_momentum', {'type': 'SGD', 'lr': 0.1, 'momentum': 0.9})
opt_run('sgd_nesterov_wd', {'type': 'SGD', 'lr': 0.05, 'momentum': 0.8, 'nesterov': True, 'weight_decay': 0.01})
opt_run('sgd_dampening_wd', {'type': 'SGD', 'lr': 0.1, 'momentum': 0.9, 'dampening': 0.3, 'weight_decay': 0.05})
opt_run('sgd_maximize', {'type': 'SGD', 'lr': 0.01, 'momentum': 0.5, 'maximize': True})
opt_run('adam', {'type': 'Adam', 'lr': 0.01})
opt_run('adam_wd_amsgrad', {'type': 'Adam', 'lr': 0.01, 'betas': [0.8, 0.9], 'weight_decay': 0.02, 'amsgrad': True})
opt_run('adamw', {'type': 'AdamW', 'lr': 0.01, 'weight_decay': 0.1})
opt_run('adamw_amsgrad', {'type': 'AdamW', 'lr': 0.02, 'betas': [0.5, 0.6], 'amsgrad': True, 'eps': 1e-6})
opt_run('rmsprop', {'type': 'RMSprop', 'lr': 0.01})
opt_run('rmsprop_centered', {'type': 'RMSprop', 'lr': 0.005, 'centered': True, 'alpha': 0.9})
opt_run('rmsprop_momentum_wd', {'type': 'RMSprop', 'lr': 0.005, 'momentum': 0.7, 'weight_decay': 0.05})
opt_run('rmsprop_centered_momentum', {'type': 'RMSprop', 'lr': 0.002, 'momentum': 0.5, 'centered': True, 'eps': 1e-4})
opt_run('adagrad', {'type': 'Adagrad', 'lr': 0.1})
opt_run('adagrad_lr_decay_init_wd', {'type': 'Adagrad', 'lr': 0.1, 'lr_decay': 0.05, 'initial_accumulator_value': 0.3, 'weight_decay': 0.02})
# clip_grad_norm_ (max_norm well under the gradient norm, so every step clips)
opt_run('sgd_momentum_clip', {'type': 'SGD', 'lr': 0.1, 'momentum': 0.9}, clip=0.05)
opt_run('adam_clip', {'type': 'Adam', 'lr': 0.01}, clip=0.1)
# LR schedulers (Netloom scheduler documents; interval 'epoch' = every EPOCH_STEPS batches)
opt_run('sched_steplr_epoch', {'type': 'SGD', 'lr': 0.2, 'momentum': 0.9}, sched={'type': 'StepLR', 'step_size': 2, 'gamma': 0.5, 'interval': 'epoch'})
opt_run('sched_multisteplr_step', {'type': 'SGD', 'lr': 0.2}, sched={'type': 'MultiStepLR', 'milestones': [3, 7], 'gamma': 0.3, 'interval': 'step'})
opt_run('sched_exponential_step', {'type': 'Adam', 'lr': 0.02}, sched={'type': 'ExponentialLR', 'gamma': 0.8, 'interval': 'step'})
opt_run('sched_cosine_step', {'type': 'SGD', 'lr': 0.2, 'momentum': 0.5}, sched={'type': 'CosineAnnealingLR', 'T_max': 10, 'eta_min': 0.01, 'interval': 'step'})
opt_run('sched_cosine_epoch_past_tmax', {'type': 'AdamW', 'lr': 0.02}, sched={'type': 'CosineAnnealingLR', 'T_max': 3, 'interval': 'epoch'})
opt_run('sched_onecycle_step', {'type': 'SGD', 'lr': 0.1, 'momentum': 0.9},
        sched={'type': 'OneCycleLR', 'max_lr': 0.3, 'total_steps': 10, 'cycle_momentum': False, 'interval': 'step'})
opt_run('sched_onecycle_linear_3phase_adam', {'type': 'Adam', 'lr': 0.01},
        sched={'type': 'OneCycleLR', 'max_lr': 0.05, 'total_steps': 12, 'anneal_strategy': 'linear', 'three_phase': True,
               'cycle_momentum': False, 'interval': 'step'})
opt_run('sched_linearlr_epoch', {'type': 'RMSprop', 'lr': 0.01}, sched={'type': 'LinearLR', 'start_factor': 0.25, 'total_iters': 4, 'interval': 'epoch'})
opt_run('sched_sequential_warmup_cosine_step', {'type': 'SGD', 'lr': 0.2, 'momentum': 0.9},
        sched={'type': 'SequentialLR', 'interval': 'step', 'milestones': [3],
               'schedulers': [{'type': 'LinearLR', 'start_factor': 0.1, 'total_iters': 3}, {'type': 'CosineAnnealingLR', 'T_max': 7}]})


def make_optimizer(doc, params):
    d = dict(doc)
    t = d.pop('type')
    if 'betas' in d:
        d['betas'] = tuple(d['betas'])
    return getattr(torch.optim, t)(params, foreach=False, **d)


def make_scheduler(doc, opt):
    S = torch.optim.lr_scheduler
    d = {k: v for k, v in doc.items() if k not in ('type', 'interval')}
    t = doc['type']
    if t == 'SequentialLR':
        children = [make_scheduler(c, opt) for c in d['schedulers']]
        return S.SequentialLR(opt, children, milestones=d['milestones'])
    return getattr(S, t)(opt, **d)


def run_opt(model, init, xs, ys, doc, clip, sched_doc):
    """STEPS steps from `init`; returns (name -> tensor: losses, lrs, param/<key>, state/<key>/<name>), states."""
    model.load_state_dict(init)
    model.train()
    opt = make_optimizer(doc, model.parameters())
    sched = make_scheduler(sched_doc, opt) if sched_doc else None
    losses, lrs = [], []
    for step in range(STEPS):
        opt.zero_grad()
        loss, _ = model(xs[step], ys[step])
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        losses.append(loss.item())
        if sched is not None and (sched_doc['interval'] == 'step' or (step + 1) % EPOCH_STEPS == 0):
            sched.step()
    out = {'losses': torch.tensor(losses, dtype=xs.dtype), 'lrs': torch.tensor(lrs, dtype=torch.float64)}
    for k, v in model.state_dict().items():
        out[f'param/{k}'] = v.clone()
    pname = {id(p): k for k, p in model.named_parameters()}
    states = {}
    for p, st in opt.state.items():
        for sk, sv in st.items():
            if torch.is_tensor(sv) and sk != 'step':   # 'step' is a count; Netloom keeps one for the session
                out[f'state/{pname[id(p)]}/{sk}'] = sv.clone()
                states.setdefault(pname[id(p)], []).append(sk)
    return out, states


def opt_cases(w):
    torch.manual_seed(7)
    model = GraphModule(OPT_GRAPH)
    randomize(model, 0)
    xs = torch.randn(STEPS, OPT_BATCH, 6) * 1.5
    ys = torch.randint(0, 4, (STEPS, OPT_BATCH))
    init = {k: v.clone() for k, v in model.state_dict().items()}
    w.add('opt/x', xs)
    w.add('opt/labels', ys, np.int32)
    for k, v in init.items():
        w.add(f'opt/init/{k}', v, np.float32 if v.is_floating_point() else np.int32)
    runs = {}
    m64 = GraphModule(OPT_GRAPH).double()
    init64 = {k: v.double() if v.is_floating_point() else v for k, v in init.items()}
    for name, doc, clip, sched_doc in OPT_RUNS:
        out, states = run_opt(model, init, xs, ys, doc, clip, sched_doc)
        out64, _ = run_opt(m64, init64, xs.double(), ys, doc, clip, sched_doc)
        for k, v in out.items():
            w.add(f'{name}/{k}', v, np.float64 if k == 'lrs' else np.float32 if v.is_floating_point() else np.int32)
        runs[name] = {'optimizer': doc, 'clip_grad_norm': clip, 'scheduler': sched_doc, 'states': states,
                      'err64': {k: float(f'{v:.3g}') for k, v in err64({k: v for k, v in out.items() if k != 'lrs'}, out64).items()}}
    return {'graph': OPT_GRAPH, 'batch': OPT_BATCH, 'steps': STEPS, 'epoch_steps': EPOCH_STEPS, 'keys': list(init),
            'learnable': [k for k, _ in model.named_parameters()], 'runs': runs}


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith('.safetensors'):
            os.remove(os.path.join(OUT, f))
    meta = {'generator': 'test/parity/gen_golden_layers.py'}
    w = Writer()
    cases = layer_cases(w)
    size_layers = w.save(os.path.join(OUT, 'layers.safetensors'), meta)
    w = Writer()
    opt = opt_cases(w)
    size_opt = w.save(os.path.join(OUT, 'optim.safetensors'), meta)
    manifest = {
        'generator': 'test/parity/gen_golden_layers.py (regenerate: /usr/bin/python3 test/parity/gen_golden_layers.py)',
        'torch': torch.__version__,
        'files': {'layers': 'layers.safetensors', 'optim': 'optim.safetensors'},
        'cases': cases,
        'optim': opt,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    print(f'wrote {len(cases)} layer cases ({size_layers} bytes) and {len(opt["runs"])} optimizer runs ({size_opt} bytes) to {OUT}',
          file=sys.stderr)


if __name__ == '__main__':
    main()
