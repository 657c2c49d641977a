/**
 * forward()'s body: the graph in Netloom's topological order, as a person writes it. A chain
 * reuses `x` (`x = self.fc1(x)`); a value that another branch still needs is kept under its node's
 * name (`relu1 = x`) while the chain goes on in x, so a ResNet's skip reads `x = x + relu1`.
 * A variable is overwritten only by the last step that reads it.
 */
import type { Analysis, AnalyzedNode } from '../../graph/analyze.js';
import { layerCode } from './layers.js';
import { moduleRef, type ModuleTree } from './naming.js';
import { variableName } from './python.js';

interface Step {
  /** the node whose value this step produces (a chain's last member) */
  out: string;
  /** the value ids read, in argument order */
  inputs: string[];
  /** the name the fresh variable is derived from */
  name: string;
  call: (args: readonly string[]) => string;
}

/** The steps: one per node, a Sequential chain as one call where its last member stands. */
function steps(a: Analysis, tree: ModuleTree): Step[] {
  const out: Step[] = [];
  for (const n of a.order) {
    if (n.spec.isLoss || n.doc.id === a.inputId) continue;
    const chain = tree.chainOf.get(n.doc.id);
    if (chain) {
      const last = chain.nodes[chain.nodes.length - 1];
      if (last.doc.id !== n.doc.id) continue;
      out.push({ out: n.doc.id, inputs: [chain.nodes[0].inputs[0]], name: chain.path.join('.'), call: ([x]) => `${moduleRef(chain.path)}(${x})` });
      continue;
    }
    const code = layerCode(n);
    const call = code.kind === 'op' ? code.expr : (args: readonly string[]) => `${moduleRef(n.doc.name.split('.'))}(${args.join(', ')})`;
    out.push({ out: n.doc.id, inputs: [...n.inputs], name: n.doc.name, call });
  }
  return out;
}

/** What the model returns: the loss's prediction, and its target when the graph computes one. */
export function lossInputs(a: Analysis): { prediction: AnalyzedNode; target?: AnalyzedNode } {
  const loss = a.byId.get(a.lossId!)!;
  const target = loss.inputs[1] === undefined ? undefined : a.byId.get(loss.inputs[1]);
  return { prediction: a.byId.get(loss.inputs[0])!, target };
}

/** forward()'s statements (without indentation), ending in the return. */
export function forwardBody(a: Analysis, tree: ModuleTree): string[] {
  const list = steps(a, tree);
  const { prediction, target } = lossInputs(a);
  const returned = [prediction.doc.id, ...(target ? [target.doc.id] : [])];
  const lastUse = new Map<string, number>();
  list.forEach((s, k) => s.inputs.forEach((i) => lastUse.set(i, k)));
  returned.forEach((i) => lastUse.set(i, list.length));

  const varOf = new Map<string, string>([[a.inputId!, 'x']]);
  /** which value `x` holds now, and the node names values are called by */
  let inX = a.inputId!;
  const nameOf = new Map<string, string>([[a.inputId!, a.byId.get(a.inputId!)!.doc.name], ...list.map((s): [string, string] => [s.out, s.name])]);
  const taken = new Set(['x', 'self', 'torch', 'nn', 'F']);
  const fresh = (name: string) => {
    const v = variableName(name, taken);
    taken.add(v);
    return v;
  };
  const lines: string[] = [];
  list.forEach((s, k) => {
    const args = s.inputs.map((i) => varOf.get(i)!);
    const dying = s.inputs.filter((i) => lastUse.get(i) === k).map((i) => varOf.get(i)!);
    let v = dying.includes('x') ? 'x' : dying[0];
    if (v === undefined && args.includes('x')) {
      // the chain goes on in x; the value x held is still needed by another branch (a ResNet's
      // identity), so it keeps a name of its own
      const kept = fresh(nameOf.get(inX)!);
      lines.push(`${kept} = x`);
      varOf.set(inX, kept);
      v = 'x';
    }
    v ??= fresh(s.name);
    varOf.set(s.out, v);
    if (v === 'x') inX = s.out;
    lines.push(`${v} = ${s.call(args)}`);
  });
  lines.push(`return ${returned.map((i) => varOf.get(i)!).join(', ')}`);
  return lines;
}
