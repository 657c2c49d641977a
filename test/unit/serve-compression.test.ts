/**
 * compression.ts on its own: which encoding an Accept-Encoding header gets, which files are worth
 * compressing, the ETag per encoding and the If-None-Match comparison, and the cache that makes each
 * encoded body once per file version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CompressedFiles, chooseEncoding, etagMatches, etagOf, isCompressible, MAX_COMPRESS_BYTES, MIN_COMPRESS_BYTES } from '../../engine/host/compression.js';

describe('chooseEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['deflate', 'identity'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['GZIP, BR', 'br'],
    ['br;q=0, gzip', 'gzip'],
    ['br; q=0.000, gzip;q=0.1', 'gzip'],
    ['gzip;q=0, br;q=0', 'identity'],
    ['gzip;q=0.9, br;q=0.8', 'gzip'],
    ['gzip;q=0.8, br;q=0.8', 'br'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['br;q=nonsense, gzip', 'gzip'],
  ])('%j -> %s', (header, want) => {
    expect(chooseEncoding(header)).toBe(want);
  });

  it('a header sent twice counts as one list', () => {
    expect(chooseEncoding(['br;q=0', 'gzip'])).toBe('gzip');
  });
});

describe('isCompressible', () => {
  it('text types of a useful size; not images, fonts, tiny or huge files', () => {
    for (const f of ['a.html', 'a.js', 'a.mjs', 'A.CSS', 'a.json', 'a.js.map', 'a.svg', 'a.txt']) expect(isCompressible(f, 5000), f).toBe(true);
    for (const f of ['a.png', 'a.woff2', 'a.jpg', 'a.wasm', 'a']) expect(isCompressible(f, 5000), f).toBe(false);
    expect(isCompressible('a.js', MIN_COMPRESS_BYTES - 1)).toBe(false);
    expect(isCompressible('a.js', MIN_COMPRESS_BYTES)).toBe(true);
    expect(isCompressible('a.js', MAX_COMPRESS_BYTES)).toBe(true);
    expect(isCompressible('a.js', MAX_COMPRESS_BYTES + 1)).toBe(false);
  });
});

describe('ETags', () => {
  const v = { size: 1234, mtimeMs: 1700000000123.456 };
  it('one per version and encoding', () => {
    const tags = (['identity', 'gzip', 'br'] as const).map((e) => etagOf(v, e));
    expect(new Set(tags).size).toBe(3);
    for (const t of tags) expect(t).toMatch(/^"[0-9a-z-]+"$/);
    expect(etagOf({ ...v, mtimeMs: v.mtimeMs + 1 }, 'br')).not.toBe(etagOf(v, 'br'));
    expect(etagOf({ ...v, size: v.size + 1 }, 'gzip')).not.toBe(etagOf(v, 'gzip'));
  });
  it('If-None-Match: exact, weak, in a list, or *; nothing else', () => {
    const t = etagOf(v, 'gzip');
    expect(etagMatches(t, t)).toBe(true);
    expect(etagMatches(`W/${t}`, t)).toBe(true);
    expect(etagMatches(`"a", ${t} , "b"`, t)).toBe(true);
    expect(etagMatches('*', t)).toBe(true);
    expect(etagMatches(undefined, t)).toBe(false);
    expect(etagMatches('', t)).toBe(false);
    expect(etagMatches(etagOf(v, 'br'), t)).toBe(false);
    expect(etagMatches(t.slice(1, -1), t)).toBe(false);
  });
});

describe('CompressedFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-compressed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes a file once per version and encoding; a new version is read again', async () => {
    const file = join(dir, 'a.js');
    const first = 'const a = 1;\n'.repeat(400);
    writeFileSync(file, first);
    const files = new CompressedFiles();
    const v1 = { size: first.length, mtimeMs: 1 };
    const br = files.body(file, v1, 'br');
    expect(files.body(file, v1, 'br')).toBe(br);
    expect(brotliDecompressSync(await br).toString()).toBe(first);
    expect(gunzipSync(await files.body(file, v1, 'gzip')).toString()).toBe(first);
    const second = 'const b = 2;\n'.repeat(300);
    writeFileSync(file, second);
    // same version: the kept body, not the file's new text
    expect(brotliDecompressSync(await files.body(file, v1, 'br')).toString()).toBe(first);
    const v2 = { size: second.length, mtimeMs: 2 };
    expect(brotliDecompressSync(await files.body(file, v2, 'br')).toString()).toBe(second);
  });

  it('a file that cannot be read fails that request and is tried again on the next', async () => {
    const file = join(dir, 'later.js');
    const files = new CompressedFiles();
    const v = { size: 10, mtimeMs: 5 };
    await expect(files.body(file, v, 'gzip')).rejects.toThrow(/ENOENT/);
    writeFileSync(file, 'x'.repeat(10));
    expect(gunzipSync(await files.body(file, v, 'gzip')).toString()).toBe('x'.repeat(10));
  });
});
