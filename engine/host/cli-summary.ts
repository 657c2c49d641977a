/**
 * `netloom summary <project>`: the model summary as torchinfo prints it (torchinfo.summary(model,
 * row_settings=("var_names",))): a tree of the module's children, each row its attribute name, type,
 * depth-index, output shape and parameters, then the totals. Groups are the tree's inner rows ("layer1
 * (Sequential)", "0 (Module)"), their layers one level deeper, named relative to them as an nn.Module's
 * attributes are; the depth-index is torchinfo's (depth 1 at the top level, counted per depth).
 */
import type { Command } from 'commander';
import { NetloomError } from '../errors.js';
import { analyzeGraph } from '../graph/analyze.js';
import { summarize, type ModelSummary, type SummaryRow } from '../graph/summary.js';
import { readProject } from '../train/job.js';

const RULE = '='.repeat(96);
const count = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

/** Rows' first column: the tree lines, the name relative to the enclosing group, the type and depth-index. */
function firstColumns(rows: readonly SummaryRow[]): string[] {
  const parents: string[] = [];
  const perDepth: number[] = [];
  return rows.map((r) => {
    const depth = r.depth ?? 0;
    parents.length = depth;
    perDepth.length = depth + 1;
    perDepth[depth] = (perDepth[depth] ?? 0) + 1;
    const parent = parents[depth - 1];
    const name = parent !== undefined && r.name.startsWith(`${parent}.`) ? r.name.slice(parent.length + 1) : r.name;
    if (r.groupId !== undefined) parents[depth] = r.name;
    const tree = depth === 0 ? '├─' : `${'│    '.repeat(depth)}└─`;
    return `${tree}${name} (${r.type}): ${depth + 1}-${perDepth[depth]}`;
  });
}

/** The whole table, as text (ends with a newline). */
export function summaryText(title: string, s: ModelSummary, batchSize: number): string {
  const first = firstColumns(s.rows);
  const width = Math.max(40, ...first.map((c) => c.length + 2), title.length + 2);
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(width)}${b.padEnd(26)}${c.padStart(14)}${d.padStart(16)}`.trimEnd();
  const rule = '='.repeat(Math.max(RULE.length, width + 56));
  const out = [rule, line('Layer (type (var_name): depth-idx)', 'Output Shape', 'Param #', 'FLOPs'), rule, line(title, '', '', '')];
  s.rows.forEach((r, i) => out.push(line(first[i], r.outShape ? `[${r.outShape.join(', ')}]` : '--', r.params ? count(r.params) : '--', r.flops ? count(r.flops) : '--')));
  out.push(
    rule,
    `Total params: ${count(s.totalParams)}`,
    `Trainable params: ${count(s.trainableParams)}`,
    `Non-trainable params: ${count(s.totalParams - s.trainableParams)}`,
    `Total FLOPs (batch ${batchSize}): ${count(s.totalFlops)}`,
    rule,
    `Forward/backward pass size (MB): ${mb(s.activationBytes)}`,
    `Params size (MB): ${mb(s.paramBytes)}`,
    rule,
  );
  return `${out.join('\n')}\n`;
}

/** Prints the summary; a graph with problems gets its table (what is known) and then an NL_BAD_GRAPH error. */
async function printSummary(projectPath: string, f: { batchSize?: number }): Promise<void> {
  const project = await readProject(projectPath);
  const batchSize = f.batchSize ?? project.training.batch_size;
  const analysis = analyzeGraph(project.graph, { batchSize });
  process.stdout.write(summaryText(project.name, summarize(analysis, batchSize), batchSize));
  if (analysis.issues.length) {
    const lines = analysis.issues.map((i) => `  - ${i.message}\n    fix: ${i.hint}`);
    throw new NetloomError('NL_BAD_GRAPH', `${projectPath}: the network has ${analysis.issues.length} problem${analysis.issues.length > 1 ? 's' : ''} (rows without a shape above):\n${lines.join('\n')}`,
      'Fix the problems above in the project file or on the canvas.');
  }
}

export function addSummaryCommand(program: Command, helpPointer: (command?: string) => string, batchSizeFlag: (v: string) => number): void {
  program
    .command('summary')
    .description("print the model summary as torchinfo does: layers nested by group, output shapes, parameters, FLOPs")
    .argument('<project>', 'project file')
    .option('--batch-size <n>', 'batch size of the shapes and FLOPs (default: the project\'s)', batchSizeFlag)
    .showHelpAfterError(helpPointer('summary'))
    .action((project: string, f: { batchSize?: number }) => printSummary(project, f));
}
