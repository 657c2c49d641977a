/**
 * The ResNet-8 template's state-dict keys follow torchvision's ResNet naming (conv1, bn1, layer1.0.conv1,
 * layer2.0.downsample.0, fc): its layerN groups (repeat 1) are nn.Sequential of one BasicBlock and its
 * downsample groups hold nodes named 0 and 1. The reference is a torch module with torchvision's BasicBlock
 * structure written inline (torchvision itself may be missing): same keys, same shapes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { analyzeForTraining } from '../../engine/graph/analyze.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { OptimizerSchema } from '../../engine/contract/optimizers.js';
import { parseProjectText } from '../../engine/graph/document.js';
import { PYTHON, itWithPython } from '../python-reference.js';

/** torchvision.models.resnet's BasicBlock and ResNet layout, cut to three stages of one block on 1-channel 28x28 input. */
const TORCHVISION_STYLE = String.raw`
import json
from torch import nn

class BasicBlock(nn.Module):
    expansion = 1
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

class ResNet(nn.Module):
    def __init__(self, layers=(1, 1, 1), num_classes=10):
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, layers[0])
        self.layer2 = self._make_layer(32, layers[1], stride=2)
        self.layer3 = self._make_layer(64, layers[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

print(json.dumps({k: list(v.shape) for k, v in ResNet().state_dict().items()}))
`;

const itTorch = itWithPython(['torch'], 'the torchvision naming check of the ResNet-8 template');

itTorch('ResNet-8 template: state-dict keys and shapes equal a torchvision-style ResNet of BasicBlocks', () => {
  const project = parseProjectText(readFileSync('assets/templates/resnet8.json', 'utf8'), 'resnet8.json');
  const analysis = analyzeForTraining(project.graph, 'resnet8.json', { batchSize: 1 });
  const program = compileGraph(analysis, { batchSize: 1, optimizer: OptimizerSchema.parse({ type: 'SGD' }), train: false });
  const ours = Object.fromEntries(program.params.map((p) => [p.key, [...p.shape]]));
  const r = spawnSync(PYTHON, ['-c', TORCHVISION_STYLE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyTorch failed:\n${r.stderr}`);
  const theirs = JSON.parse(r.stdout) as Record<string, number[]>;
  expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  expect(ours).toEqual(theirs);
  expect(Object.keys(ours)).toContain('layer2.0.downsample.0.weight');
}, 60_000);
