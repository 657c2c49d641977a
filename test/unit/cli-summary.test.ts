/**
 * `netloom summary`'s table (engine/host/cli-summary.ts): torchinfo's tree lines and depth-index, groups as
 * inner rows, layers named relative to their group as nn.Module attributes are, the totals of the layer rows.
 */
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../engine/graph/analyze.js';
import type { GraphDoc } from '../../engine/graph/document.js';
import { summarize } from '../../engine/graph/summary.js';
import { summaryText } from '../../engine/host/cli-summary.js';

/** input -> fc_in -> stage x2 (block (fc -> act), add with the stage input) -> head -> loss_fn */
const graph: GraphDoc = {
  nodes: [
    { id: 'input', type: 'Input', name: 'input', params: { shape: [4] } },
    { id: 'fc_in', type: 'Linear', name: 'fc_in', params: { out_features: 3 } },
    { id: 'fc', type: 'Linear', name: 'fc', params: { out_features: 3 }, group: 'block' },
    { id: 'act', type: 'ReLU', name: 'act', params: {}, group: 'block' },
    { id: 'add', type: 'Add', name: 'add', params: {}, group: 'stage' },
    { id: 'head', type: 'Linear', name: 'head', params: { out_features: 2 } },
    { id: 'loss', type: 'CrossEntropyLoss', name: 'loss_fn', params: {} },
  ],
  edges: [['input', 'fc_in'], ['fc_in', 'fc'], ['fc', 'act'], ['act', 'add'], ['fc_in', 'add'], ['add', 'head'], ['head', 'loss']].map(([source, target]) => ({ source, target })),
  groups: [{ id: 'stage', name: 'stage', repeat: 2, collapsed: false }, { id: 'block', name: 'block', parent: 'stage', collapsed: false }],
};

describe('netloom summary', () => {
  const text = summaryText('Grouped', summarize(analyzeGraph(graph, { batchSize: 5 }), 5), 5);
  const rows = text.split('\n').filter((l) => /[├└]─/.test(l)).map((l) => l.replace(/\s{2,}/g, ' | ').trim());

  it('nests groups like torchinfo: a Sequential, its copies, their submodules, attribute names relative to each', () => {
    expect(rows).toEqual([
      '├─input (Input): 1-1 | [5, 4] | -- | --',
      '├─fc_in (Linear): 1-2 | [5, 3] | 15 | 120',
      '├─stage (Sequential): 1-3 | [5, 3] | 24 | 240',
      '│ └─0 (Module): 2-1 | [5, 3] | 12 | 120',
      '│ │ └─block (Module): 3-1 | [5, 3] | 12 | 105',
      '│ │ │ └─fc (Linear): 4-1 | [5, 3] | 12 | 90',
      '│ │ │ └─act (ReLU): 4-2 | [5, 3] | -- | 15',
      '│ │ └─add (Add): 3-2 | [5, 3] | -- | 15',
      '│ └─1 (Module): 2-2 | [5, 3] | 12 | 120',
      '│ │ └─block (Module): 3-1 | [5, 3] | 12 | 105',
      '│ │ │ └─fc (Linear): 4-1 | [5, 3] | 12 | 90',
      '│ │ │ └─act (ReLU): 4-2 | [5, 3] | -- | 15',
      '│ │ └─add (Add): 3-2 | [5, 3] | -- | 15',
      '├─head (Linear): 1-4 | [5, 2] | 8 | 60',
      '├─loss_fn (CrossEntropyLoss): 1-5 | [] | -- | 50',
    ].map((r) => r.replace(/│ /g, '│    ').replace(/\s{2,}/g, ' | ')));
  });

  it('the totals are the layers\', each copy counted once', () => {
    expect(text).toContain('Total params: 47\n'); // 15 + 2 x 12 + 8
    expect(text).toMatch(/^Grouped$/m);
  });
});
