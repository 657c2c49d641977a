#!/usr/bin/python3
"""Learning-rate sequences from PyTorch's schedulers, for test/unit/schedules.test.ts.

Regenerate (PyTorch 1.13, Debian's python; NOT the python3 on PATH):

    /usr/bin/python3 test/unit/gen_schedules.py            # writes test/unit/fixtures/schedules.json
    /usr/bin/python3 test/unit/gen_schedules.py --stdout   # prints the same JSON (the test's live check)

Each case is a Netloom scheduler document (engine/train/schedules.ts, SchedulerSchema) plus the
optimizer's lr. The script builds the same scheduler on a one-parameter torch.optim.SGD
(momentum=0.9, so OneCycleLR's momentum cycling is visible), records param_groups[0]['lr'] after
construction and after each of STEPS calls to scheduler.step() (optimizer.step() first, as torch
asks), and param_groups[0]['momentum'] alongside. Values are Python floats, written with repr
(shortest round-trip), so JSON.parse in the test gets the exact doubles.
"""
import json
import os
import sys
import warnings

import torch
from torch.optim import lr_scheduler as S

STEPS = 60
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'schedules.json')

CASES = [
    ('StepLR', 0.1, {'type': 'StepLR', 'step_size': 7, 'gamma': 0.5}),
    ('StepLR default gamma', 0.05, {'type': 'StepLR', 'step_size': 3}),
    ('MultiStepLR', 0.1, {'type': 'MultiStepLR', 'milestones': [5, 12, 30], 'gamma': 0.3}),
    ('ExponentialLR', 0.1, {'type': 'ExponentialLR', 'gamma': 0.95}),
    ('CosineAnnealingLR past T_max', 0.1, {'type': 'CosineAnnealingLR', 'T_max': 25, 'eta_min': 0.001}),
    ('CosineAnnealingLR', 0.3, {'type': 'CosineAnnealingLR', 'T_max': 60}),
    ('CosineAnnealingLR T_max=7', 0.01, {'type': 'CosineAnnealingLR', 'T_max': 7, 'eta_min': 1e-4}),
    ('OneCycleLR', 0.1, {'type': 'OneCycleLR', 'max_lr': 0.5, 'total_steps': 60}),
    ('OneCycleLR three-phase linear', 0.1, {'type': 'OneCycleLR', 'max_lr': 0.5, 'total_steps': 80, 'pct_start': 0.25,
                                            'anneal_strategy': 'linear', 'div_factor': 10.0,
                                            'final_div_factor': 100.0, 'three_phase': True}),
    ('OneCycleLR no momentum', 0.1, {'type': 'OneCycleLR', 'max_lr': 0.02, 'total_steps': 100, 'pct_start': 0.37,
                                     'cycle_momentum': False}),
    ('LinearLR defaults', 0.1, {'type': 'LinearLR'}),
    ('LinearLR', 0.1, {'type': 'LinearLR', 'start_factor': 0.1, 'end_factor': 0.5, 'total_iters': 20}),
    ('SequentialLR warm-up then cosine', 0.1, {'type': 'SequentialLR', 'milestones': [5], 'schedulers': [
        {'type': 'LinearLR', 'start_factor': 0.1, 'total_iters': 5},
        {'type': 'CosineAnnealingLR', 'T_max': 55}]}),
    ('SequentialLR three schedulers', 0.2, {'type': 'SequentialLR', 'milestones': [10, 30], 'schedulers': [
        {'type': 'ExponentialLR', 'gamma': 0.9},
        {'type': 'StepLR', 'step_size': 10, 'gamma': 0.5},
        {'type': 'LinearLR', 'start_factor': 0.5, 'end_factor': 1.0, 'total_iters': 10}]}),
    ('SequentialLR then OneCycleLR', 0.1, {'type': 'SequentialLR', 'milestones': [10], 'schedulers': [
        {'type': 'LinearLR', 'start_factor': 0.25, 'total_iters': 8},
        {'type': 'OneCycleLR', 'max_lr': 1.0, 'total_steps': 50}]}),
    ('SequentialLR milestone inside warm-up', 0.1, {'type': 'SequentialLR', 'milestones': [3], 'schedulers': [
        {'type': 'LinearLR', 'start_factor': 0.2, 'total_iters': 6},
        {'type': 'MultiStepLR', 'milestones': [10, 20], 'gamma': 0.5}]}),
]

KEYS = {  # Netloom document key -> torch keyword (identical names; listed so a typo fails loudly)
    'StepLR': ['step_size', 'gamma'],
    'MultiStepLR': ['milestones', 'gamma'],
    'ExponentialLR': ['gamma'],
    'CosineAnnealingLR': ['T_max', 'eta_min'],
    'OneCycleLR': ['max_lr', 'total_steps', 'pct_start', 'anneal_strategy', 'div_factor', 'final_div_factor',
                   'three_phase', 'cycle_momentum', 'base_momentum', 'max_momentum'],
    'LinearLR': ['start_factor', 'end_factor', 'total_iters'],
}


def build(doc, opt):
    t = doc['type']
    if t == 'SequentialLR':
        subs = [build(d, opt) for d in doc['schedulers']]
        return S.SequentialLR(opt, subs, milestones=doc['milestones'])
    kw = {k: v for k, v in doc.items() if k not in ('type', 'interval')}
    unknown = set(kw) - set(KEYS[t])
    if unknown:
        raise ValueError(f'{t}: unknown keys {unknown}')
    return getattr(S, t)(opt, **kw)


def run(base_lr, doc):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = build(doc, opt)
    lrs = [opt.param_groups[0]['lr']]
    mom = [opt.param_groups[0]['momentum']]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]['lr'])
        mom.append(opt.param_groups[0]['momentum'])
    return [float(v) for v in lrs], [float(v) for v in mom]


def main():
    warnings.simplefilter('ignore')   # SequentialLR's step(0) warns about the epoch argument
    cases = []
    for name, base_lr, doc in CASES:
        lrs, mom = run(base_lr, doc)
        cases.append({'name': name, 'baseLr': base_lr, 'scheduler': doc, 'lrs': lrs, 'momentum': mom})
    out = {'torch': torch.__version__, 'steps': STEPS, 'cases': cases}
    text = json.dumps(out, indent=1) + '\n'
    if '--stdout' in sys.argv:
        sys.stdout.write(text)
    else:
        with open(OUT, 'w') as f:
            f.write(text)
        print(f'wrote {OUT}: {len(cases)} cases x {STEPS + 1} values (torch {torch.__version__})')


if __name__ == '__main__':
    main()
