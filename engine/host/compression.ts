/**
 * Compressed answers for `netloom serve`'s static files: which encoding a request accepts
 * (Accept-Encoding, br preferred over gzip), which files are worth compressing, and a cache that
 * compresses each file once per encoding (keyed by path, size and mtime: a rebuilt file is
 * compressed again) instead of once per request. ETags name the file's version and the encoding,
 * so a cache never answers a gzip request with brotli bytes.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

export type Encoding = 'br' | 'gzip' | 'identity';

/** Types that shrink (text); images, fonts and archives are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);
/** Below this, the encoded body plus the header would save next to nothing. */
export const MIN_COMPRESS_BYTES = 1024;
/** Above this, a file is streamed as it is rather than held in memory (the renderer's largest, a source map, is about 5 MiB). */
export const MAX_COMPRESS_BYTES = 32 * 1024 * 1024;

/** Whether a file of this name and size is sent compressed when the client accepts it. */
export function isCompressible(file: string, size: number): boolean {
  return size >= MIN_COMPRESS_BYTES && size <= MAX_COMPRESS_BYTES && COMPRESSIBLE.has(path.extname(file).toLowerCase());
}

/**
 * The encoding to send for an Accept-Encoding header: the acceptable one (q > 0) with the highest q,
 * br before gzip on a tie; identity when neither is acceptable or the header is missing. `*` stands
 * for any coding the header does not name.
 */
export function chooseEncoding(acceptEncoding: string | string[] | undefined): Encoding {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const weight = (name: 'br' | 'gzip') => q.get(name) ?? (name === 'gzip' ? q.get('x-gzip') : undefined) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gzip = weight('gzip');
  if (br <= 0 && gzip <= 0) return 'identity';
  return br >= gzip ? 'br' : 'gzip';
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Brotli quality 9, not 11: 11 saves about 7% more on the app's script but takes over a second per
 * MiB, which the first page load of a fresh server would wait for; 9 takes about 0.1 s.
 */
function encode(data: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  if (encoding === 'gzip') return gzip(data, { level: 9 });
  return brotli(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
}

/** A file's version as the server saw it: its stat. */
export interface FileVersion {
  size: number;
  mtimeMs: number;
}

/** The ETag of a file's version in one encoding: `"<size>-<mtime>"`, with `-br` / `-gz` for the encoded bodies. */
export function etagOf(v: FileVersion, encoding: Encoding): string {
  const base = `${v.size.toString(36)}-${Math.trunc(v.mtimeMs * 1000).toString(36)}`;
  return `"${base}${encoding === 'br' ? '-br' : encoding === 'gzip' ? '-gz' : ''}"`;
}

/** Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 §13.1.2 asks for GET and HEAD). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || strip(t) === etag);
}

interface Entry {
  version: string;
  bodies: Map<'br' | 'gzip', Promise<Buffer>>;
}

/** Compressed bodies of the files served, each made once per version and encoding and then kept. */
export class CompressedFiles {
  private readonly entries = new Map<string, Entry>();

  /** The body of `file` (at `v`, as stat saw it) in `encoding`; compressing it on the first request only. */
  body(file: string, v: FileVersion, encoding: 'br' | 'gzip'): Promise<Buffer> {
    const version = `${v.size}:${v.mtimeMs}`;
    let entry = this.entries.get(file);
    if (entry?.version !== version) {
      entry = { version, bodies: new Map() };
      this.entries.set(file, entry);
    }
    let body = entry.bodies.get(encoding);
    if (!body) {
      const owner = entry;
      body = fsp.readFile(file).then((data) => encode(data, encoding));
      // a failed read is not kept: the next request tries again
      body.catch(() => {
        // Stryker disable next-line ConditionalExpression: belt and braces: only this promise's own catch deletes it, so nothing can replace it before it settles (the test is always true)
        if (owner.bodies.get(encoding) === body) owner.bodies.delete(encoding);
      });
      entry.bodies.set(encoding, body);
    }
    return body;
  }
}
