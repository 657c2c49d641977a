import { NODE_NAME_RE } from '../state/graph';
import { register } from './registry';

/** Why `name` cannot name node `id`, or null when it can. Names become state-dict prefixes. */
export function nameProblem(name: string, id: string, taken: { id: string; name: string }[]): string | null {
  if (!name) return 'A name is required: it becomes the state-dict prefix (fc1.weight).';
  if (!NODE_NAME_RE.test(name)) return 'Use letters, digits and _ separated by dots, like a PyTorch module path (fc1, layer1.conv2).';
  const other = taken.find((n) => n.name === name && n.id !== id);
  if (other) return `"${name}" is already used by another layer; names must be unique.`;
  return null;
}

export const actionRenameNode = register<{ id: string; name: string }>({
  name: 'renameNode',
  label: 'Rename layer',
  category: 'Edit',
  perform(ctx, { id, name }) {
    const s = ctx.state();
    const node = s.nodes.find((n) => n.id === id);
    if (!node || node.data.name === name) return;
    const problem = nameProblem(name, id, s.nodes.filter((n) => n.data.group === node.data.group).map((n) => ({ id: n.id, name: n.data.name })));
    if (problem) throw new Error(problem);
    s.commit([{ kind: 'updateNode', id, before: { name: node.data.name }, after: { name } }], 'Rename', { mergeKey: `name:${id}` });
  },
});
