/**
 * The canvas's group rules without a browser (renderer/state/groups.ts): grouping keeps state-dict keys,
 * nests, refuses a half-selected group, names are checked like nn.Module attributes, ungroup and undo
 * restore the graph, and the project file round-trips groups.
 */
import { describe, expect, it } from 'vitest';
import { applyChanges, applyGroupChanges, fromGraphDto, fromGroupDtos, invertChanges, toFlowNode, toGraphDto, type DocGroup, type GraphChange, type LayerNode } from '../../renderer/state/graph.js';
import { copyPrefixes, emptiedGroups, fullName, groupNameProblem, groupPath, memberIds, parseRepeat, planGroup, planUngroup, suggestGroupName } from '../../renderer/state/groups.js';

function nodes(spec: Record<string, string | [string, string]>, selected: string[] = []): LayerNode[] {
  return Object.entries(spec).map(([id, v], i) => {
    const [name, group] = Array.isArray(v) ? v : [v, undefined];
    return toFlowNode({ id, type: 'Linear', name, params: {}, position: { x: 0, y: i * 100 }, ...(group ? { group } : {}) }, selected.includes(id));
  });
}

function apply(ns: LayerNode[], gs: DocGroup[], changes: GraphChange[]) {
  return { nodes: applyChanges(ns, [], changes).nodes, groups: applyGroupChanges(gs, changes) };
}

/** every node's state-dict prefix, as copy 0 names it */
const keys = (ns: LayerNode[], gs: DocGroup[]) => ns.map((n) => fullName(gs, n.data.group, n.data.name)).sort();

describe('group', () => {
  it('keeps the keys of encoder.conv1 and encoder.fc when grouped as encoder, and one undo restores them', () => {
    const ns = nodes({ a: 'encoder.conv1', b: 'encoder.fc', c: 'head' }, ['a', 'b']);
    expect(suggestGroupName(ns, [], ['a', 'b'])).toBe('encoder');
    const plan = planGroup(ns, [], ['a', 'b'], 'encoder', 'g1');
    if (!plan.ok) throw new Error(plan.message);
    const after = apply(ns, [], plan.changes);
    expect(after.nodes.map((n) => [n.data.name, n.data.group])).toEqual([['conv1', 'g1'], ['fc', 'g1'], ['head', undefined]]);
    expect(keys(after.nodes, after.groups)).toEqual(['encoder.conv1', 'encoder.fc', 'head']);
    const undone = apply(after.nodes, after.groups, invertChanges(plan.changes));
    expect(undone.groups).toEqual([]);
    expect(undone.nodes.map((n) => n.data.name)).toEqual(['encoder.conv1', 'encoder.fc', 'head']);
  });

  it('prefixes other names with the group, and nests a group made inside a group', () => {
    const ns = nodes({ a: 'conv1', b: 'bn1', c: 'fc' });
    const outer = planGroup(ns, [], ['a', 'b'], 'layer1', 'g1');
    if (!outer.ok) throw new Error(outer.message);
    let st = apply(ns, [], outer.changes);
    const inner = planGroup(st.nodes, st.groups, ['b'], 'block', 'g2');
    if (!inner.ok) throw new Error(inner.message);
    st = apply(st.nodes, st.groups, inner.changes);
    expect(st.groups.find((g) => g.id === 'g2')?.parent).toBe('g1');
    expect(groupPath(st.groups, 'g2')).toBe('layer1.block');
    expect(keys(st.nodes, st.groups)).toEqual(['fc', 'layer1.block.bn1', 'layer1.conv1']);
    expect(memberIds(st.nodes, st.groups, 'g1').sort()).toEqual(['a', 'b']);
  });

  it('wraps a whole nested group in a new one, and refuses a group selected in part', () => {
    const gs: DocGroup[] = [{ id: 'g1', name: 'block', collapsed: false }];
    const ns = nodes({ a: ['conv1', 'g1'], b: ['conv2', 'g1'], c: 'fc' });
    const whole = planGroup(ns, gs, ['a', 'b', 'c'], 'encoder', 'g2');
    if (!whole.ok) throw new Error(whole.message);
    const st = apply(ns, gs, whole.changes);
    expect(keys(st.nodes, st.groups)).toEqual(['encoder.block.conv1', 'encoder.block.conv2', 'encoder.fc']);
    const part = planGroup(ns, gs, ['a', 'c'], 'encoder', 'g2');
    expect(part.ok).toBe(false);
    expect(!part.ok && part.message).toContain('Only part of group "block"');
  });

  it('checks a name like an nn.Module attribute: one identifier, unique among its siblings', () => {
    const gs: DocGroup[] = [{ id: 'g1', name: 'encoder', collapsed: false }];
    const ns = nodes({ a: ['conv1', 'g1'], b: 'fc1', c: 'head.fc' });
    expect(groupNameProblem('', undefined, ns, gs)).toMatch(/required/);
    expect(groupNameProblem('a.b', undefined, ns, gs)).toMatch(/no dots/);
    expect(groupNameProblem('encoder', undefined, ns, gs)).toMatch(/already used/);
    expect(groupNameProblem('fc1', undefined, ns, gs)).toMatch(/already used/);
    expect(groupNameProblem('head', undefined, ns, gs)).toMatch(/already used/);
    // the same name one level down is another module's attribute
    expect(groupNameProblem('conv2', 'g1', ns, gs)).toBeNull();
    expect(groupNameProblem('conv1', 'g1', ns, gs)).toMatch(/already used/);
    // renaming a group to its own name is no clash
    expect(groupNameProblem('encoder', undefined, ns, gs, 'g1')).toBeNull();
  });

  it('ungroups back to the same keys, and removes groups a delete leaves empty, innermost first', () => {
    const gs: DocGroup[] = [{ id: 'g1', name: 'enc', collapsed: false }, { id: 'g2', name: 'block', parent: 'g1', collapsed: false }];
    const ns = nodes({ a: ['conv1', 'g1'], b: ['bn', 'g2'] });
    const st = apply(ns, gs, planUngroup(ns, gs, 'g1'));
    expect(st.groups).toEqual([{ id: 'g2', name: 'block', collapsed: false }]);
    expect(st.nodes.map((n) => [n.data.name, n.data.group])).toEqual([['enc.conv1', undefined], ['bn', 'g2']]);
    expect(emptiedGroups(ns, gs, new Set(['b'])).map((g) => g.id)).toEqual(['g2']);
    expect(emptiedGroups(ns, gs, new Set(['a', 'b'])).map((g) => g.id)).toEqual(['g2', 'g1']);
  });
});

describe('repeat', () => {
  it('names copy 0 with its index and lists every copy prefix', () => {
    const gs: DocGroup[] = [{ id: 'g1', name: 'layer1', collapsed: false, repeat: 3 }, { id: 'g2', name: 'downsample', parent: 'g1', collapsed: false }];
    expect(fullName(gs, 'g2', '0')).toBe('layer1.0.downsample.0');
    expect(copyPrefixes(gs, 'g1')).toEqual(['layer1.0.', 'layer1.1.', 'layer1.2.']);
    expect(copyPrefixes(gs, 'g2')).toEqual([]);
  });

  it('accepts 1..64 or empty and says why otherwise', () => {
    expect(parseRepeat('')).toEqual({ ok: true, value: undefined });
    expect(parseRepeat(' 3 ')).toEqual({ ok: true, value: 3 });
    for (const bad of ['0', '65', '2.5', 'x', '-1']) expect(parseRepeat(bad).ok).toBe(false);
  });
});

describe('project file', () => {
  it('round-trips groups and each node group, leaving defaults out', () => {
    const gs: DocGroup[] = [{ id: 'g1', name: 'layer1', collapsed: true, repeat: 2, position: { x: 10.4, y: 20 } }, { id: 'g2', name: 'b', parent: 'g1', collapsed: false }];
    const ns = nodes({ a: ['conv1', 'g2'], b: 'fc' });
    const dto = toGraphDto(ns, [], gs);
    expect(dto.groups).toEqual([{ id: 'g1', name: 'layer1', collapsed: true, repeat: 2, position: { x: 10, y: 20 } }, { id: 'g2', name: 'b', parent: 'g1' }]);
    expect(dto.nodes[0].group).toBe('g2');
    expect('group' in dto.nodes[1]).toBe(false);
    expect(fromGroupDtos(dto.groups)).toEqual([{ id: 'g1', name: 'layer1', collapsed: true, repeat: 2, position: { x: 10, y: 20 } }, { id: 'g2', name: 'b', parent: 'g1', collapsed: false }]);
    expect(fromGraphDto(dto, {}).nodes.map((n) => n.group)).toEqual(['g2', undefined]);
    // a graph without groups stays as it was: no `groups` key
    expect('groups' in toGraphDto(ns, [])).toBe(false);
  });
});
