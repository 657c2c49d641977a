import type { IssueDto } from '../../engine/contract/api';
import { register } from './registry';

/** The one-click fix an analysis issue offers: set params[fix.param] = fix.value on its node. */
export const actionApplyFix = register<IssueDto>({
  name: 'applyFix',
  label: 'Apply fix',
  category: 'Edit',
  perform(ctx, issue) {
    if (!issue.fix || !issue.nodeId) return;
    const s = ctx.state();
    const node = s.nodes.find((n) => n.id === issue.nodeId);
    if (!node) return;
    const before = node.data.params;
    const after = { ...before, [issue.fix.param]: issue.fix.value };
    s.commit([{ kind: 'updateNode', id: node.id, before: { params: before }, after: { params: after } }], `Fix ${issue.fix.param}`);
  },
});
