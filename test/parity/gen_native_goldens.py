#!/usr/bin/python3
"""The PyTorch values pasted into the native tests (test/native/*.cpp, "recorded from PyTorch 1.13"),
computed again, for test/parity/native-goldens.test.ts.

    /usr/bin/python3 test/parity/gen_native_goldens.py    # prints {id: [values]} as JSON

Debian's python with torch 1.13 (NOT the python3 on PATH). The test parses the same constants out of
the .cpp sources and compares them with this output, so a constant edited by hand, or recorded from
another setting than its comment says, fails there. Every value is float32 (written as the exact
double, repr: JSON.parse gets it bit for bit); NaN is written "nan" (JSON has no NaN).

What each id is (the .cpp comments describe the same):
- test_norm_act.cpp: BatchNorm2d(2) on [3,2,2,2], two training steps (bn_x1, bn_x2), backward of the
  second (bn_dy), then eval on bn_x1; BatchNorm1d(3, momentum=None, affine=False), three steps on
  [4,3]; LayerNorm(5) with and without affine on [3,5]; seven activations on 16 values (act_x,
  dy = act_dy; ELU's alpha 1.3) and their edge cases (NaN, 0, +-1e4, +-50; dy = 1; default alphas);
  softmax / log_softmax over dim 1 of [2,3,4] and of {1e4, 1e4-1, 1e4-5, -1e4, 0}. The random inputs
  (bn_x1 ... sm_dy) are the ones the .cpp holds, read from it: they were drawn once, and only the
  outputs are the recording.
- test_loss_optim.cpp: CrossEntropyLoss / NLLLoss on formula logits (6 x 4, labels with an ignored
  -100, class weights, label smoothing), the point losses on formula predictions and targets, five
  steps of RMSprop / Adagrad (foreach=False) on 11 values, clip_grad_norm_(max_norm=1).
- test_ops.cpp: three steps of Adam / AdamW / SGD (foreach=False) on 8 values.
- test_conv.cpp: avg_pool2d and adaptive_avg_pool2d of aranges.
"""
import json
import math
import os
import re
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = os.path.join(HERE, '..', 'native')


def f32(values):
    return torch.tensor(values, dtype=torch.float32)


def out(t):
    """A tensor (or a number) as a list of the exact doubles of its float32 values."""
    if isinstance(t, torch.Tensor):
        vals = t.detach().to(torch.float32).reshape(-1).tolist()
    else:
        vals = [float(t)]
    return ['nan' if math.isnan(v) else v for v in vals]


def cpp_inputs(file):
    """The `static const float name[n] = {...};` arrays of a .cpp file (the recorded random inputs)."""
    text = open(os.path.join(NATIVE, file), encoding='utf-8').read()
    arrays = {}
    for name, n, body in re.findall(r'static const float (\w+)\[(\d+)\] = \{([^}]*)\};', text):
        vals = [float(v.strip().rstrip('fF')) for v in body.split(',') if v.strip()]
        assert len(vals) == int(n), f'{file}: {name} has {len(vals)} values, declared {n}'
        arrays[name] = f32(vals)
    return arrays


def norm_act(r):
    x = cpp_inputs('test_norm_act.cpp')

    bn = torch.nn.BatchNorm2d(2)
    with torch.no_grad():
        bn.weight.copy_(x['bn_g'])
        bn.bias.copy_(x['bn_b'])
    bn.train()
    bn(x['bn_x1'].view(3, 2, 2, 2))
    x2 = x['bn_x2'].view(3, 2, 2, 2).clone().requires_grad_()
    y2 = bn(x2)
    y2.backward(x['bn_dy'].view(3, 2, 2, 2))
    r['bn_y2'], r['bn_rm'], r['bn_rv'] = out(y2), out(bn.running_mean), out(bn.running_var)
    r['bn_dx'], r['bn_dg'], r['bn_db'] = out(x2.grad), out(bn.weight.grad), out(bn.bias.grad)
    bn.eval()
    with torch.no_grad():
        r['bn_yeval'] = out(bn(x['bn_x1'].view(3, 2, 2, 2)))

    bn1 = torch.nn.BatchNorm1d(3, momentum=None, affine=False)
    bn1.train()
    for k in range(3):
        bn1(x[f'bn1_x{k}'].view(4, 3))
    r['bn1_rm'], r['bn1_rv'] = out(bn1.running_mean), out(bn1.running_var)

    ln = torch.nn.LayerNorm(5)
    with torch.no_grad():
        ln.weight.copy_(x['ln_g'])
        ln.bias.copy_(x['ln_b'])
    lx = x['ln_x'].view(3, 5).clone().requires_grad_()
    y = ln(lx)
    y.backward(x['ln_dy'].view(3, 5))
    r['ln_y'], r['ln_dx'], r['ln_dg'], r['ln_db'] = out(y), out(lx.grad), out(ln.weight.grad), out(ln.bias.grad)
    ln_na = torch.nn.LayerNorm(5, elementwise_affine=False)
    lx = x['ln_x'].view(3, 5).clone().requires_grad_()
    y = ln_na(lx)
    y.backward(x['ln_dy'].view(3, 5))
    r['ln_y_na'], r['ln_dx_na'] = out(y), out(lx.grad)

    acts = {
        'leaky': lambda v: F.leaky_relu(v, 0.01),
        'elu': lambda v: F.elu(v, alpha=1.3),
        'gelu': lambda v: F.gelu(v),
        'gelut': lambda v: F.gelu(v, approximate='tanh'),
        'silu': F.silu,
        'sigm': torch.sigmoid,
        'tanh': torch.tanh,
    }
    for name, fn in acts.items():
        v = x['act_x'].clone().requires_grad_()
        y = fn(v)
        y.backward(x['act_dy'])
        r[f'act_{name}_y'], r[f'act_{name}_dx'] = out(y), out(v.grad)

    # the edge cases: default alphas, dy = 1
    edges = {
        'LEAKY_RELU': lambda v: F.leaky_relu(v, 0.01),
        'ELU': lambda v: F.elu(v, alpha=1.0),
        'GELU': lambda v: F.gelu(v),
        'GELU_TANH': lambda v: F.gelu(v, approximate='tanh'),
        'SILU': F.silu,
        'SIGMOID': torch.sigmoid,
        'TANH': torch.tanh,
    }
    for name, fn in edges.items():
        v = f32([float('nan'), 0.0, 1e4, -1e4, 50.0, -50.0]).requires_grad_()
        y = fn(v)
        y.backward(torch.ones(6))
        r[f'edge {name} y'], r[f'edge {name} dx'] = out(y), out(v.grad)

    for log, key in ((False, 'sm'), (True, 'lsm')):
        v = x['sm_x'].view(2, 3, 4).clone().requires_grad_()
        y = torch.log_softmax(v, dim=1) if log else torch.softmax(v, dim=1)
        y.backward(x['sm_dy'].view(2, 3, 4))
        r[f'{key}_y'], r[f'{key}_dx'] = out(y), out(v.grad)
    big = f32([1e4, 1e4 - 1, 1e4 - 5, -1e4, 0.0])
    r['big_sm'], r['big_lsm'] = out(torch.softmax(big, 0)), out(torch.log_softmax(big, 0))


def losses(r):
    n, c = 6, 4
    logits = f32([[((7 * i + 3 * j) % 13 - 6) / 2.5 for j in range(c)] for i in range(n)])
    labels = torch.tensor([1, 3, -100, 0, 2, 1])
    weight = f32([0.5, 2, 1, 1.5])
    for weighted in (False, True):
        for eps in (0.0, 0.1):
            for red in ('mean', 'sum'):
                loss = F.cross_entropy(logits, labels, weight=weight if weighted else None, label_smoothing=eps, reduction=red)
                r[f'CrossEntropyLoss weighted={weighted} label_smoothing={eps} {red}'] = out(loss)
        for red in ('mean', 'sum'):
            loss = F.nll_loss(torch.log_softmax(logits, 1), labels, weight=weight if weighted else None, reduction=red)
            r[f'NLLLoss weighted={weighted} {red}'] = out(loss)

    N = 10
    p = f32([((5 * i) % 9 - 4.0) / 3 for i in range(N)])
    t = f32([((3 * i + 1) % 7 - 3.0) / 2.5 for i in range(N)])
    tb = f32([((3 * i + 1) % 5) / 4.0 for i in range(N)])
    point = {
        'MSELoss': lambda red: F.mse_loss(p, t, reduction=red),
        'L1Loss': lambda red: F.l1_loss(p, t, reduction=red),
        'SmoothL1Loss(beta=0)': lambda red: F.smooth_l1_loss(p, t, reduction=red, beta=0.0),
        'SmoothL1Loss(beta=0.5)': lambda red: F.smooth_l1_loss(p, t, reduction=red, beta=0.5),
        'SmoothL1Loss(beta=1)': lambda red: F.smooth_l1_loss(p, t, reduction=red, beta=1.0),
        'BCEWithLogitsLoss': lambda red: F.binary_cross_entropy_with_logits(p * 4, tb, reduction=red),
    }
    for name, fn in point.items():
        for red in ('mean', 'sum'):
            r[f'{name} {red}'] = out(fn(red))


def steps(r, label, make, p0, grad, k_steps):
    param = p0.clone().requires_grad_()
    opt = make([param])
    for k in range(k_steps):
        param.grad = grad(k)
        opt.step()
    r[label] = out(param)


def optimizers(r):
    O = torch.optim
    # test_loss_optim.cpp: 5 steps on 11 values, p_i = (i - 5) / 3, g_k,i = ((5i + 3k) mod 11 - 5) / 7
    p11 = f32([(i - 5) / 3 for i in range(11)])
    g11 = lambda k: f32([((5 * i + 3 * k) % 11 - 5) / 7 for i in range(11)])
    for label, make in (
        ('RMSprop(lr=1e-2)', lambda ps: O.RMSprop(ps, lr=1e-2, foreach=False)),
        ('RMSprop(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=1e-2, momentum=0.9, centered=True)',
         lambda ps: O.RMSprop(ps, lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=1e-2, momentum=0.9, centered=True, foreach=False)),
        ('RMSprop(lr=1e-3, momentum=0.5, maximize=True)', lambda ps: O.RMSprop(ps, lr=1e-3, momentum=0.5, maximize=True, foreach=False)),
        ('RMSprop(lr=3e-3, alpha=0.95, centered=True, weight_decay=0.1)',
         lambda ps: O.RMSprop(ps, lr=3e-3, alpha=0.95, centered=True, weight_decay=0.1, foreach=False)),
        ('Adagrad(lr=1e-2)', lambda ps: O.Adagrad(ps, lr=1e-2, foreach=False)),
        ('Adagrad(lr=0.1, lr_decay=1e-2, weight_decay=1e-2, eps=1e-8, initial_accumulator_value=0.1, maximize=True)',
         lambda ps: O.Adagrad(ps, lr=0.1, lr_decay=1e-2, weight_decay=1e-2, eps=1e-8, initial_accumulator_value=0.1, maximize=True, foreach=False)),
    ):
        steps(r, label, make, p11, g11, 5)
    # test_ops.cpp: 3 steps on 8 values, p_i = (i - 3.5) / 4, g_k,i = ((5i + 3k) mod 11 - 5) / 16
    p8 = f32([(i - 3.5) / 4 for i in range(8)])
    g8 = lambda k: f32([((5 * i + 3 * k) % 11 - 5) / 16 for i in range(8)])
    for label, make in (
        ('golden Adam(lr=1e-3, weight_decay=1e-2)', lambda ps: O.Adam(ps, lr=1e-3, weight_decay=1e-2, foreach=False)),
        ('golden AdamW(lr=1e-3, weight_decay=1e-2, amsgrad=True)', lambda ps: O.AdamW(ps, lr=1e-3, weight_decay=1e-2, amsgrad=True, foreach=False)),
        ('golden SGD(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-4)',
         lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-4, foreach=False)),
        ('golden SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, maximize=True)',
         lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, maximize=True, foreach=False)),
    ):
        steps(r, label, make, p8, g8, 3)

    # clip_grad_norm_(max_norm=1): a.grad_i = ((5i) mod 11 - 5) / 7 (i < 11), b.grad = {0.5, -1.25, 2}
    a = torch.zeros(11, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    a.grad = f32([((5 * i) % 11 - 5) / 7 for i in range(11)])
    b.grad = f32([0.5, -1.25, 2.0])
    total = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    r['clip want_total'], r['clip want_a'], r['clip want_b'] = out(total), out(a.grad), out(b.grad)


def pooling(r):
    r['avg_pool2d 5x5 k2 s2 ceil_mode'] = out(F.avg_pool2d(torch.arange(25.).view(1, 1, 5, 5), 2, 2, ceil_mode=True))
    for cip in (True, False):
        r[f'avg_pool2d 2x2 k2 s1 p1 count_include_pad={cip}'] = out(F.avg_pool2d(torch.arange(1., 5.).view(1, 1, 2, 2), 2, 1, 1, count_include_pad=cip))
    r['avg_pool2d 6x6 k3 s2 p1 ceil_mode row 3'] = out(F.avg_pool2d(torch.arange(36.).view(1, 1, 6, 6), 3, 2, 1, ceil_mode=True)[0, 0, 3])
    r['adaptive_avg_pool2d 5x7 -> 3x4'] = out(F.adaptive_avg_pool2d(torch.arange(35.).view(1, 1, 5, 7), (3, 4)))


def main():
    torch.set_num_threads(1)
    r = {'torch': torch.__version__}
    norm_act(r)
    losses(r)
    optimizers(r)
    pooling(r)
    json.dump(r, sys.stdout)
    print()


if __name__ == '__main__':
    main()
