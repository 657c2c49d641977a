/**
 * request-path.ts: the one reading of a request target that `netloom serve` acts on (the token
 * check, /api and the static files all see it). Every spelling of a path reads as the same
 * canonical path; whatever could name two different things is refused; the query never leaks
 * into the path, nor the path into the query. (serve-guards.test.ts checks the same over HTTP.)
 */
import { describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../../engine/host/request-path.js';

const pathOf = (t: string | undefined) => parseRequestTarget(t)?.path;

describe('parseRequestTarget', () => {
  it('reads every spelling of a path as one canonical path', () => {
    for (const t of ['/index.html', '/%69ndex.html', '//index.html', '/./index.html', '/assets/../index.html', '/index.html/', '/a/b/../../index.html', '/../index.html', '/%2e%2e/index.html'])
      expect(pathOf(t), t).toBe('/index.html');
    expect(pathOf('/')).toBe('/');
    expect(pathOf('/..')).toBe('/');
    expect(pathOf('/assets/app.js')).toBe('/assets/app.js');
    // decoded once: "%2569" is the literal "%69", not an "i"
    expect(pathOf('/%2569ndex.html')).toBe('/%69ndex.html');
  });

  it('keeps the query apart from the path', () => {
    const t = parseRequestTarget('/api?token=abc&x=1')!;
    expect(t.path).toBe('/api');
    expect([...t.query]).toEqual([['token', 'abc'], ['x', '1']]);
    // no "?": the query is empty, and nothing of the path is read as a query
    for (const s of ['/api', '/token=abc', '/a=b&c=d']) expect([...parseRequestTarget(s)!.query], s).toEqual([]);
    expect(parseRequestTarget('/api?')!.path).toBe('/api');
    expect(parseRequestTarget('/api?')!.query.toString()).toBe('');
    expect(parseRequestTarget('/p?a=%2f..%5c')!.query.get('a')).toBe('/..\\'); // the query may hold anything
  });

  it('refuses what is not a path, bad escapes, NUL and every spelling of a separator other than "/"', () => {
    const refused = [
      undefined, '', '*', 'index.html', 'http://127.0.0.1/index.html',
      '/%', '/%zz', '/%c0%ae%c0%ae/index.html', // not UTF-8
      '/index.html%00', '/a\0b', '/%00',
      '/assets%2f..%2findex.html', '/assets%2F..%2Findex.html', '/..%5cindex.html', '/%5C..', '/a\\b',
    ];
    for (const t of refused) expect(parseRequestTarget(t), JSON.stringify(t)).toBeUndefined();
  });
});
