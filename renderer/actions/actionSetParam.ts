import { register } from './registry';

export interface SetParamArg {
  id: string;
  param: string;
  /** undefined removes the key (back to the layer's default) */
  value: unknown;
}

/** Sets one parameter of one node, as the user typed it (typing into one field is one undo step). */
export const actionSetParam = register<SetParamArg>({
  name: 'setParam',
  label: 'Set parameter',
  category: 'Edit',
  perform(ctx, { id, param, value }) {
    const s = ctx.state();
    const node = s.nodes.find((n) => n.id === id);
    if (!node) return;
    const before = node.data.params;
    if (JSON.stringify(before[param]) === JSON.stringify(value)) return;
    const after = { ...before };
    if (value === undefined) delete after[param];
    else after[param] = value;
    s.commit([{ kind: 'updateNode', id, before: { params: before }, after: { params: after } }], `Set ${param}`, { mergeKey: `param:${id}:${param}` });
  },
});
