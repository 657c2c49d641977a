/**
 * `netloom serve`: the web host. The same UI as the desktop app, in a browser, over a WebSocket.
 * This file is the whole transport (the Electron one is electron/ipc.ts); both hand requests to
 * dispatch.ts, the one method table over EngineService.
 *
 *   GET  /?token=T          the renderer (dist/renderer/index.html); its assets load without a token
 *   WS   /api?token=T       the EngineApi: {id, method, params} -> {id, result} | {id, error}; {event}
 *
 * Files go out brotli- or gzip-compressed when the browser accepts it (compression.ts), with an
 * ETag per encoding and 304 for a cached copy.
 *
 * Security: the server listens on 127.0.0.1 unless told otherwise, and a random token made at
 * start is required for the page and for every WebSocket (exactly one `?token=`, compared in constant time). The token
 * lives only in the address (the page's `?token=`, which the renderer never removes, so a reload
 * works): never in a cookie, because a cookie is scoped by host, not port, and every other server
 * on this machine would receive it. Request paths are made canonical (request-path.ts) before the
 * token check, so no spelling of the page escapes it. Upgrades carrying an Origin must come from
 * this server's own origin (no cross-site pages), and on a loopback address the Host header must
 * name a loopback address (loopback.ts: no DNS rebinding). Every message is validated with api.ts;
 * a bad one gets an NL_BAD_REQUEST reply and the connection keeps serving.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import * as net from 'node:net';
import * as path from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { NetloomError } from '../errors.js';
import { CompressedFiles, chooseEncoding, etagMatches, etagOf, isCompressible } from './compression.js';
import { contentType } from './content-types.js';
import { dispatch } from './dispatch.js';
import { TOO_DEEP, scanJson } from '../io/json-limits.js';
import { EngineEvent, Request, type ApiError } from '../contract/api.js';
import { EngineService } from './service.js';
import { netloomRoot } from './install.js';
import { isLoopbackBindAddress, isLoopbackHostHeader } from './loopback.js';
import { parseRequestTarget } from './request-path.js';
import type { RunClient } from './run-keeper.js';

export const DEFAULT_PORT = 7860;
export const DEFAULT_HOST = '127.0.0.1';
/** Largest WebSocket message accepted; a bigger one closes that connection (code 1009). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ServeOptions {
  /** interface to bind (default 127.0.0.1) */
  host?: string;
  /** port (default 7860; 0 = any free port) */
  port?: number;
  /** the built renderer (default <install>/dist/renderer) */
  rendererDir?: string;
  /** the engine behind the API (default: a new EngineService) */
  service?: EngineService;
  /** WebSocket message size limit in bytes (default MAX_MESSAGE_BYTES) */
  maxMessageBytes?: number;
  /** where request errors and internal stacks are logged (default stderr) */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** the address to open, token included */
  url: string;
  token: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

// ---- tokens and hosts ----------------------------------------------------------------------------

function digest(s: string): Buffer {
  // Stryker disable next-line StringLiteral: update() reads a string as UTF-8 when no encoding is named
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function tokenMatches(given: string | null | undefined, token: string): boolean {
  // Stryker disable next-line ConditionalExpression,StringLiteral: an empty token's digest differs from the token's anyway; this says so first
  if (typeof given !== 'string' || given === '') return false;
  return timingSafeEqual(digest(given), digest(token));
}

/** The query's one `token`; none when it has two (`?token=A&token=B`: the server does not pick one of two answers). */
function queryToken(query: URLSearchParams): string | undefined {
  const all = query.getAll('token');
  return all.length === 1 ? all[0] : undefined;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return net.isIPv6(host) ? `[${host}]` : host;
}

// ---- HTTP ----------------------------------------------------------------------------------------

const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // The token is in the page's URL: never send it to other sites, never let them frame the page.
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "frame-ancestors 'none'",
} as const;

function escapeHtml(s: string): string {
  // Stryker disable next-line all: only this file's fixed titles come here, and none holds a character it escapes
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:0 .3em}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>
`;
}

export const UNAUTHORIZED_PAGE = htmlPage(
  'Netloom: access token needed',
  '<p>This Netloom server needs the link with its access token; copy the full URL printed in the terminal (it ends in <code>?token=…</code>).</p>',
);

const NOT_BUILT_PAGE = htmlPage(
  'Netloom: the user interface is not built',
  '<p>The engine is running, but the browser interface has not been built yet. Run <code>npm run build</code> (or <code>npm run build:renderer</code>) and restart <code>netloom serve</code>.</p>',
);

function sendText(res: http.ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8', extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  // Stryker disable next-line ConditionalExpression,StringLiteral: Node's server sends no body to HEAD either way
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `root` + a canonical request path (request-path.ts: decoded, no dot segments, no separators but "/"). */
function resolveInside(root: string, canonicalPath: string): string {
  // Stryker disable next-line all: path.join drops empty segments too
  return path.join(root, ...canonicalPath.split('/').filter((s) => s !== ''));
}

/** A file found inside the renderer folder, with the stat the answer is built from. */
interface FoundFile {
  file: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

async function fileInside(root: string, full: string): Promise<FoundFile | undefined> {
  try {
    const [realRoot, realFile] = await Promise.all([fsp.realpath(root), fsp.realpath(full)]);
    const rel = path.relative(realRoot, realFile);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined; // a link pointing out
    const st = await fsp.stat(realFile);
    return st.isFile() ? { file: realFile, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino } : undefined;
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined too */ {
    return undefined;
  }
}

/**
 * Sends a file: compressed when its type shrinks and the client accepts br or gzip (compression.ts;
 * each encoded body is made once and kept), with an ETag per version and encoding, and a 304 when
 * If-None-Match names it. Answers that depend on Accept-Encoding say so with Vary.
 */
async function sendFile(res: http.ServerResponse, found: FoundFile, files: CompressedFiles, headers: http.OutgoingHttpHeaders): Promise<void> {
  const req = res.req;
  const compressible = isCompressible(found.file, found.size);
  const encoding = compressible ? chooseEncoding(req.headers['accept-encoding']) : 'identity';
  const etag = etagOf(found, encoding);
  const common: http.OutgoingHttpHeaders = { ...BASE_HEADERS, ETag: etag, ...(compressible ? { Vary: 'Accept-Encoding' } : {}), ...headers };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const type = contentType(found.file);
  if (encoding === 'identity') {
    res.writeHead(200, { ...common, 'Content-Type': type, 'Content-Length': found.size });
    // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: Node's server sends no body to HEAD either way (this only spares reading the file)
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(found.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return;
  }
  // HEAD too: its Content-Length is the encoded body's, so the body is made (once) either way
  const body = await files.body(found.file, found, encoding);
  res.writeHead(200, { ...common, 'Content-Type': type, 'Content-Encoding': encoding, 'Content-Length': body.length });
  // Stryker disable next-line ConditionalExpression,StringLiteral: Node's server sends no body to HEAD either way
  res.end(req.method === 'HEAD' ? undefined : body);
}

// ---- the API over a WebSocket --------------------------------------------------------------------

type Reply = { id: number; result: unknown } | { id: number; error: ApiError };

function badRequest(message: string, hint?: string): ApiError {
  return { code: 'NL_BAD_REQUEST', message, ...(hint ? { hint } : {}) };
}

/** The run a request or its answer names (startRun's result, any call's runId): the client now uses it. */
function runNamed(params: unknown, reply: Awaited<ReturnType<typeof dispatch>>): string | undefined {
  if ('error' in reply) return undefined;
  const of = (v: unknown) => (v && typeof v === 'object' && typeof (v as { runId?: unknown }).runId === 'string' ? (v as { runId: string }).runId : undefined);
  return of(params) ?? of(reply.result);
}

/** Runs one request text and returns the reply; never throws. `client`: the connection's hold on the runs it uses. */
export async function handleMessage(service: EngineService, text: string, log: (line: string) => void, client?: RunClient): Promise<Reply> {
  // Before parsing: a message nesting thousands of levels would parse, then overflow the serializer.
  const deep = scanJson(text);
  if (deep?.kind === 'depth')
    return { id: Number(/^\s*\{\s*"id"\s*:\s*(\d{1,15})\s*,/.exec(text)?.[1] ?? -1), error: badRequest(`the message ${TOO_DEEP} at ${deep.path}`, 'Send plain project data: a project nests about 8 levels.') };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { id: -1, error: badRequest('the message is not valid JSON', 'Send {"id": <number>, "method": "<name>", "params": {...}}.') };
  }
  const req = Request.safeParse(json);
  if (!req.success) {
    const rawId = (json as { id?: unknown } | null)?.id;
    // Stryker disable next-line ConditionalExpression: Number.isInteger is false for anything but a number already
    const id = typeof rawId === 'number' && Number.isInteger(rawId) ? rawId : -1;
    return { id, error: badRequest('the message is not a request: it needs an integer "id", a "method" string and "params"', 'Send {"id": <number>, "method": "<name>", "params": {...}}.') };
  }
  const reply = await dispatch(service, req.data.method, req.data.params, log);
  const runId = client && runNamed(req.data.params, reply);
  if (runId !== undefined) client!.uses(runId);
  return { id: req.data.id, ...reply };
}

function send(ws: WebSocket, msg: unknown, log: (line: string) => void): void {
  // Stryker disable next-line ConditionalExpression: ws drops a send on a closing or closed socket itself (a server-side socket is never still connecting); this says so first
  if (ws.readyState !== ws.OPEN) return;
  let text: string;
  try {
    text = JSON.stringify(msg);
  } catch (e) {
    log(`netloom serve: could not encode a reply: ${(e as Error).message}`);
    const id = (msg as { id?: unknown }).id;
    text = JSON.stringify({ id: typeof id === 'number' ? id : -1, error: { code: 'NL_INTERNAL', message: 'internal error: the reply could not be encoded' } });
  }
  ws.send(text);
}

/** Answers an upgrade that is refused with a real HTTP response, then closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // A peer that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

// ---- the server ----------------------------------------------------------------------------------

/** What the request handlers share: where the page lives, the token, and the Host check. */
interface ServerContext {
  readonly rendererDir: string;
  readonly token: string;
  readonly hostAllowed: (req: http.IncomingMessage) => boolean;
  /** the compressed bodies of the renderer's files, made once each */
  readonly files: CompressedFiles;
}

/** Answers a plain HTTP request: the page (with the token), the renderer's static assets, or a refusal. */
async function handleHttp(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { rendererDir, token } = ctx;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'method not allowed', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
    return;
  }
  if (!ctx.hostAllowed(req)) {
    sendText(res, 403, 'Netloom answers only requests addressed to localhost.', 'text/plain; charset=utf-8');
    return;
  }
  // One canonical path for every decision below (request-path.ts).
  const target = parseRequestTarget(req.url);
  if (!target) {
    sendText(res, 400, 'bad request: not a valid path', 'text/plain; charset=utf-8');
    return;
  }
  const pathname = target.path;
  if (pathname === '/api') {
    sendText(res, 426, 'this address takes WebSocket connections only', 'text/plain; charset=utf-8', { Upgrade: 'websocket' });
    return;
  }
  const index = await fileInside(rendererDir, path.join(rendererDir, 'index.html'));
  if (pathname === '/' || pathname === '/index.html') {
    // The page: with the token in its address, else the 401 page.
    if (!tokenMatches(queryToken(target.query), token)) {
      sendText(res, 401, UNAUTHORIZED_PAGE);
      return;
    }
    if (!index) {
      sendText(res, 503, NOT_BUILT_PAGE);
      return;
    }
    await sendFile(res, index, ctx.files, { 'Cache-Control': 'no-store' });
    return;
  }
  // Static assets: the renderer's public bundle; no token needed, never outside rendererDir, and never
  // the page itself under another name (a case-insensitive file system's INDEX.HTML, a hard link).
  const found = await fileInside(rendererDir, resolveInside(rendererDir, pathname));
  const isIndex = index !== undefined && (found?.file === index.file || (index.ino !== 0 && found?.dev === index.dev && found?.ino === index.ino));
  if (!found || isIndex) {
    sendText(res, 404, 'not found', 'text/plain; charset=utf-8');
    return;
  }
  // Vite names assets by content hash, so they never change under the same name.
  const immutable = pathname.startsWith('/assets/');
  await sendFile(res, found, ctx.files, { 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
}


/** Lets a WebSocket upgrade through to `wss` only to /api, from this machine's own page, with the token; else a real HTTP refusal. */
function handleUpgrade(ctx: ServerContext, wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const target = parseRequestTarget(req.url);
  if (!target) {
    refuseUpgrade(socket, 400, 'Bad Request', 'bad request: not a valid path');
    return;
  }
  if (target.path !== '/api') {
    refuseUpgrade(socket, 404, 'Not Found', 'WebSocket connections go to /api');
    return;
  }
  if (!ctx.hostAllowed(req)) {
    refuseUpgrade(socket, 403, 'Forbidden', 'Netloom answers only requests addressed to localhost.');
    return;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch /* Stryker disable next-line BlockStatement: originHost is undefined already when the Origin does not parse */ {
      originHost = undefined;
    }
    // Stryker disable next-line ConditionalExpression: undefined differs from any Host header anyway; this says so first
    if (originHost === undefined || originHost !== (req.headers.host ?? '').toLowerCase()) {
      refuseUpgrade(socket, 403, 'Forbidden', 'cross-site connections to Netloom are not allowed');
      return;
    }
  }
  if (!tokenMatches(queryToken(target.query), ctx.token)) {
    refuseUpgrade(socket, 401, 'Unauthorized', 'This Netloom server needs the link with its access token; copy the full URL printed in the terminal.');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
}

/** One browser tab's connection: its messages go to the service; its runs are let go when it goes. */
function serveConnection(service: EngineService, ws: WebSocket, log: (line: string) => void): void {
  // a tab's runs are closed a while after it goes (closed, or its connection lost for good): run-keeper.ts
  const client = service.openClient();
  ws.on('close', () => client.close());
  ws.on('error', (e) => log(`netloom serve: connection error: ${e.message}`));
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      send(ws, { id: -1, error: badRequest('binary messages are not supported', 'Send JSON text.') }, log);
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
    void handleMessage(service, text, log, client).then((reply) => send(ws, reply, log));
  });
}

/** Listens on host:port, turning the usual failures (port taken, no rights, no such address) into messages that say what to do. */
async function listenOn(server: http.Server, requestedPort: number, host: string, cleanUp: () => void): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        // Stryker disable next-line StringLiteral: a listener left behind never fires again (listen() is called once)
        server.off('listening', onListening);
        reject(e);
      };
      const onListening = () => {
        // Stryker disable next-line StringLiteral: a left-behind once('error') would only reject a settled promise (a no-op)
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(requestedPort, host);
    });
  } catch (e) {
    cleanUp();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new NetloomError('NL_IO', `port ${requestedPort} on ${host} is already in use`, 'Stop the other program (or the other `netloom serve`), or pass --port 0 to use any free port.', { cause: e });
    if (code === 'EACCES')
      throw new NetloomError('NL_IO', `not allowed to listen on port ${requestedPort}`, 'Ports below 1024 need administrator rights: use a port above 1024.', { cause: e });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new NetloomError('NL_IO', `cannot listen on ${host}: no such address on this machine`, 'Pass --host 127.0.0.1, or an address of one of this machine\'s network interfaces.', { cause: e });
    throw e;
  }
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const requestedPort = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535)
    throw new NetloomError('NL_INVALID_ARGUMENT', `--port must be a whole number from 0 to 65535, got ${requestedPort}`, 'Use --port 0 to pick any free port.');
  const rendererDir = path.resolve(opts.rendererDir ?? path.join(netloomRoot(), 'dist', 'renderer'));
  const service = opts.service ?? new EngineService();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = randomBytes(24).toString('base64url');
  const loopbackOnly = isLoopbackBindAddress(host);

  const ctx: ServerContext = {
    rendererDir,
    token,
    // on a loopback bind, refuse Host headers naming anything else (DNS rebinding)
    hostAllowed: (req) => !loopbackOnly || isLoopbackHostHeader(req.headers.host),
    files: new CompressedFiles(),
  };

  const server = http.createServer((req, res) => {
    handleHttp(ctx, req, res).catch((e: unknown) => {
      log(`netloom serve: ${req.method} ${req.url} failed: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) sendText(res, 500, 'internal error', 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => handleUpgrade(ctx, wss, req, socket, head));

  wss.on('connection', (ws: WebSocket) => serveConnection(service, ws, log));

  const unsubscribe = service.onEvent((e) => {
    const checked = EngineEvent.safeParse(e);
    if (!checked.success) {
      log(`netloom serve: dropped an event that does not match api.ts: ${checked.error.message}`);
      return;
    }
    for (const client of wss.clients) send(client, { event: checked.data }, log);
  });

  await listenOn(server, requestedPort, host, () => {
    unsubscribe();
    wss.close();
  });
  server.on('error', (e) => log(`netloom serve: server error: ${e.message}`));

  const port = (server.address() as net.AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}/?token=${token}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      unsubscribe();
      for (const client of wss.clients) client.terminate();
      wss.close();
      // a service of its own is shut down with the server (the ONNX imports' temporary weights); a caller's is the caller's
      server.close(() => void (opts.service ? Promise.resolve() : service.close()).finally(resolve));
      server.closeAllConnections();
    });
    return closing;
  };

  return { url, token, host, port, close };
}
