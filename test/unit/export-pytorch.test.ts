/**
 * PyTorch code export, the model.py side: module naming (Sequential chains, containers, names that are no
 * Python identifiers or that nn.Module uses itself), every catalog layer's constructor as a person writes it,
 * forward() over a DAG with skips and joins, Netloom's parameter order, and the refusals. The generated code
 * runs against real PyTorch in test/integration/pytorch-export.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { analyzeForTraining, analyzeGraph, type AnalyzedNode } from '../../engine/graph/analyze.js';
import { CATALOG } from '../../engine/graph/catalog.js';
import { ProjectSchema, type EdgeDoc, type NodeDoc, type ProjectDoc } from '../../engine/graph/document.js';
import { isNetloomError } from '../../engine/errors.js';
import { exportPytorchCode } from '../../engine/io/export-pytorch.js';
import { criterionCode, layerCode } from '../../engine/io/export-pytorch/layers.js';
import { modelClassName, modelPy } from '../../engine/io/export-pytorch/model-py.js';
import type { ModelExportInput } from '../../engine/io/model-export.js';

type Layer = [name: string, type: string, params?: Record<string, unknown>];

/** A project whose nodes are `layers` in a chain (each fed by the previous), plus `extra` edges. */
function project(layers: Layer[], extra: Array<[string, string, string?]> = [], name = 'Test net'): ProjectDoc {
  const nodes: NodeDoc[] = layers.map(([n, type, params]) => ({ id: n, name: n, type, params: params ?? {} }));
  const edges: EdgeDoc[] = layers.slice(1).map(([n], i) => ({ source: layers[i][0], target: n }));
  for (const [source, target, targetHandle] of extra) edges.push({ source, target, ...(targetHandle ? { targetHandle } : {}) });
  return ProjectSchema.parse({ format: 'netloom-project', version: 1, name, graph: { nodes, edges } });
}

/** What an exporter is given: analysis and the compiled program's state dict (as the app builds it). */
function exportInput(p: ProjectDoc): ModelExportInput {
  const analysis = analyzeForTraining(p.graph, 'test', { batchSize: 2 });
  const program = compileGraph(analysis, { batchSize: 2, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  const state = program.params.map((q) => ({ key: q.key, shape: [...q.shape], kind: q.learnable ? ('param' as const) : ('buffer' as const), dtype: q.dtype }));
  return { project: p, analysis, state };
}

const model = (p: ProjectDoc) => modelPy(exportInput(p)).text;
/** The lines of model.py's forward(), without indentation. */
const forward = (text: string) => text.slice(text.indexOf('def forward(self, x):')).split('\n').slice(1).map((l) => l.trim()).filter(Boolean);

describe('module naming', () => {
  it('a chain stack.0, stack.1, ... becomes nn.Sequential, exactly like the PyTorch quickstart', () => {
    const text = model(project([
      ['input', 'Input', { shape: [1, 28, 28] }], ['flatten', 'Flatten'],
      ['linear_relu_stack.0', 'Linear', { out_features: 512 }], ['linear_relu_stack.1', 'ReLU'],
      ['linear_relu_stack.2', 'Linear', { out_features: 10 }], ['loss_fn', 'CrossEntropyLoss'],
    ]));
    expect(text).toContain([
      '        self.flatten = nn.Flatten()',
      '        self.linear_relu_stack = nn.Sequential(',
      '            nn.Linear(784, 512),',
      '            nn.ReLU(),',
      '            nn.Linear(512, 10),',
      '        )',
    ].join('\n'));
    expect(forward(text)).toEqual(['x = self.flatten(x)', 'x = self.linear_relu_stack(x)', 'return x']);
    expect(text).not.toContain('OrderedDict');
  });

  it('a chain whose indices do not run 0, 1, 2 keeps them (nn.Sequential of an OrderedDict)', () => {
    const text = model(project([['input', 'Input', { shape: [4] }], ['net.1', 'Linear', { out_features: 3 }], ['net.3', 'Tanh'], ['loss', 'MSELoss']]));
    expect(text).toContain('from collections import OrderedDict');
    expect(text).toContain('self.net = nn.Sequential(OrderedDict([\n            ("1", nn.Linear(4, 3)),\n            ("3", nn.Tanh()),\n        ]))');
  });

  it('numbered names that do not form a chain become a container with add_module, read back with getattr', () => {
    // stack.0's output also feeds the Add, so calling a Sequential would lose it
    const text = model(project(
      [['input', 'Input', { shape: [4] }], ['stack.0', 'Linear', { out_features: 4 }], ['stack.1', 'ReLU'], ['join', 'Add'], ['loss', 'MSELoss']],
      [['stack.0', 'join']],
    ));
    expect(text).toContain('self.stack = nn.Module()\n        self.stack.add_module("0", nn.Linear(4, 4))\n        self.stack.add_module("1", nn.ReLU())');
    expect(forward(text)).toEqual(['x = getattr(self.stack, "0")(x)', 'stack_0 = x', 'x = getattr(self.stack, "1")(x)', 'x = x + stack_0', 'return x']);
  });

  it('other dotted names become nested containers, so block1.conv1.weight is a key', () => {
    const input = exportInput(project([
      ['input', 'Input', { shape: [1, 8, 8] }], ['block1.conv1', 'Conv2d', { out_channels: 2, kernel_size: 3 }], ['block1.bn1', 'BatchNorm2d'],
      ['block1.inner.act', 'ReLU'], ['flatten', 'Flatten'], ['head', 'Linear', { out_features: 3 }], ['loss', 'CrossEntropyLoss'],
    ]));
    const text = modelPy(input).text;
    expect(text).toContain([
      '        self.block1 = nn.Module()',
      '        self.block1.conv1 = nn.Conv2d(1, 2, 3)',
      '        self.block1.bn1 = nn.BatchNorm2d(2)',
      '        self.block1.inner = nn.Module()',
      '        self.block1.inner.act = nn.ReLU()',
    ].join('\n'));
    expect(forward(text).slice(0, 3)).toEqual(['x = self.block1.conv1(x)', 'x = self.block1.bn1(x)', 'x = self.block1.inner.act(x)']);
    expect(input.state.map((e) => e.key).slice(0, 2)).toEqual(['block1.conv1.weight', 'block1.conv1.bias']);
    expect(modelPy(input).parameterOrder).toBeUndefined();
  });

  it('a name that is a Python keyword or no identifier uses add_module; one nn.Module owns goes into _modules', () => {
    const text = model(project([
      ['input', 'Input', { shape: [4] }], ['0', 'Linear', { out_features: 4 }], ['class', 'ReLU'], ['eval', 'Linear', { out_features: 4 }],
      ['parameters', 'Sigmoid'], ['wrap.forward', 'Linear', { out_features: 2 }], ['loss', 'MSELoss'],
    ]));
    expect(text).toContain('self.add_module("0", nn.Linear(4, 4))');
    expect(text).toContain('self.add_module("class", nn.ReLU())');
    expect(text).toContain('self._modules["eval"] = nn.Linear(4, 4)  # "eval" is also an nn.Module attribute');
    expect(text).toContain('self._modules["parameters"] = nn.Sigmoid()');
    expect(text).toContain('self.wrap._modules["forward"] = nn.Linear(4, 2)');
    expect(forward(text)).toEqual([
      'x = getattr(self, "0")(x)', 'x = getattr(self, "class")(x)', 'x = self._modules["eval"](x)', 'x = self._modules["parameters"](x)',
      'x = self.wrap._modules["forward"](x)', 'return x',
    ]);
  });

  it('the class name comes from the project name; NeuralNetwork when it gives no identifier', () => {
    expect(modelClassName('ResNet-8 (FashionMNIST)')).toBe('ResNet8Model');
    expect(modelClassName('PyTorch quickstart (FashionMNIST MLP)')).toBe('PyTorchQuickstartModel');
    expect(modelClassName('my  tiny net')).toBe('MyTinyNetModel');
    expect(modelClassName('3 layers')).toBe('NeuralNetwork');
    expect(modelClassName('')).toBe('NeuralNetwork');
    expect(modelClassName('Réseau ünïcode')).toBe('RSeauNCodeModel');
  });

  it('a CSV model\'s header gives the statistics its features are standardised with', () => {
    const input = exportInput(project([['input', 'Input', { shape: [2] }], ['fc', 'Linear', { out_features: 2 }], ['loss', 'CrossEntropyLoss']]));
    const text = modelPy({ ...input, standardize: { columns: ['height', 'weight'], mean: [170.5, 70], std: [9.25, 12] } }).text;
    expect(text).toContain('# The features (height, weight) are standardised first, with the training split\'s statistics:\n'
      + '#     x = (x - torch.tensor([170.5, 70.0])) / torch.tensor([9.25, 12.0])\n');
    expect(modelPy(input).text).not.toContain('standardised');
  });

  it('a project name cannot break out of its comment line', () => {
    const text = model(project([['input', 'Input', { shape: [4] }], ['fc', 'Linear', { out_features: 2 }], ['loss', 'MSELoss']], [], 'evil\nimport os\u2028x'));
    expect(text.split('\n')[0]).toBe('# Generated by Netloom from the project "evil\\nimport os\\u2028x".');
    expect(text).not.toMatch(/^import os/m);
  });
});

describe('forward() over a DAG', () => {
  it('a residual skip keeps the block input under its node name while the chain goes on in x', () => {
    const text = model(project(
      [['input', 'Input', { shape: [4] }], ['stem', 'Linear', { out_features: 4 }], ['fc1', 'Linear', { out_features: 4 }], ['act', 'ReLU'],
        ['fc2', 'Linear', { out_features: 4 }], ['add', 'Add'], ['out', 'Linear', { out_features: 3 }], ['loss', 'CrossEntropyLoss']],
      [['stem', 'add']],
    ));
    expect(forward(text)).toEqual([
      'x = self.stem(x)', 'stem = x', 'x = self.fc1(x)', 'x = self.act(x)', 'x = self.fc2(x)', 'x = x + stem', 'x = self.out(x)', 'return x',
    ]);
  });

  it('two branches joined by Concat, in the order of the input ports; the Input kept as input_', () => {
    const p = project([['input', 'Input', { shape: [4] }], ['left', 'Linear', { out_features: 3 }], ['cat', 'Concat'], ['loss', 'MSELoss']],
      [['input', 'right'], ['right', 'cat']]);
    p.graph.nodes.push({ id: 'right', name: 'right', type: 'Linear', params: { out_features: 5 } });
    // the port handles put `right` first
    p.graph.edges = p.graph.edges.map((e) => (e.target === 'cat' ? { ...e, targetHandle: e.source === 'right' ? 'in0' : 'in1' } : e));
    expect(forward(model(p))).toEqual(['input_ = x', 'x = self.left(x)', 'input_ = self.right(input_)', 'x = torch.cat([input_, x], dim=1)', 'return x']);
  });

  it('a loss with a target input: forward returns (output, target)', () => {
    const text = model(project(
      [['input', 'Input', { shape: [1, 4, 4] }], ['flatten', 'Flatten'], ['enc', 'Linear', { out_features: 3 }], ['dec', 'Linear', { out_features: 16 }], ['loss', 'MSELoss']],
      [['flatten', 'loss', 'target']],
    ));
    expect(forward(text)).toEqual(['x = self.flatten(x)', 'flatten = x', 'x = self.enc(x)', 'x = self.dec(x)', 'return x, flatten']);
    expect(text).toContain('# forward() returns (output, target): the output (N, 16) and what MSELoss compares it with (flatten\'s output).');
  });

  it('Reshape is a tensor operation on the batch, not a module', () => {
    const text = model(project([['input', 'Input', { shape: [16] }], ['view', 'Reshape', { shape: [1, 4, 4] }], ['flat', 'Flatten'], ['loss', 'MSELoss']]));
    expect(forward(text)).toEqual(['x = x.reshape(x.shape[0], 1, 4, 4)', 'x = self.flat(x)', 'return x']);
    expect(text).not.toContain('self.view');
  });
});

describe('parameter order', () => {
  it('model.parameters() follows Netloom\'s order where it can, and PARAMETER_ORDER says it where nesting groups children', () => {
    const chain = exportInput(project([['input', 'Input', { shape: [4] }], ['a', 'Linear', { out_features: 4 }], ['b', 'Linear', { out_features: 2 }], ['loss', 'MSELoss']]));
    expect(modelPy(chain).parameterOrder).toBeUndefined();
    expect(modelPy(chain).text).not.toContain('PARAMETER_ORDER');
    // Netloom: blk.conv.*, blk.down.0.*, blk.bn.* ... torch: blk.conv, blk.down (0 and 1 together), blk.bn
    const nested = project(
      [['input', 'Input', { shape: [2, 4, 4] }], ['blk.conv', 'Conv2d', { out_channels: 2, kernel_size: 1 }], ['blk.bn', 'BatchNorm2d'],
        ['blk.add', 'Add'], ['flatten', 'Flatten'], ['loss', 'MSELoss']],
      [['input', 'blk.down.0'], ['blk.down.0', 'blk.down.1'], ['blk.down.1', 'blk.add']],
    );
    nested.graph.nodes.push(
      { id: 'blk.down.0', name: 'blk.down.0', type: 'Conv2d', params: { out_channels: 2, kernel_size: 1 } },
      { id: 'blk.down.1', name: 'blk.down.1', type: 'BatchNorm2d', params: {} },
    );
    const input = exportInput(nested);
    const learnable = input.state.filter((e) => e.kind === 'param').map((e) => e.key);
    expect(learnable).toEqual(['blk.conv.weight', 'blk.conv.bias', 'blk.down.0.weight', 'blk.down.0.bias', 'blk.bn.weight', 'blk.bn.bias', 'blk.down.1.weight', 'blk.down.1.bias']);
    const m = modelPy(input);
    expect(m.parameterOrder).toEqual(learnable);
    expect(m.text).toContain('PARAMETER_ORDER = (\n    "blk.conv.weight",\n    "blk.conv.bias",\n    "blk.down.0.weight",');
    expect(m.text).toContain('self.blk.down = nn.Sequential(\n            nn.Conv2d(2, 2, 1),\n            nn.BatchNorm2d(2),\n        )');
    expect(exportPytorchCode(input)['train.py']).toContain('from model import TestNetModel as Model, netloom_parameters');
  });
});

/** The node `name` of a graph Input(shape) -> layer -> ..., analysed (shape issues of the rest do not matter). */
function analysed(shape: number[], type: string, params: Record<string, unknown> = {}): AnalyzedNode {
  const p = project([['input', 'Input', { shape }], ['layer', type, params]]);
  const a = analyzeGraph(p.graph);
  const n = a.byId.get('layer');
  if (!n?.outShape) throw new Error(`${type} ${JSON.stringify(params)} on ${JSON.stringify(shape)}: ${a.issues.map((i) => i.message).join('; ')}`);
  return n;
}

const ctor = (shape: number[], type: string, params?: Record<string, unknown>) => {
  const code = layerCode(analysed(shape, type, params));
  return code.kind === 'module' ? code.ctor : code.kind === 'op' ? code.expr(['a', 'b']) : code.kind;
};

describe('every layer, constructed as a person writes it (defaults left out)', () => {
  const cases: Array<[type: string, shape: number[], params: Record<string, unknown>, python: string]> = [
    ['Linear', [20], { out_features: 10 }, 'nn.Linear(20, 10)'],
    ['Linear', [20], { in_features: 20, out_features: 10, bias: false }, 'nn.Linear(20, 10, bias=False)'],
    ['Conv2d', [1, 28, 28], { out_channels: 32, kernel_size: 3, padding: 1 }, 'nn.Conv2d(1, 32, 3, padding=1)'],
    ['Conv2d', [4, 28, 28], { out_channels: 8, kernel_size: [3, 5], stride: [2, 2], dilation: 2, groups: 2, bias: false }, 'nn.Conv2d(4, 8, (3, 5), stride=2, dilation=2, groups=2, bias=False)'],
    ['Conv2d', [1, 9, 9], { out_channels: 2, kernel_size: 3, padding: 'same' }, 'nn.Conv2d(1, 2, 3, padding="same")'],
    ['Conv1d', [4, 50], { out_channels: 8, kernel_size: 5, stride: 2, padding: 'valid' }, 'nn.Conv1d(4, 8, 5, stride=2, padding="valid")'],
    ['ConvTranspose2d', [8, 7, 7], { out_channels: 4, kernel_size: 2, stride: 2 }, 'nn.ConvTranspose2d(8, 4, 2, stride=2)'],
    ['ConvTranspose2d', [8, 7, 7], { out_channels: 4, kernel_size: 3, stride: 2, padding: 1, output_padding: 1, bias: false }, 'nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, bias=False)'],
    ['MaxPool2d', [3, 8, 8], { kernel_size: 2 }, 'nn.MaxPool2d(2)'],
    ['MaxPool2d', [3, 8, 8], { kernel_size: 3, stride: 2, padding: 1, ceil_mode: true }, 'nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)'],
    ['AvgPool2d', [3, 8, 8], { kernel_size: [2, 2], count_include_pad: false, divisor_override: 3 }, 'nn.AvgPool2d(2, count_include_pad=False, divisor_override=3)'],
    ['AdaptiveAvgPool2d', [3, 8, 8], { output_size: 1 }, 'nn.AdaptiveAvgPool2d(1)'],
    ['AdaptiveAvgPool2d', [3, 8, 8], { output_size: [null, 4] }, 'nn.AdaptiveAvgPool2d((None, 4))'],
    ['BatchNorm1d', [16], {}, 'nn.BatchNorm1d(16)'],
    ['BatchNorm1d', [16, 5], { eps: 0.001, momentum: null, affine: false }, 'nn.BatchNorm1d(16, eps=0.001, momentum=None, affine=False)'],
    ['BatchNorm2d', [3, 8, 8], { momentum: 0.01, track_running_stats: false }, 'nn.BatchNorm2d(3, momentum=0.01, track_running_stats=False)'],
    ['LayerNorm', [5, 10], {}, 'nn.LayerNorm(10)'],
    ['LayerNorm', [5, 10], { normalized_shape: [5, 10], eps: 1e-6, elementwise_affine: false }, 'nn.LayerNorm([5, 10], eps=0.000001, elementwise_affine=False)'],
    ['ReLU', [4], { inplace: true }, 'nn.ReLU()'],
    ['LeakyReLU', [4], {}, 'nn.LeakyReLU()'],
    ['LeakyReLU', [4], { negative_slope: 0.2 }, 'nn.LeakyReLU(0.2)'],
    ['ELU', [4], { alpha: 2 }, 'nn.ELU(alpha=2.0)'],
    ['GELU', [4], { approximate: 'tanh' }, 'nn.GELU(approximate="tanh")'],
    ['SiLU', [4], {}, 'nn.SiLU()'],
    ['Sigmoid', [4], {}, 'nn.Sigmoid()'],
    ['Tanh', [4], {}, 'nn.Tanh()'],
    ['Softmax', [4], {}, 'nn.Softmax(dim=1)'],
    ['LogSoftmax', [2, 4], { dim: -1 }, 'nn.LogSoftmax(dim=-1)'],
    ['Dropout', [4], {}, 'nn.Dropout()'],
    ['Dropout', [4], { p: 0.25 }, 'nn.Dropout(p=0.25)'],
    ['Flatten', [2, 3, 4], {}, 'nn.Flatten()'],
    ['Flatten', [2, 3, 4], { start_dim: 2 }, 'nn.Flatten(start_dim=2)'],
    ['Identity', [4], {}, 'nn.Identity()'],
    ['Reshape', [16], { shape: [1, -1, 4] }, 'a.reshape(a.shape[0], 1, -1, 4)'],
  ];
  for (const [type, shape, params, python] of cases)
    it(`${type} ${JSON.stringify(params)} -> ${python}`, () => expect(ctor(shape, type, params)).toBe(python));

  it('Add and Concat join their inputs in forward()', () => {
    const add = layerCode({ ...analysed([4], 'Identity'), doc: { id: 'j', name: 'j', type: 'Add', params: {} }, params: {} });
    const cat = layerCode({ ...analysed([4], 'Identity'), doc: { id: 'c', name: 'c', type: 'Concat', params: {} }, params: { dim: 1 } });
    expect(add.kind === 'op' && add.expr(['a', 'b', 'c'])).toBe('a + b + c');
    expect(cat.kind === 'op' && cat.expr(['a', 'b'])).toBe('torch.cat([a, b], dim=1)');
  });

  it('covers the whole catalog: every layer above, every loss below', () => {
    const tested = new Set([...cases.map(([t]) => t), 'Add', 'Concat', 'Input', 'CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'BCEWithLogitsLoss']);
    expect([...CATALOG.keys()].filter((t) => !tested.has(t))).toEqual([]);
  });

  it('losses become train.py\'s criterion with their parameters', () => {
    const loss = (type: string, params: Record<string, unknown>, shape = [3]) => criterionCode(analysed(shape, type, params));
    expect(loss('CrossEntropyLoss', {})).toBe('nn.CrossEntropyLoss()');
    expect(loss('CrossEntropyLoss', { weight: [1, 2, 0.5], reduction: 'sum', label_smoothing: 0.1 })).toBe('nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), reduction="sum", label_smoothing=0.1)');
    expect(loss('NLLLoss', { ignore_index: 0 })).toBe('nn.NLLLoss(ignore_index=0)');
    expect(loss('MSELoss', {})).toBe('nn.MSELoss()');
    expect(loss('L1Loss', { reduction: 'sum' })).toBe('nn.L1Loss(reduction="sum")');
    expect(loss('SmoothL1Loss', { beta: 0.5 })).toBe('nn.SmoothL1Loss(beta=0.5)');
    expect(loss('BCEWithLogitsLoss', {})).toBe('nn.BCEWithLogitsLoss()');
  });
});

describe('refusals', () => {
  it('a graph with problems is NL_BAD_GRAPH, naming the first', () => {
    const p = project([['input', 'Input', { shape: [4] }], ['fc', 'Linear', { out_features: 2 }]]);
    const analysis = analyzeGraph(p.graph);
    try {
      exportPytorchCode({ project: p, analysis, state: [] });
      expect.unreachable();
    } catch (e) {
      expect(isNetloomError(e) && e.code).toBe('NL_BAD_GRAPH');
      expect((e as Error).message).toContain('the graph has no loss node');
    }
  });

  it('a module named "training" (nn.Module\'s train/eval flag, which model.train() assigns) is refused with a rename hint', () => {
    const input = exportInput(project([['input', 'Input', { shape: [4] }], ['block.training', 'Linear', { out_features: 2 }], ['loss', 'MSELoss']]));
    try {
      exportPytorchCode(input);
      expect.unreachable();
    } catch (e) {
      expect(isNetloomError(e) && e.code).toBe('NL_UNSUPPORTED');
      expect((e as Error).message).toContain('node block.training: PyTorch cannot hold a module named "training"');
      expect(isNetloomError(e) && e.hint).toContain('Rename the node');
    }
  });

  it('a state dict the generated module would not have is refused before anything is written', () => {
    const input = exportInput(project([['input', 'Input', { shape: [4] }], ['fc', 'Linear', { out_features: 2 }], ['loss', 'MSELoss']]));
    const extra = { ...input, state: [...input.state, { key: 'fc.scale', shape: [2], kind: 'param' as const, dtype: 'f32' as const }] };
    expect(() => exportPytorchCode(extra)).toThrow(/would not have the state-dict keys of the model/);
  });
});
