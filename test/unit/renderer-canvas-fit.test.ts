/**
 * The issue-13 follow-ups' canvas logic without a browser: how big the minimap is for a pane (and
 * that the free-corner rule uses that size), which sides the ports take in each layout direction, and
 * when a view still counts as the last fit's (so a resized pane refits it).
 */
import { Position } from '@xyflow/react';
import { describe, expect, it } from 'vitest';
import { readableViewport, sameViewport } from '../../renderer/canvas/fit.js';
import { MINIMAP_BOX, chooseCorner, cornerRect, minimapBox, type Rect } from '../../renderer/canvas/minimapCorner.js';
import { portSides, spreadAlong } from '../../renderer/canvas/ports.js';
import { LAYER_GAP } from '../../renderer/state/layoutPrefs.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import { absolutePositions, elkGraphParts } from '../../renderer/canvas/groupLayout.js';
import { toFlowEdge, toFlowNode, type DocGroup } from '../../renderer/state/graph.js';

describe('minimap size', () => {
  it('is React Flow’s 200×150 on a big pane, smaller on a small one, and none on a tiny one', () => {
    expect(minimapBox({ width: 1500, height: 800 })).toEqual(MINIMAP_BOX);
    // the 1280x720 canvas: at most a sixth of its width and a quarter of its height, 4:3
    const small = minimapBox({ width: 800, height: 400 })!;
    expect(small.width - 2).toBeLessThanOrEqual(800 * 0.16);
    expect(small.height - 2).toBeLessThanOrEqual(400 * 0.25 + 1);
    expect(Math.abs((small.width - 2) / (small.height - 2) - 4 / 3)).toBeLessThan(0.02);
    expect((small.width * small.height) / (800 * 400)).toBeLessThan(0.05);
    // never shrunk past legible (120 px wide) while shown
    expect(minimapBox({ width: 500, height: 310 })!.width).toBe(122);
    expect(minimapBox({ width: 479, height: 600 })).toBeNull();
    expect(minimapBox({ width: 900, height: 299 })).toBeNull();
  });
  it('keeps the free-corner rule at its own size: a callout just outside the smaller box does not move it', () => {
    const pane: Rect = { left: 0, top: 0, right: 800, bottom: 400 };
    const box = minimapBox({ width: 800, height: 400 })!;
    const big = cornerRect(pane, 'bottom-right');
    const mine = cornerRect(pane, 'bottom-right', box);
    expect(mine.right).toBe(big.right);
    expect(mine.left).toBeGreaterThan(big.left);
    // a callout in the big box's area but left of the small one: the small minimap stays in its corner
    const callout: Rect = { left: big.left + 2, top: big.top + 2, right: mine.left - 2, bottom: big.top + 20 };
    expect(chooseCorner(pane, [callout], [callout], 'bottom-right')).toBe('top-right');
    expect(chooseCorner(pane, [callout], [callout], 'bottom-right', box)).toBe('bottom-right');
  });
});

describe('ports', () => {
  it('sit top and bottom top to bottom, left and right left to right', () => {
    expect(portSides('down')).toEqual({ input: Position.Top, output: Position.Bottom });
    expect(portSides('right')).toEqual({ input: Position.Left, output: Position.Right });
  });
  it('spread several inputs along their side', () => {
    const at = (d: 'down' | 'right', key: 'left' | 'top') => [0, 1].map((i) => parseFloat(String(spreadAlong(d, i, 2)[key])));
    expect(at('down', 'left')[0]).toBeCloseTo(33.333, 2);
    expect(at('down', 'left')[1]).toBeCloseTo(66.667, 2);
    expect(at('right', 'top')[0]).toBeCloseTo(33.333, 2);
    expect(at('right', 'top')[1]).toBeCloseTo(66.667, 2);
    expect(spreadAlong('down', 0, 2)).not.toHaveProperty('top');
    expect(spreadAlong('right', 0, 2)).not.toHaveProperty('left');
    expect(spreadAlong('right', 0, 1)).toEqual({ top: '50%' });
  });
  it('leave room for an edge label between layers laid out left to right', () => {
    // "64×16×10×10" in 10 px mono is about 80 px; the label must not reach the layers at both ends
    expect(LAYER_GAP.right).toBeGreaterThanOrEqual(100);
    expect(LAYER_GAP.down).toBeLessThan(LAYER_GAP.right);
  });
  it('auto-layout keeps that gap inside a group too, in both directions', async () => {
    // the graph actionAutoLayout hands ELK, its spacing given to the group's box as to the root
    const elkMod = (await import('elkjs/lib/elk.bundled.js')) as unknown as { default: new () => { layout(g: ElkNode): Promise<ElkNode> } };
    const elk = new elkMod.default();
    const layoutPositions = async (ns: typeof nodes, es: typeof edges, gs: DocGroup[], d: 'down' | 'right') => {
      const spacing = { 'elk.spacing.nodeNode': '48', 'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP[d]) };
      const options = { 'elk.algorithm': 'layered', 'elk.direction': d === 'right' ? 'RIGHT' : 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN', ...spacing };
      return absolutePositions(await elk.layout({ id: 'root', layoutOptions: options, ...elkGraphParts(ns, es, gs, spacing) }));
    };
    // input -> a -> b -> head with a and b in a group: ELK reads spacing per compound node
    const groups: DocGroup[] = [{ id: 'g1', name: 'block', collapsed: false }];
    const spec: [string, string | undefined][] = [['input', undefined], ['a', 'g1'], ['b', 'g1'], ['head', undefined]];
    const nodes = spec.map(([id, group], i) => toFlowNode({ id, name: id, type: 'Linear', params: {}, position: { x: 0, y: i * 10 }, ...(group ? { group } : {}) }));
    const edges = [['input', 'a'], ['a', 'b'], ['b', 'head']].map(([s, t]) => toFlowEdge({ id: `${s}-${t}`, source: s, target: t, targetHandle: 'input' }));
    const right = await layoutPositions(nodes, edges, groups, 'right');
    expect(right.get('b')!.x - (right.get('a')!.x + 220)).toBeGreaterThanOrEqual(LAYER_GAP.right);
    const down = await layoutPositions(nodes, edges, groups, 'down');
    expect(down.get('b')!.y - (down.get('a')!.y + 84)).toBeGreaterThanOrEqual(LAYER_GAP.down);
  });
});

describe('a view still the last fit’s', () => {
  it('is the same viewport give or take rounding, and not one panned or zoomed by the user', () => {
    const fit = readableViewport({ x: 0, y: 0, width: 400, height: 300 }, { width: 900, height: 600 });
    expect(sameViewport(fit, { ...fit })).toBe(true);
    expect(sameViewport(fit, { x: fit.x + 0.2, y: fit.y - 0.2, zoom: fit.zoom })).toBe(true);
    expect(sameViewport(fit, { ...fit, x: fit.x + 12 })).toBe(false);
    expect(sameViewport(fit, { ...fit, zoom: fit.zoom * 1.2 })).toBe(false);
  });
});
