/**
 * compression.ts, function by function (serve-compression.test.ts checks the same over HTTP): which
 * files are compressed (the size bounds, each extension, any case), which encoding an
 * Accept-Encoding header picks (q values, ties, x-gzip, `*`, q=0, malformed q, a header sent
 * twice), the ETags and If-None-Match, the bodies (gzip level 9, brotli quality 9) and the cache:
 * one body per file, version and encoding, a new one when the size or the mtime changes, and a
 * failed read not kept.
 */
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CompressedFiles, MAX_COMPRESS_BYTES, MIN_COMPRESS_BYTES, chooseEncoding, etagMatches, etagOf, isCompressible } from '../../engine/host/compression.js';
import { tempFiles } from '../support/temp-files.js';

const files = tempFiles('netloom-compression-', '.js');

/** Text that compresses, and long enough for the compression settings to change the bytes. */
function scriptText(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`export function f${i}(x) { return x * ${(i * 7919) % 1000} + "${i.toString(36)}"; }`);
  return out.join('\n');
}

describe('isCompressible', () => {
  const text = ['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt'];

  it('compresses every text type, in any case', () => {
    for (const ext of text) {
      expect(isCompressible(`assets/app${ext}`, 4096), ext).toBe(true);
      expect(isCompressible(`assets/app${ext.toUpperCase()}`, 4096), ext.toUpperCase()).toBe(true);
    }
    expect(isCompressible('index.Html', 4096)).toBe(true);
  });

  it('leaves types that are compressed already, and names without a type', () => {
    for (const name of ['logo.png', 'font.woff2', 'data.gz', 'photo.jpg', 'Makefile', 'app.js.br', 'js', '.js.bak'])
      expect(isCompressible(name, 4096), name).toBe(false);
  });

  it('compresses from MIN_COMPRESS_BYTES to MAX_COMPRESS_BYTES, both included', () => {
    expect(isCompressible('a.js', MIN_COMPRESS_BYTES - 1)).toBe(false);
    expect(isCompressible('a.js', MIN_COMPRESS_BYTES)).toBe(true);
    expect(isCompressible('a.js', MIN_COMPRESS_BYTES + 1)).toBe(true);
    expect(isCompressible('a.js', MAX_COMPRESS_BYTES - 1)).toBe(true);
    expect(isCompressible('a.js', MAX_COMPRESS_BYTES)).toBe(true);
    expect(isCompressible('a.js', MAX_COMPRESS_BYTES + 1)).toBe(false);
    expect(isCompressible('a.js', 0)).toBe(false);
  });
});

describe('chooseEncoding', () => {
  it('sends identity when the header is missing or empty', () => {
    expect(chooseEncoding(undefined)).toBe('identity');
    expect(chooseEncoding('')).toBe('identity');
    expect(chooseEncoding([])).toBe('identity');
  });

  it('prefers br on a tie, and the higher q otherwise', () => {
    expect(chooseEncoding('gzip, br')).toBe('br');
    expect(chooseEncoding('br, gzip')).toBe('br');
    expect(chooseEncoding('gzip;q=0.5, br;q=0.5')).toBe('br');
    expect(chooseEncoding('gzip;q=0.6, br;q=0.5')).toBe('gzip');
    expect(chooseEncoding('gzip, br;q=0.9')).toBe('gzip');
    expect(chooseEncoding('gzip;q=0.1, br;q=0.2')).toBe('br');
    expect(chooseEncoding('gzip')).toBe('gzip');
    expect(chooseEncoding('br')).toBe('br');
    expect(chooseEncoding('deflate, identity')).toBe('identity');
  });

  it('reads names and parameters in any case and with spaces', () => {
    expect(chooseEncoding('GZIP')).toBe('gzip');
    expect(chooseEncoding('  Br ; Q=0.4 , gzip ; q=0.3 ')).toBe('br');
    expect(chooseEncoding('gzip;q=0.3,br;q=0.4')).toBe('br');
  });

  it('refuses a coding with q=0, and sends identity when both are refused', () => {
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('br, gzip;q=0')).toBe('br');
    expect(chooseEncoding('br;q=0, gzip;q=0')).toBe('identity');
    expect(chooseEncoding('br;q=0.000, gzip;q=0')).toBe('identity');
  });

  it('reads a malformed q as 0', () => {
    expect(chooseEncoding('br;q=high, gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=, gzip;q=0.1')).toBe('gzip');
    expect(chooseEncoding('br;q=Infinity, gzip;q=0.5')).toBe('gzip');
    expect(chooseEncoding('br;q=NaN')).toBe('identity');
  });

  it('finds q among other parameters, and a parameter that is not q leaves q at 1', () => {
    expect(chooseEncoding('br;level=1')).toBe('br');
    expect(chooseEncoding('br;level=1;q=0.2, gzip;q=0.5')).toBe('gzip');
    expect(chooseEncoding('gzip;foo=bar;q=0.5, br;q=0.4')).toBe('gzip');
    expect(chooseEncoding('gzip;foo=bar, br;q=0.4')).toBe('gzip');
  });

  it('takes x-gzip for gzip, but never for br', () => {
    expect(chooseEncoding('x-gzip')).toBe('gzip');
    expect(chooseEncoding('X-Gzip;q=0.8, br;q=0.5')).toBe('gzip');
    expect(chooseEncoding('x-gzip;q=0.5, br;q=0.6')).toBe('br');
    // gzip's own q wins over x-gzip's
    expect(chooseEncoding('gzip;q=0, x-gzip')).toBe('identity');
  });

  it('takes * for any coding the header does not name', () => {
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*;q=0.5')).toBe('br');
    expect(chooseEncoding('br;q=0, *')).toBe('gzip');
    expect(chooseEncoding('*;q=0.5, gzip')).toBe('gzip');
    expect(chooseEncoding('*;q=0.5, gzip;q=0.4')).toBe('br');
    expect(chooseEncoding('*;q=0')).toBe('identity');
    expect(chooseEncoding('*;q=0, gzip;q=0.2')).toBe('gzip');
  });

  it('skips empty entries', () => {
    expect(chooseEncoding(',, gzip ,')).toBe('gzip');
    expect(chooseEncoding(',;q=1')).toBe('identity');
  });

  it('reads a header sent twice (an array) as one list', () => {
    expect(chooseEncoding(['gzip', 'br;q=0.5'])).toBe('gzip');
    expect(chooseEncoding(['br;q=0.5', 'gzip'])).toBe('gzip');
    expect(chooseEncoding(['gzip;q=0.2', 'br'])).toBe('br');
    expect(chooseEncoding(['deflate', 'x-gzip'])).toBe('gzip');
    expect(chooseEncoding(['br;q=0', 'gzip;q=0'])).toBe('identity');
  });
});

describe('etagOf', () => {
  it('names the size and the mtime (to the microsecond) in base 36, with the encoding', () => {
    const v = { size: 2048, mtimeMs: 1.5 };
    expect(etagOf(v, 'identity')).toBe('"1kw-15o"');
    expect(etagOf(v, 'br')).toBe('"1kw-15o-br"');
    expect(etagOf(v, 'gzip')).toBe('"1kw-15o-gz"');
  });

  it('tells apart versions a fraction of a millisecond apart, and of another size', () => {
    const a = etagOf({ size: 10, mtimeMs: 1700000000000.25 }, 'identity');
    const b = etagOf({ size: 10, mtimeMs: 1700000000000.5 }, 'identity');
    const c = etagOf({ size: 11, mtimeMs: 1700000000000.25 }, 'identity');
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe('etagMatches', () => {
  const etag = '"1kw-15o-gz"';

  it('matches the ETag, a weak one, or one in a list', () => {
    expect(etagMatches(etag, etag)).toBe(true);
    expect(etagMatches(`W/${etag}`, etag)).toBe(true);
    expect(etagMatches(`"x", ${etag}`, etag)).toBe(true);
    expect(etagMatches(`"x",W/${etag} `, etag)).toBe(true);
  });

  it('matches *, alone or in a list', () => {
    expect(etagMatches('*', etag)).toBe(true);
    expect(etagMatches(' * ', etag)).toBe(true);
    expect(etagMatches('"x", *', etag)).toBe(true);
  });

  it('matches nothing else', () => {
    expect(etagMatches(undefined, etag)).toBe(false);
    expect(etagMatches('', etag)).toBe(false);
    expect(etagMatches('"1kw-15o-br"', etag)).toBe(false);
    expect(etagMatches('"1kw-15o"', etag)).toBe(false);
    expect(etagMatches('"x",', etag)).toBe(false);
    expect(etagMatches('"x", , "y"', etag)).toBe(false);
    // W/ marks a weak tag only at its start
    expect(etagMatches('"1kw-15oW/-gz"', etag)).toBe(false);
    expect(etagMatches('w/"1kw-15o-gz"', etag)).toBe(false);
  });
});

describe('CompressedFiles', () => {
  it('sends each encoding of a file decoding to the file, gzip at level 9 and brotli at quality 9', async () => {
    const text = Buffer.from(scriptText(2000));
    const file = files.write(text);
    const v = { size: text.length, mtimeMs: 1 };
    const cache = new CompressedFiles();
    const gz = await cache.body(file, v, 'gzip');
    const br = await cache.body(file, v, 'br');
    expect(gunzipSync(gz).equals(text)).toBe(true);
    expect(brotliDecompressSync(br).equals(text)).toBe(true);
    // the gzip header's XFL byte says which level made it: 2 for 9, 0 for the default
    expect(gz[8]).toBe(2);
    const quality9 = brotliCompressSync(text, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: text.length },
    });
    // the default (quality 11) would make other bytes
    expect(brotliCompressSync(text).equals(quality9)).toBe(false);
    expect(br.equals(quality9)).toBe(true);
  });

  it('compresses a file once per version and encoding', async () => {
    const file = files.write(scriptText(100));
    const v = { size: 1, mtimeMs: 1 };
    const cache = new CompressedFiles();
    const br = cache.body(file, v, 'br');
    const gz = cache.body(file, v, 'gzip');
    expect(gz).not.toBe(br);
    expect(cache.body(file, { ...v }, 'br')).toBe(br);
    expect(cache.body(file, { ...v }, 'gzip')).toBe(gz);
    await Promise.all([br, gz]);
    expect(cache.body(file, { ...v }, 'br')).toBe(br);
    expect(cache.body(file, { ...v }, 'gzip')).toBe(gz);
    // another file, same version: its own body
    const other = files.write(scriptText(50));
    const otherBr = cache.body(other, v, 'br');
    expect(otherBr).not.toBe(br);
    expect(brotliDecompressSync(await otherBr).toString()).toBe(scriptText(50));
  });

  it('keeps the body of a version though the file changes, and compresses again when the size or the mtime changes', async () => {
    const file = files.write('first version');
    const cache = new CompressedFiles();
    const v1 = { size: 1, mtimeMs: 1 };
    expect(gunzipSync(await cache.body(file, v1, 'gzip')).toString()).toBe('first version');
    writeFileSync(file, 'second version');
    expect(gunzipSync(await cache.body(file, v1, 'gzip')).toString()).toBe('first version');
    const bySize = { size: 2, mtimeMs: 1 };
    expect(gunzipSync(await cache.body(file, bySize, 'gzip')).toString()).toBe('second version');
    writeFileSync(file, 'third version');
    expect(brotliDecompressSync(await cache.body(file, bySize, 'br')).toString()).toBe('third version');
    expect(gunzipSync(await cache.body(file, bySize, 'gzip')).toString()).toBe('second version');
    const byMtime = { size: 2, mtimeMs: 1.001 };
    expect(gunzipSync(await cache.body(file, byMtime, 'gzip')).toString()).toBe('third version');
    // the new version replaced the old: going back compresses again
    writeFileSync(file, 'fourth version');
    expect(gunzipSync(await cache.body(file, v1, 'gzip')).toString()).toBe('fourth version');
  });

  it('does not keep a failed read: the next request reads again', async () => {
    const file = path.join(files.dir, 'late.js');
    const v = { size: 1, mtimeMs: 1 };
    const cache = new CompressedFiles();
    const failed = cache.body(file, v, 'gzip');
    await expect(failed).rejects.toMatchObject({ code: 'ENOENT' });
    writeFileSync(file, 'here now');
    const retried = cache.body(file, v, 'gzip');
    expect(retried).not.toBe(failed);
    expect(gunzipSync(await retried).toString()).toBe('here now');
    // and a success is kept
    rmSync(file);
    expect(cache.body(file, v, 'gzip')).toBe(retried);
  });

  it('a failed read in one encoding leaves the other encoding kept', async () => {
    const file = files.write('kept');
    const v = { size: 1, mtimeMs: 1 };
    const cache = new CompressedFiles();
    const gz = cache.body(file, v, 'gzip');
    await gz;
    rmSync(file);
    await expect(cache.body(file, v, 'br')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(cache.body(file, v, 'gzip')).toBe(gz);
    writeFileSync(file, 'kept');
    expect(brotliDecompressSync(await cache.body(file, v, 'br')).toString()).toBe('kept');
  });
});
