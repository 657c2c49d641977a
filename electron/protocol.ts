/**
 * The renderer is served from netloom://app/ (a privileged standard scheme), not file://: the
 * page gets an origin of its own, relative URLs work as on `netloom serve`, and every response
 * carries a strict Content-Security-Policy (no eval, no remote code, no plugins, no framing).
 * Only files inside the built renderer folder are served; anything else is a 404.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { contentType } from '../engine/host/content-types.js';
import { APP_HOST, APP_SCHEME } from './ipc.js';

/**
 * 'unsafe-inline' for styles only: React Flow positions nodes with style attributes. Scripts come
 * only from the app itself; elk's layout runs without eval. connect-src 'self': the engine is
 * reached over IPC, so the page needs no network at all.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const APP_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, stream: true } as const;

export type AppResponse = { status: 200; file: string; contentType: string } | { status: 404 | 405; reason: string };

/** Maps a request for netloom://app/... to a file of the built renderer, refusing anything outside it. */
export function resolveAppRequest(url: string, method: string, rendererDir: string): AppResponse {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, reason: 'the app serves only GET' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { status: 404, reason: 'not a URL' };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { status: 404, reason: 'not an app URL' };
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return { status: 404, reason: 'bad escape in the path' };
  }
  if (rel.includes('\0') || rel.includes('\\')) return { status: 404, reason: 'bad character in the path' };
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${path.posix.normalize(rel)}`);
  const inside = path.relative(root, file);
  if (inside.startsWith('..') || path.isAbsolute(inside)) return { status: 404, reason: 'outside the app' };
  return { status: 200, file, contentType: contentType(file) };
}

/** The whole answer to one request, as a fetch Response (what protocol.handle expects). */
export async function appResponse(request: { url: string; method: string }, rendererDir: string): Promise<Response> {
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  const r = resolveAppRequest(request.url, request.method, rendererDir);
  if (r.status !== 200) return new Response(r.reason, { status: r.status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } });
  let body: Buffer;
  try {
    body = await fsp.readFile(r.file);
  } catch {
    return new Response('not found', { status: 404, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } });
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers: { ...headers, 'Content-Type': r.contentType } });
}
