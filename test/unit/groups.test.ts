/**
 * Groups as PyTorch submodules (engine/graph/groups.ts): full names, nesting, repeats chained output to input,
 * flat ids, and every malformed group reported as a problem rather than thrown.
 */
import { describe, expect, it } from 'vitest';
import { MAX_FLAT_NODES, flattenGroups, flatOrigin } from '../../engine/graph/groups.js';
import type { EdgeDoc, GraphDoc, GroupDoc, NodeDoc } from '../../engine/graph/document.js';

const node = (id: string, type: string, group?: string, name = id): NodeDoc => ({ id, type, name, params: {}, ...(group ? { group } : {}) });
const edge = (source: string, target: string, id = `${source}-${target}`): EdgeDoc => ({ id, source, target });
const group = (id: string, extra: Partial<GroupDoc> = {}): GroupDoc => ({ id, name: id, collapsed: false, ...extra });

/** A chain a -> b -> c ... with edges named "<source>-<target>". */
const chained = (nodes: NodeDoc[], groups: GroupDoc[] = []): GraphDoc => ({
  nodes,
  edges: nodes.slice(1).map((n, i) => edge(nodes[i].id, n.id)),
  groups,
});

const names = (g: GraphDoc) => flattenGroups(g).graph.nodes.map((n) => n.name);
const edgeList = (g: GraphDoc) => flattenGroups(g).graph.edges.map((e) => `${e.source}->${e.target}`);

describe('full names', () => {
  it('a node in a group is named <group>.<name>, a top-level node keeps its name', () => {
    const g = chained([node('in', 'Input'), node('conv1', 'Conv2d', 'enc'), node('fc', 'Linear')], [group('enc', { name: 'encoder' })]);
    expect(names(g)).toEqual(['in', 'encoder.conv1', 'fc']);
    expect(flattenGroups(g).problems).toEqual([]);
    expect(flattenGroups(g).paths.get('enc')).toBe('encoder');
  });

  it('groups nest through parent: the path is every ancestor, dot-joined', () => {
    const g = chained([node('in', 'Input'), node('c', 'Conv2d', 'blk', 'conv'), node('r', 'ReLU', 'enc', 'act')], [group('enc', { name: 'encoder' }), group('blk', { name: 'block', parent: 'enc' })]);
    const f = flattenGroups(g);
    expect(f.graph.nodes.map((n) => n.name)).toEqual(['in', 'encoder.block.conv', 'encoder.act']);
    expect(f.paths.get('blk')).toBe('encoder.block');
    expect(f.members.get('enc')).toEqual(['c', 'r']);
    expect(f.members.get('blk')).toEqual(['c']);
    expect(f.scopes.get('c')).toEqual([{ groupId: 'enc', path: 'encoder' }, { groupId: 'blk', path: 'encoder.block' }]);
  });

  it('flat nodes carry no group field, and dotted node names stay dotted under their group', () => {
    const g = chained([node('in', 'Input'), node('x', 'Linear', 'g', 'seq.0')], [group('g')]);
    const [, x] = flattenGroups(g).graph.nodes;
    expect(x).toEqual({ id: 'x', type: 'Linear', name: 'g.seq.0', params: {} });
  });
});

describe('repeat', () => {
  const block = (repeat: number) => chained([node('in', 'Input'), node('conv', 'Conv2d', 'L'), node('relu', 'ReLU', 'L'), node('fc', 'Linear')], [group('L', { name: 'layer1', repeat })]);

  it('repeat 1 is an nn.Sequential of one block: layer1.0.conv, ids and edges unchanged', () => {
    const f = flattenGroups(block(1));
    expect(f.graph.nodes.map((n) => [n.id, n.name])).toEqual([['in', 'in'], ['conv', 'layer1.0.conv'], ['relu', 'layer1.0.relu'], ['fc', 'fc']]);
    expect(edgeList(block(1))).toEqual(['in->conv', 'conv->relu', 'relu->fc']);
    expect(f.scopes.get('conv')).toEqual([{ groupId: 'L', path: 'layer1', copy: 0 }]);
  });

  it('repeat 2 chains copy 0 into copy 1, and the edge leaving the group leaves from copy 1', () => {
    const f = flattenGroups(block(2));
    expect(f.graph.nodes.map((n) => [n.id, n.name])).toEqual([
      ['in', 'in'], ['conv', 'layer1.0.conv'], ['relu', 'layer1.0.relu'], ['fc', 'fc'], ['conv@1', 'layer1.1.conv'], ['relu@1', 'layer1.1.relu'],
    ]);
    expect(f.graph.edges.map((e) => `${e.id}: ${e.source}->${e.target}`)).toEqual([
      'in-conv: in->conv', 'conv-relu: conv->relu', 'relu-fc: relu@1->fc', 'conv-relu@1: conv@1->relu@1', 'in-conv@1: relu->conv@1',
    ]);
    expect(f.members.get('L')).toEqual(['conv', 'relu', 'conv@1', 'relu@1']);
    expect(f.paths.get('L')).toBe('layer1');
  });

  it('repeat 3: each copy feeds the next, the last one feeds the rest', () => {
    const f = flattenGroups(block(3));
    const from = new Map(f.graph.edges.map((e) => [e.target, e.source]));
    expect(from.get('conv')).toBe('in');
    expect(from.get('conv@1')).toBe('relu');
    expect(from.get('conv@2')).toBe('relu@1');
    expect(from.get('fc')).toBe('relu@2');
    expect(f.graph.nodes.filter((n) => n.type === 'Conv2d').map((n) => n.name)).toEqual(['layer1.0.conv', 'layer1.1.conv', 'layer1.2.conv']);
  });

  it('a residual block inside a repeat: the source feeds two nodes inside, every copy gets both edges', () => {
    // in -> [conv -> relu -> add(relu, skip from the block input)] x 2 -> fc
    const g: GraphDoc = {
      nodes: [node('in', 'Input'), node('conv', 'Conv2d', 'B'), node('relu', 'ReLU', 'B'), node('add', 'Add', 'B'), node('fc', 'Linear')],
      edges: [edge('in', 'conv'), edge('conv', 'relu'), edge('relu', 'add'), edge('in', 'add', 'skip'), edge('add', 'fc')],
      groups: [group('B', { name: 'block', repeat: 2 })],
    };
    const f = flattenGroups(g);
    expect(f.problems).toEqual([]);
    const into = (t: string) => f.graph.edges.filter((e) => e.target === t).map((e) => e.source).sort();
    expect(into('conv')).toEqual(['in']);
    expect(into('add')).toEqual(['in', 'relu']);
    expect(into('conv@1')).toEqual(['add']);
    expect(into('add@1')).toEqual(['add', 'relu@1']);
    expect(into('fc')).toEqual(['add@1']);
    expect(f.graph.edges.find((e) => e.id === 'skip@1')).toMatchObject({ source: 'add', target: 'add@1' });
  });

  it('nested repeats multiply: ids count copies outermost first, names carry both indices', () => {
    const g = chained([node('in', 'Input'), node('c', 'Conv2d', 'blk', 'conv'), node('fc', 'Linear')],
      [group('st', { name: 'stage', repeat: 2 }), group('blk', { name: 'block', parent: 'st', repeat: 3 })]);
    const f = flattenGroups(g);
    const convs = f.graph.nodes.filter((n) => n.type === 'Conv2d');
    expect(convs.map((n) => `${n.id}=${n.name}`).sort()).toEqual([
      'c=stage.0.block.0.conv', 'c@1=stage.0.block.1.conv', 'c@2=stage.0.block.2.conv',
      'c@3=stage.1.block.0.conv', 'c@4=stage.1.block.1.conv', 'c@5=stage.1.block.2.conv',
    ]);
    // one chain through all six copies, in name order
    const from = new Map(f.graph.edges.map((e) => [e.target, e.source]));
    const order: string[] = [];
    for (let at = from.get('fc'); at && at !== 'in'; at = from.get(at)) order.unshift(f.graph.nodes.find((n) => n.id === at)!.name);
    expect(order).toEqual([...convs.map((n) => n.name)].sort());
    expect(f.paths.get('blk')).toBe('stage.0.block');
    expect(f.scopes.get('c@4')).toEqual([{ groupId: 'st', path: 'stage', copy: 1 }, { groupId: 'blk', path: 'stage.1.block', copy: 1 }]);
  });

  it('an edge without an id gets "edge #<index>@<copy>" in the copies and stays id-less in copy 0', () => {
    const g: GraphDoc = { nodes: [node('in', 'Input'), node('a', 'ReLU', 'G'), node('b', 'ReLU', 'G'), node('o', 'Linear')],
      edges: [{ source: 'in', target: 'a' }, { source: 'a', target: 'b' }, { source: 'b', target: 'o' }], groups: [group('G', { repeat: 2 })] };
    const e = flattenGroups(g).graph.edges;
    expect(e.slice(0, 3).map((x) => x.id)).toEqual([undefined, undefined, undefined]);
    expect(e.slice(3).map((x) => x.id)).toEqual(['edge #1@1', 'edge #0@1']);
  });
});

describe('problems instead of throws', () => {
  const codes = (g: GraphDoc) => flattenGroups(g).problems.map((p) => `${p.code} ${p.groupId}`);

  it('a node in a group that does not exist', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'ghost')], []);
    expect(codes(g)).toEqual(['GROUP_UNKNOWN ghost']);
    expect(flattenGroups(g).problems[0].message).toBe('node a is in the group "ghost", but there is no such group');
    expect(flattenGroups(g).members.get('ghost')).toEqual(['a']);
    expect(names(g)).toEqual(['in', 'a']);
  });

  it('a group whose parent does not exist is treated as top-level', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'g')], [group('g', { parent: 'nope' })]);
    expect(codes(g)).toEqual(['GROUP_UNKNOWN g']);
    expect(names(g)).toEqual(['in', 'g.a']);
  });

  it('a parent cycle is reported on every group of the loop, not followed forever', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'x'), node('b', 'ReLU', 'z')],
      [group('x', { parent: 'y' }), group('y', { parent: 'x' }), group('z', { parent: 'x' })]);
    expect(codes(g).sort()).toEqual(['GROUP_CYCLE x', 'GROUP_CYCLE y']);
    expect(names(g)).toEqual(['in', 'x.a', 'x.z.b']);
  });

  it('a group inside itself', () => {
    expect(codes(chained([node('in', 'Input'), node('a', 'ReLU', 'x')], [group('x', { parent: 'x' })]))).toEqual(['GROUP_CYCLE x']);
  });

  it('two sibling groups with one name, and a group named like a node beside it', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'g1', 'r'), node('b', 'ReLU', 'g2', 'r'), node('enc', 'ReLU')],
      [group('g1', { name: 'enc2' }), group('g2', { name: 'enc2' }), group('g3', { name: 'enc' })]);
    expect(codes(g)).toEqual(['GROUP_DUPLICATE_NAME g2', 'GROUP_DUPLICATE_NAME g3']);
    expect(flattenGroups(g).problems[0].message).toContain('group enc2 has the same name as group enc2');
  });

  it('same names under different parents are fine', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'b1', 'r'), node('b', 'ReLU', 'b2', 'r')],
      [group('p1'), group('p2'), group('b1', { name: 'block', parent: 'p1' }), group('b2', { name: 'block', parent: 'p2' })]);
    expect(codes(g)).toEqual([]);
    expect(names(g)).toEqual(['in', 'p1.block.r', 'p2.block.r']);
  });

  it('a repeated group fed by two outside sources is reported and left as one copy', () => {
    const g: GraphDoc = {
      nodes: [node('in', 'Input'), node('x', 'ReLU'), node('y', 'ReLU'), node('add', 'Add', 'G'), node('fc', 'Linear')],
      edges: [edge('in', 'x'), edge('in', 'y'), edge('x', 'add'), edge('y', 'add'), edge('add', 'fc')],
      groups: [group('G', { repeat: 3 })],
    };
    const f = flattenGroups(g);
    expect(codes(g)).toEqual(['GROUP_REPEAT_PORTS G']);
    expect(f.problems[0].message).toContain('2 feed it (x, y) and 1 lead out (add)');
    expect(f.graph.nodes.map((n) => n.name)).toEqual(['in', 'x', 'y', 'G.0.add', 'fc']);
  });

  it('a repeated group with two nodes leading out, or none, is reported', () => {
    const two: GraphDoc = {
      nodes: [node('in', 'Input'), node('a', 'ReLU', 'G'), node('b', 'ReLU', 'G'), node('add', 'Add')],
      edges: [edge('in', 'a'), edge('a', 'b'), edge('a', 'add'), edge('b', 'add')],
      groups: [group('G', { repeat: 2 })],
    };
    expect(codes(two)).toEqual(['GROUP_REPEAT_PORTS G']);
    const none = chained([node('in', 'Input'), node('a', 'ReLU', 'G')], [group('G', { repeat: 2 })]);
    expect(flattenGroups(none).problems[0].message).toContain('1 feed it (in) and 0 lead out');
  });

  it('nested repeats past MAX_FLAT_NODES: the outer repeat is refused before anything that large is built', () => {
    // 64 x 64 x 64 copies of one node would be 262,144 layers
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'c'), node('o', 'Linear')],
      [group('a1', { repeat: 64 }), group('b', { parent: 'a1', repeat: 64 }), group('c', { parent: 'b', repeat: 64 })]);
    const f = flattenGroups(g);
    expect(codes(g)).toEqual(['GROUP_TOO_LARGE a1']);
    expect(f.problems[0].message).toBe('group a1 repeated 64 times would make 262,146 layers (the most Netloom builds is 20,000)');
    expect(f.graph.nodes).toHaveLength(2 + 64 * 64);
    expect(f.graph.nodes.length).toBeLessThanOrEqual(MAX_FLAT_NODES);
  });

  it('a repeat outside 1..64 (the API does not check it) is reported and not expanded', () => {
    for (const repeat of [0, -2, 1.5, 65]) {
      const g = chained([node('in', 'Input'), node('a', 'ReLU', 'G'), node('o', 'Linear')], [group('G', { repeat })]);
      expect(codes(g), String(repeat)).toEqual(['GROUP_BAD_REPEAT G']);
      expect(names(g)).toEqual(['in', 'G.0.a', 'o']);
    }
  });

  it('duplicate group ids are reported', () => {
    expect(codes(chained([node('in', 'Input')], [group('g'), group('g', { name: 'other' })]))).toEqual(['GROUP_DUPLICATE_NAME g']);
  });
});

describe('properties', () => {
  /** A small random chain with one repeated group somewhere in the middle (deterministic: a seeded LCG). */
  function randomRepeat(seed: number): { g: GraphDoc; inside: number; repeat: number } {
    let s = seed;
    const rand = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    const before = 1 + rand(3);
    const inside = 1 + rand(4);
    const after = 1 + rand(3);
    const repeat = 1 + rand(5);
    const nodes = [node('n0', 'Input')];
    for (let k = 1; k < before + inside + after; k++) nodes.push(node(`n${k}`, 'ReLU', k >= before && k < before + inside ? 'G' : undefined));
    return { g: chained(nodes, [group('G', { repeat })]), inside, repeat };
  }

  it('a repeat N has N x the group nodes in the flat graph, every full name unique, one chain end to end', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { g, inside, repeat } = randomRepeat(seed);
      const f = flattenGroups(g);
      expect(f.problems).toEqual([]);
      expect(f.members.get('G')).toHaveLength(inside * repeat);
      expect(f.graph.nodes).toHaveLength(g.nodes.length + inside * (repeat - 1));
      expect(new Set(f.graph.nodes.map((n) => n.name)).size).toBe(f.graph.nodes.length);
      // a chain stays a chain: every node but the first has exactly one input, edges = nodes - 1
      expect(f.graph.edges).toHaveLength(f.graph.nodes.length - 1);
      const targets = f.graph.edges.map((e) => e.target);
      expect(new Set(targets).size).toBe(targets.length);
      for (const n of f.graph.nodes) expect(flatOrigin(n.id).id).toBe(g.nodes.find((d) => d.name === n.name.split('.').at(-1))!.id);
    }
  });

  /** Any document at all: random groups (unknown parents, loops, repeats 1..4), random extra edges (dangling ones too). */
  function randomDocument(seed: number): GraphDoc {
    let s = seed;
    // an LCG's low bits cycle quickly: the high ones pick
    const rand = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), Math.floor(s / 2 ** 16) % n);
    const count = 1 + rand(4);
    const groups: GroupDoc[] = Array.from({ length: count }, (_, k) => {
      const parent = rand(2) ? undefined : rand(8) === 0 ? 'nowhere' : `g${rand(count)}`;
      const repeat = rand(2) ? 1 + rand(4) : undefined;
      return group(`g${k}`, { name: `m${rand(4)}`, ...(parent ? { parent } : {}), ...(repeat ? { repeat } : {}) });
    });
    // a chain whose layers sit in runs of one group (so repeats can expand), plus a few random edges
    let current: string | undefined;
    const nodes = Array.from({ length: 2 + rand(7) }, (_, k) => {
      if (rand(3) === 0) current = rand(3) ? `g${rand(count + 1)}` : undefined;
      return node(`n${k}`, 'ReLU', current, `l${rand(4)}`);
    });
    const edges = nodes.slice(1).map((n, k) => edge(nodes[k].id, n.id, `c${k}`));
    for (let k = rand(4) - 1; k > 0; k--) edges.push(edge(`n${rand(nodes.length + 1)}`, `n${rand(nodes.length)}`, `e${k}`));
    return { nodes, edges, groups };
  }

  it('any document flattens without throwing: flat ids unique, edges between flat nodes, every copy traced back', () => {
    let expanded = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const g = randomDocument(seed);
      const f = flattenGroups(g);
      const ids = f.graph.nodes.map((n) => n.id);
      expect(new Set(ids).size, `seed ${seed}`).toBe(ids.length);
      const edgeIds = f.graph.edges.map((e) => e.id);
      expect(new Set(edgeIds).size, `seed ${seed}`).toBe(edgeIds.length);
      // an edge to a node that does not exist stays as drawn (analysis reports it); every other endpoint is a flat node
      const drawn = new Set(g.nodes.map((n) => n.id));
      const known = new Set([...ids, ...g.edges.flatMap((e) => [e.source, e.target]).filter((id) => !drawn.has(id))]);
      for (const e of f.graph.edges) expect(known.has(e.source) && known.has(e.target), `seed ${seed}: ${e.source}->${e.target}`).toBe(true);
      for (const n of f.graph.nodes) expect(g.nodes.some((d) => d.id === flatOrigin(n.id).id), `seed ${seed}: ${n.id}`).toBe(true);
      // without problems, full names are what make keys: two equal ones come only from two equal drawn names
      if (f.problems.length === 0) {
        const byName = new Map<string, string>();
        for (const n of f.graph.nodes) {
          const other = byName.get(n.name);
          if (other !== undefined) expect(g.nodes.find((d) => d.id === flatOrigin(other).id)!.name, `seed ${seed}`).toBe(g.nodes.find((d) => d.id === flatOrigin(n.id).id)!.name);
          byName.set(n.name, n.id);
        }
        if (f.graph.nodes.length > g.nodes.length) expanded++;
      }
    }
    expect(expanded, 'clean documents whose repeats expanded').toBeGreaterThan(3);
  });

  it('a group-free graph flattens to itself', () => {
    const g = chained([node('in', 'Input'), node('a', 'Linear', undefined, 'seq.0'), node('loss', 'CrossEntropyLoss')]);
    delete g.groups;
    const f = flattenGroups(g);
    expect(f.graph.nodes).toBe(g.nodes);
    expect(f.graph.edges).toBe(g.edges);
    expect([f.paths.size, f.members.size, f.scopes.size, f.problems.length]).toEqual([0, 0, 0, 0]);
    expect(flattenGroups({ ...g, groups: [] }).graph.nodes).toBe(g.nodes);
  });

  it('groups without repeats keep the graph: same ids, same edges, only names change', () => {
    const g = chained([node('in', 'Input'), node('a', 'ReLU', 'p'), node('b', 'ReLU', 'q'), node('c', 'ReLU')], [group('p'), group('q', { parent: 'p' })]);
    const f = flattenGroups(g);
    expect(f.graph.nodes.map((n) => n.id)).toEqual(g.nodes.map((n) => n.id));
    expect(f.graph.edges).toEqual(g.edges);
  });

  it('flatOrigin undoes the copy suffix', () => {
    expect(flatOrigin('conv@2')).toEqual({ id: 'conv', copy: 2 });
    expect(flatOrigin('conv')).toEqual({ id: 'conv', copy: 0 });
    expect(flatOrigin('a@b@10')).toEqual({ id: 'a@b', copy: 10 });
    expect(flatOrigin('x@0')).toEqual({ id: 'x@0', copy: 0 });
  });
});
