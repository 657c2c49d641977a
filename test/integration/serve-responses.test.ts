/**
 * Every answer `netloom serve` gives, in full: status, headers and body of each HTTP response
 * (the page, the 401 page, assets, every refusal, HEAD), the body of each refused WebSocket
 * upgrade, the reply to each kind of malformed API message, and the errors of a server that cannot
 * start. serve.test.ts and serve-guards.test.ts check which requests get which status; this file
 * checks that what comes back is exactly what a browser or a user should get.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import WebSocket from 'ws';
import { NetloomError } from '../../engine/errors.js';
import { handleMessage, startServer, UNAUTHORIZED_PAGE, type RunningServer } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { type RawAnswer, rawRequest } from '../support/raw-http.js';

const INDEX = '<!doctype html><title>fake netloom</title>';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-serve-responses-'));
const rendererDir = join(tmp, 'renderer');
const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
let server: RunningServer;

beforeAllOrFail(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), INDEX);
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(rendererDir, 'favicon.svg'), '<svg/>');
  writeFileSync(join(tmp, 'outside.js'), 'secret()');
  symlinkSync(join(tmp, 'outside.js'), join(rendererDir, 'assets', 'link-out.js'));
  symlinkSync(join(rendererDir, 'assets', 'app.js'), join(rendererDir, 'assets', 'link-in.js'));
  process.env.NETLOOM_CONFIG_DIR = join(tmp, 'config');
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir, log: () => undefined });
});

afterAll(async () => {
  await server?.close();
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
  rmSync(tmp, { recursive: true, force: true });
});

/** One raw request (fetch would normalise the path and add headers). */
function request(method: string, pathAndQuery: string, headers: Record<string, string> = {}, s: RunningServer = server): Promise<RawAnswer> {
  return rawRequest(s.port, method, pathAndQuery, headers);
}

const SAFE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'content-security-policy': "frame-ancestors 'none'" };

/** What a text answer must be: the status, the body, its type and length, never cached, and the safety headers. */
function expectText(a: RawAnswer, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) {
  expect(a.status).toBe(status);
  expect(a.body).toBe(body);
  expect(a.headers).toMatchObject({ ...SAFE_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...extra });
}

describe('serve over HTTP: each answer in full', () => {
  it('the page with its token: the file, never cached, with the safety headers; HEAD: the same headers, no body', async () => {
    const page = await request('GET', `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toBe(INDEX);
    expect(page.headers).toMatchObject({ ...SAFE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': String(INDEX.length), 'cache-control': 'no-store' });
    const head = await request('HEAD', `/index.html?token=${server.token}`);
    expect({ status: head.status, body: head.body }).toEqual({ status: 200, body: '' });
    expect(head.headers).toMatchObject({ 'content-length': String(INDEX.length), 'cache-control': 'no-store' });
  });

  it('no token, an empty one or a wrong one: the 401 page, which explains where the link is', async () => {
    for (const q of ['', '?token=', '?token=x', `?token=${server.token.slice(1)}`, '?other=1'])
      expectText(await request('GET', `/${q}`), 401, UNAUTHORIZED_PAGE, 'text/html; charset=utf-8');
    expect(UNAUTHORIZED_PAGE).toContain('<title>Netloom: access token needed</title>');
    expect(UNAUTHORIZED_PAGE).toContain('copy the full URL printed in the terminal (it ends in <code>?token=…</code>)');
    const head = await request('HEAD', '/');
    expect({ status: head.status, body: head.body, length: head.headers['content-length'] }).toEqual({ status: 401, body: '', length: String(Buffer.byteLength(UNAUTHORIZED_PAGE)) });
  });

  it('refusals: 405 with Allow, 403 for another host, 400 for a bad path, 426 for /api, 404', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) expectText(await request(m, `/?token=${server.token}`), 405, 'method not allowed', undefined, { allow: 'GET, HEAD' });
    expectText(await request('GET', `/?token=${server.token}`, { host: 'evil.example' }), 403, 'Netloom answers only requests addressed to localhost.');
    expectText(await request('GET', '/%zz'), 400, 'bad request: not a valid path');
    expectText(await request('GET', `/api?token=${server.token}`), 426, 'this address takes WebSocket connections only', undefined, { upgrade: 'websocket' });
    for (const p of ['/nothing.js', '/assets', '/assets/', '/assets/link-out.js']) expectText(await request('GET', p), 404, 'not found');
  });

  it('assets: content-hashed ones cached for a year, others revalidated, links inside the folder followed', async () => {
    const app = await request('GET', '/assets/app.js');
    expect(app.status).toBe(200);
    expect(app.body).toBe('console.log(1)');
    expect(app.headers).toMatchObject({ ...SAFE_HEADERS, 'content-type': 'text/javascript; charset=utf-8', 'content-length': '14', 'cache-control': 'public, max-age=31536000, immutable' });
    const icon = await request('GET', '/favicon.svg');
    expect(icon.headers).toMatchObject({ 'content-type': 'image/svg+xml', 'cache-control': 'no-cache' });
    expect(icon.body).toBe('<svg/>');
    expect((await request('GET', '/assets/link-in.js')).body).toBe('console.log(1)');
    const head = await request('HEAD', '/assets/app.js');
    expect({ status: head.status, body: head.body, length: head.headers['content-length'] }).toEqual({ status: 200, body: '', length: '14' });
  });

  it('the page not built: 503 saying what to run; the token is still checked first', async () => {
    const s = await startServer({ port: 0, rendererDir: join(tmp, 'no-such-renderer'), log: () => undefined });
    try {
      const a = await request('GET', `/?token=${s.token}`, {}, s);
      expect(a.status).toBe(503);
      expect(a.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      expect(a.body).toContain('<title>Netloom: the user interface is not built</title>');
      expect(a.body).toContain('Run <code>npm run build</code> (or <code>npm run build:renderer</code>) and restart <code>netloom serve</code>.');
      expect((await request('GET', '/', {}, s)).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('a renderer folder without its page (a build cut short): its assets still load, a missing one is 404', async () => {
    const half = join(tmp, 'half-built');
    mkdirSync(join(half, 'assets'), { recursive: true });
    writeFileSync(join(half, 'assets', 'app.js'), 'console.log(2)');
    const s = await startServer({ port: 0, rendererDir: half, log: () => undefined });
    try {
      const asset = await request('GET', '/assets/app.js', {}, s);
      expect({ status: asset.status, body: asset.body }).toEqual({ status: 200, body: 'console.log(2)' });
      expect((await request('GET', '/assets/gone.js', {}, s)).status).toBe(404);
      expect((await request('GET', `/?token=${s.token}`, {}, s)).status).toBe(503);
    } finally {
      await s.close();
    }
  });
});

/** A refused upgrade: its status and body. */
function refusedUpgrade(pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status?: number; reason?: string; body: string; headers?: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${pathAndQuery}`, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, reason: res.statusMessage, body, headers: res.headers }));
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error(`the connection to ${pathAndQuery} was accepted`));
    });
    ws.on('error', (e) => resolve({ body: e.message }));
  });
}

/** Opens the WebSocket (resolves true) or sees it refused (false). */
function opens(pathAndQuery: string, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${pathAndQuery}`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(true);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(false);
    });
    ws.on('error', () => resolve(false));
  });
}

describe('serve: each refused WebSocket upgrade says why', () => {
  it('a bad path, another path, another host, another site, no token', async () => {
    const api = `/api?token=${server.token}`;
    const cases: [string, Record<string, string>, number, string, string][] = [
      ['/%zz', {}, 400, 'Bad Request', 'bad request: not a valid path'],
      [`/other?token=${server.token}`, {}, 404, 'Not Found', 'WebSocket connections go to /api'],
      [api, { host: 'evil.example' }, 403, 'Forbidden', 'Netloom answers only requests addressed to localhost.'],
      [api, { origin: 'http://evil.example' }, 403, 'Forbidden', 'cross-site connections to Netloom are not allowed'],
      [api, { origin: 'null' }, 403, 'Forbidden', 'cross-site connections to Netloom are not allowed'],
      [api, { origin: `http://127.0.0.1:${server.port + 1}` }, 403, 'Forbidden', 'cross-site connections to Netloom are not allowed'],
      ['/api?token=', {}, 401, 'Unauthorized', 'This Netloom server needs the link with its access token; copy the full URL printed in the terminal.'],
    ];
    for (const [p, headers, status, reason, body] of cases) {
      const r = await refusedUpgrade(p, headers);
      expect({ status: r.status, reason: r.reason, body: r.body }, `${p} ${JSON.stringify(headers)}`).toEqual({ status, reason, body });
      expect(r.headers?.['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.headers?.connection).toBe('close');
    }
  });

  it('the page\'s own origin is accepted, in any letter case', async () => {
    const api = `/api?token=${server.token}`;
    expect(await opens(api, { origin: `http://127.0.0.1:${server.port}` })).toBe(true);
    expect(await opens(api, { origin: `http://LOCALHOST:${server.port}`, host: `localhost:${server.port}` })).toBe(true);
    expect(await opens(api)).toBe(true); // no Origin: not a browser page
  });
});

describe('handleMessage: each malformed message gets NL_BAD_REQUEST, with the id when it can be read', () => {
  const service = new EngineService();
  const FORMAT = 'Send {"id": <number>, "method": "<name>", "params": {...}}.';
  const run = (text: string) => handleMessage(service, text, () => undefined);
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('nesting too deep: refused before parsing, with the id read from the start of the text', async () => {
    const error = { code: 'NL_BAD_REQUEST', message: `the message nests objects and lists more than 64 levels deep at params.p${'[0]'.repeat(10)}...`, hint: 'Send plain project data: a project nests about 8 levels.' };
    expect(await run(`{"id": 7, "method": "analyze", "params": {"p": ${nested(70)}}}`)).toEqual({ id: 7, error });
    expect(await run(` { "id" : 123456789012345 , "method": "analyze", "params": {"p": ${nested(70)}}}`)).toEqual({ id: 123456789012345, error });
    expect((await run(`{"id":8,"params": {"p": ${nested(70)}}}`)).id).toBe(8);
    for (const start of ['{"id": 1234567890123456, ', '{"method": "analyze", "id": 7, ', '{"id": "7", ', '{"id": -7, ', '[{"id": 7, ', '{"params": {"id": 7, "q": 1}, '])
      expect((await run(`${start}"params": {"p": ${nested(70)}}}`)).id, start).toBe(-1);
  });

  it('not JSON', async () => {
    expect(await run('{"id": 1,')).toEqual({ id: -1, error: { code: 'NL_BAD_REQUEST', message: 'the message is not valid JSON', hint: FORMAT } });
  });

  it('JSON that is not a request: the id kept when it is an integer', async () => {
    const error = { code: 'NL_BAD_REQUEST', message: 'the message is not a request: it needs an integer "id", a "method" string and "params"', hint: FORMAT };
    expect(await run('{"id": 3, "method": 5, "params": {}}')).toEqual({ id: 3, error });
    for (const text of ['{"id": 2.5, "method": "hello"}', '{"id": "3", "method": "hello"}', '{"method": "hello"}', 'null', '[]', '7'])
      expect(await run(text), text).toEqual({ id: -1, error });
  });

  it('a request: its id and the result', async () => {
    const r = await run('{"id": 9, "method": "hello", "params": {}}');
    expect(r.id).toBe(9);
    expect('result' in r).toBe(true);
  });
});

describe('serve: a server that cannot start says why', () => {
  it('a port out of range or not a whole number', async () => {
    for (const port of [-1, 65536, 1.5, NaN]) {
      const e = await startServer({ port, rendererDir }).then(() => undefined, (x: NetloomError) => x);
      expect({ code: e?.code, message: e?.message, hint: e?.hint }, String(port)).toEqual({
        code: 'NL_INVALID_ARGUMENT', message: `--port must be a whole number from 0 to 65535, got ${port}`, hint: 'Use --port 0 to pick any free port.',
      });
    }
  });

  it('the ends of the range are ports too: 0 (any free port) and 65535', async () => {
    for (const port of [0, 65535]) {
      const s = await startServer({ port, rendererDir, log: () => undefined }).catch((e: NetloomError) => e);
      // 65535 may be taken on this machine: then the refusal says so, and is not about the number
      if (s instanceof NetloomError) expect({ port, code: s.code, message: s.message }).toEqual({ port, code: 'NL_IO', message: `port ${port} on 127.0.0.1 is already in use` });
      else await s.close();
    }
  });

  it('a busy port, and an address this machine does not have', async () => {
    const busy = await startServer({ port: server.port, rendererDir }).then(() => undefined, (x: NetloomError) => x);
    expect({ code: busy?.code, message: busy?.message, hint: busy?.hint }).toEqual({
      code: 'NL_IO', message: `port ${server.port} on 127.0.0.1 is already in use`, hint: 'Stop the other program (or the other `netloom serve`), or pass --port 0 to use any free port.',
    });
    expect((busy?.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    // 192.0.2.0/24 is TEST-NET-1: documentation only, never a local address
    const absent = await startServer({ host: '192.0.2.1', port: 0, rendererDir }).then(() => undefined, (x: NetloomError) => x);
    expect({ code: absent?.code, message: absent?.message, hint: absent?.hint }).toEqual({
      code: 'NL_IO', message: 'cannot listen on 192.0.2.1: no such address on this machine', hint: "Pass --host 127.0.0.1, or an address of one of this machine's network interfaces.",
    });
    expect((absent?.cause as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
  });

  it('the printed address names a host a browser can open', async () => {
    // the any-address binds ("0.0.0.0", "", "::") print the loopback address: the URL is for this machine's browser
    const cases: [string, string][] = [['127.0.0.1', '127.0.0.1'], ['localhost', 'localhost'], ['::1', '[::1]'], ['0.0.0.0', '127.0.0.1'], ['', '127.0.0.1'], ['::', '[::1]']];
    for (const [host, shown] of cases) {
      const s = await startServer({ host, port: 0, rendererDir, log: () => undefined }).catch(() => undefined);
      if (!s) continue; // no IPv6 here
      try {
        expect(s.url).toBe(`http://${shown}:${s.port}/?token=${s.token}`);
      } finally {
        await s.close();
      }
    }
  });

  it('without a log option, what the server logs goes to stderr, a line each', async () => {
    const s = await startServer({ port: 0, rendererDir, maxMessageBytes: 16 });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api?token=${s.token}`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.send('x'.repeat(64));
      await closed;
      await vi.waitFor(() => expect(written).toContain('netloom serve: connection error: Max payload size exceeded\n'));
    } finally {
      spy.mockRestore();
      await s.close();
    }
  });

  it('close() can be called twice', async () => {
    const s = await startServer({ port: 0, rendererDir, log: () => undefined });
    const first = s.close();
    expect(s.close()).toBe(first);
    await first;
  });
});
