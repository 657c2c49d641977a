/**
 * json-limits.ts: how deep a JSON text or value nests, which key an object gives twice, and the
 * path and line/column that messages name. (json-depth.test.ts checks the refusals built on it, in
 * every reader.)
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, TOO_DEEP, checkJsonValue, lineColumn, scanJson } from '../../engine/io/json-limits.js';

const lists = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('scanJson: depth', () => {
  it('allows exactly maxDepth levels (the top-level value is level 1), refusing the bracket that goes one deeper', () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(TOO_DEEP).toBe('nests objects and lists more than 64 levels deep');
    expect(scanJson(lists(64))).toBeUndefined();
    expect(scanJson(lists(65))).toEqual({ kind: 'depth', offset: 64, path: `${'[0]'.repeat(12)}...` });
    expect(scanJson(lists(3), { maxDepth: 3 })).toBeUndefined();
    expect(scanJson(lists(4), { maxDepth: 3 })).toEqual({ kind: 'depth', offset: 3, path: '[0][0][0]' });
  });

  it('names the path to the value that goes too deep: keys, list positions, quoted odd keys', () => {
    expect(scanJson('{"a": [1, 2, {"b c": [[]]}]}', { maxDepth: 4 })).toEqual({ kind: 'depth', offset: 22, path: 'a[2]."b c"[0]' });
    expect(scanJson('{"x": 1, "y": {"z": [[0]]}}', { maxDepth: 3 })).toEqual({ kind: 'depth', offset: 21, path: 'y.z[0]' });
    expect(scanJson('[0, [1, [2, [3]]]]', { maxDepth: 3 })).toEqual({ kind: 'depth', offset: 12, path: '[1][1][1]' });
    // names that are identifiers are bare ($, _, -, digits after the first), others quoted
    expect(scanJson('{"$a_b-1": {"1x": {"é": [[]]}}}', { maxDepth: 4 })).toEqual({ kind: 'depth', offset: 25, path: '$a_b-1."1x"."é"[0]' });
    expect(scanJson('{"a.b": [[]]}', { maxDepth: 2 })).toEqual({ kind: 'depth', offset: 9, path: '"a.b"[0]' });
  });

  it('reads keys with escapes as JSON.parse does, and brackets inside strings as text', () => {
    expect(scanJson('{"a\\"[[[": {"\\u0062": [[]]}}', { maxDepth: 3 })).toEqual({ kind: 'depth', offset: 23, path: '"a\\"[[[".b[0]' });
    expect(scanJson('["[[[[[[", "\\\\", "]]]"]', { maxDepth: 1 })).toBeUndefined();
  });

  it('cuts a long path after 12 parts, and only then', () => {
    expect(scanJson(lists(13), { maxDepth: 12 })).toEqual({ kind: 'depth', offset: 12, path: '[0]'.repeat(12) });
    expect(scanJson(lists(14), { maxDepth: 13 })).toEqual({ kind: 'depth', offset: 13, path: `${'[0]'.repeat(12)}...` });
  });
});

describe('scanJson: a key given twice', () => {
  it('is found only when asked, after unescaping, with both offsets and the object\'s path', () => {
    const t = '{"a": 1, "b": {"k": 1, "\\u006b": 2}}';
    expect(scanJson(t)).toBeUndefined();
    expect(scanJson(t, { duplicates: true })).toEqual({ kind: 'duplicate', key: 'k', first: 15, second: 23, path: 'b' });
    expect(scanJson('{"k": 1, "k": 2}', { duplicates: true })).toEqual({ kind: 'duplicate', key: 'k', first: 1, second: 9, path: '' });
  });

  it('a value equal to a key, the same key in two objects, or in a list of objects, is no duplicate', () => {
    for (const t of ['{"k": "k"}', '{"a": {"k": 1}, "b": {"k": 1}}', '[{"k": 1}, {"k": 2}]', '{"k": ["k", "k"]}', '{"a": 1, "b": {"a": 2}}'])
      expect(scanJson(t, { duplicates: true }), t).toBeUndefined();
    expect(scanJson('[{"k": 1}, {"k": 1, "k": 2}]', { duplicates: true })).toEqual({ kind: 'duplicate', key: 'k', first: 12, second: 20, path: '[1]' });
  });

  it('a key with a broken escape is compared as written (JSON.parse will refuse the text anyway)', () => {
    expect(scanJson('{"\\x": 1, "\\x": 2}', { duplicates: true })).toEqual({ kind: 'duplicate', key: '\\x', first: 1, second: 10, path: '' });
  });
});

describe('lineColumn', () => {
  it('is 1-based, and a line break belongs to the line it ends', () => {
    const t = 'ab\ncd\n\nef';
    expect(lineColumn(t, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn(t, 2)).toEqual({ line: 1, column: 3 });
    expect(lineColumn(t, 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn(t, 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn(t, 6)).toEqual({ line: 3, column: 1 });
    expect(lineColumn(t, 8)).toEqual({ line: 4, column: 2 });
    expect(lineColumn('no breaks', 5)).toEqual({ line: 1, column: 6 });
  });
});

describe('checkJsonValue', () => {
  it('allows maxDepth levels of objects and lists, naming the path of the first one deeper', () => {
    const deep = (n: number): unknown => (n === 1 ? {} : { a: deep(n - 1) });
    expect(checkJsonValue(deep(64), 'params')).toBeUndefined();
    expect(checkJsonValue(deep(65), 'params')).toEqual({ kind: 'depth', path: `params${'.a'.repeat(11)}...` });
    // the value itself is level 1: {x: [1, {y: []}]} nests 4 levels
    expect(checkJsonValue({ x: [1, { y: [] }] }, 'v', 4)).toBeUndefined();
    expect(checkJsonValue({ x: [1, { y: [[]] }] }, 'v', 4)).toEqual({ kind: 'depth', path: 'v.x[1].y[0]' });
    for (const v of [null, 1, 'x', true, undefined]) expect(checkJsonValue(v, 'v', 0), String(v)).toBeUndefined();
  });

  it('finds a value that contains itself, but not one shared by two branches', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = { back: loop };
    expect(checkJsonValue({ root: loop }, 'v')).toEqual({ kind: 'cycle', path: 'v.root.self.back' });
    const shared = { s: 1 };
    expect(checkJsonValue({ a: shared, b: [shared, shared] }, 'v')).toBeUndefined();
  });
});
