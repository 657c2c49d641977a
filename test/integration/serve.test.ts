/**
 * `netloom serve` end to end over real sockets: the token guards the page and the WebSocket,
 * files never leak outside the renderer folder, and the EngineApi answers every message: good
 * ones with results, bad ones (unknown method, invalid params, not JSON, garbage, binary) with
 * NL_BAD_REQUEST, while the connection keeps serving.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import WebSocket from 'ws';
import { connectApi, type ApiClient } from './ws-client.js';
import { NetloomError } from '../../engine/errors.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { rawRequest } from '../support/raw-http.js';

const QUICKSTART_TEXT = readFileSync('assets/templates/quickstart.json', 'utf8');
const quickstart = () => JSON.parse(QUICKSTART_TEXT);
const FAKE_INDEX = '<!doctype html><title>fake netloom</title><script src="./assets/app.js"></script>';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-serve-'));
const rendererDir = join(tmp, 'renderer');
const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
const logs: string[] = [];
let server: RunningServer;

beforeAllOrFail(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), FAKE_INDEX);
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("hi")');
  writeFileSync(join(rendererDir, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(tmp, 'secret.json'), '{"secret": true}');
  process.env.NETLOOM_CONFIG_DIR = join(tmp, 'config');
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir, log: (l) => logs.push(l) });
});

afterAll(async () => {
  await server?.close();
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
});

const base = () => `http://127.0.0.1:${server.port}`;
const wsUrl = (token: string | null, s: RunningServer = server) => `ws://127.0.0.1:${s.port}/api${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** A raw GET (fetch would normalise "../" away). */
function rawGet(pathAndQuery: string, headers: Record<string, string> = {}) {
  return rawRequest(server.port, 'GET', pathAndQuery, headers);
}

const connect = (s: RunningServer = server) => connectApi(s, { replyTimeoutMs: 10_000 });

/** Tries to open a WebSocket that must be refused; resolves with the HTTP status of the refusal (undefined: no answer, the socket failed). */
function refused(url: string, headers: Record<string, string> = {}): Promise<{ status: number | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('the connection was accepted')));
    ws.on('error', () => resolve({ status: undefined }));
  });
}

// ---- HTTP ----------------------------------------------------------------------------------------

describe('serve: the page and the token', () => {
  it('prints a 127.0.0.1 URL with a 32-character base64url token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves index.html with the token (and no cookie: see serve-guards.test.ts)', async () => {
    const r = await fetch(server.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(await r.text()).toBe(FAKE_INDEX);
  });

  it('refuses the page without the token, or with a wrong one, with the clear 401 page', async () => {
    for (const url of [`${base()}/`, `${base()}/index.html`, `${base()}/?token=wrong`, `${base()}/?token=${server.token}x`]) {
      const r = await fetch(url);
      expect(r.status, url).toBe(401);
      const body = await r.text();
      expect(body).toContain('This Netloom server needs the link with its access token; copy the full URL printed in the terminal');
      expect(body).not.toContain(server.token);
    }
  });

  it('serves assets with their content types', async () => {
    const js = await fetch(`${base()}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log("hi")');
    expect((await fetch(`${base()}/assets/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base()}/assets/nope.js`)).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret.json', '/assets/../../secret.json', '/%2e%2e/secret.json', '/assets/..%2f..%2fsecret.json', '/..%5csecret.json', '/%00index.html']) {
      const r = await rawGet(p);
      expect([400, 404], p).toContain(r.status);
      expect(r.body).not.toContain('secret');
    }
  });

  it('answers only GET/HEAD, refuses foreign Host headers, and /api only upgrades', async () => {
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await rawGet(`/?token=${server.token}`, { host: 'evil.example:80' })).status).toBe(403);
    expect((await rawGet(`/?token=${server.token}`, { host: `localhost:${server.port}` })).status).toBe(200);
    expect((await fetch(`${base()}/api?token=${server.token}`)).status).toBe(426);
  });

  it('says to run `npm run build` when the renderer is missing', async () => {
    const s = await startServer({ port: 0, rendererDir: join(tmp, 'no-such-renderer') });
    try {
      const r = await fetch(s.url);
      expect(r.status).toBe(503);
      expect(await r.text()).toContain('npm run build');
      expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('a busy port is NL_IO with a hint; close() frees the port', async () => {
    const s = await startServer({ port: 0, rendererDir });
    const err = await startServer({ port: s.port, rendererDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetloomError);
    expect(err).toMatchObject({ code: 'NL_IO', hint: expect.stringContaining('--port 0') });
    await s.close();
    await expect(fetch(s.url)).rejects.toThrow();
  });
});

// ---- WebSocket -----------------------------------------------------------------------------------

describe('serve: WebSocket access', () => {
  it('refuses a wrong or missing token with a 401 answer to the handshake (every near miss: token-property.test.ts)', async () => {
    // a status at all means the server answered the handshake (a refusal by silence would hang until the test's timeout)
    for (const token of ['wrong', null, '', `${server.token}A`]) expect((await refused(wsUrl(token))).status, String(token)).toBe(401);
  });

  it('refuses cross-site pages (Origin not this server) and other paths', async () => {
    expect((await refused(wsUrl(server.token), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await refused(wsUrl(server.token), { origin: 'null' })).status).toBe(403);
    expect((await refused(`ws://127.0.0.1:${server.port}/other?token=${server.token}`)).status).toBe(404);
    const c = new WebSocket(wsUrl(server.token), { headers: { origin: `http://127.0.0.1:${server.port}` } });
    await new Promise((resolve, reject) => {
      c.once('open', resolve);
      c.once('error', reject);
    });
    c.close();
  });
});

describe('serve: the EngineApi', () => {
  let c: ApiClient;
  beforeAllOrFail(async () => {
    c = await connect();
  });
  afterAll(() => c.close());

  it('hello', async () => {
    const r = await c.call('hello');
    expect(r).toEqual({ id: 1, result: { apiVersion: 1, version: JSON.parse(readFileSync('package.json', 'utf8')).version } });
  });

  it('getCatalog: Linear with its JSON Schema and defaults', async () => {
    const r = await c.call('getCatalog');
    const linear = r.result.find((l: any) => l.type === 'Linear');
    expect(linear.paramsSchema).toMatchObject({ type: 'object', required: ['out_features'] });
    expect(linear.defaults).toEqual({ in_features: 'auto', out_features: 64, bias: true });
  });

  it('analyze: the quickstart at batch 64', async () => {
    const r = await c.call('analyze', { graph: quickstart().graph, batchSize: 64 });
    expect(r.error).toBeUndefined();
    const shapes = Object.fromEntries(r.result.edges.map((e: any) => [e.id, e.shape]));
    expect([shapes.e2, shapes.e4, shapes.e6, shapes.e7]).toEqual([[64, 784], [64, 512], [64, 512], [64, 10]]);
    expect(r.result.summary.totalParams).toBe(669_706);
    expect(r.result.issues).toEqual([]);
  });

  it('listTemplates and getTemplate', async () => {
    const list = await c.call('listTemplates');
    expect(list.result.map((t: any) => t.id)).toContain('quickstart');
    const t = await c.call('getTemplate', { id: 'quickstart' });
    expect(t.result.graph.nodes).toHaveLength(8);
  });

  it('save then open round-trips; the recent list updates and recent.changed arrives', async () => {
    const file = join(tmp, 'work', 'mine.json');
    mkdirSync(join(tmp, 'work'), { recursive: true });
    const p = { ...quickstart(), name: 'Mine' };
    const saved = await c.call('saveProject', { path: file, project: p });
    expect(saved).toMatchObject({ result: { path: file } });
    expect(JSON.parse(readFileSync(file, 'utf8')).name).toBe('Mine');
    const opened = await c.call('openProject', { path: file });
    expect(opened.result.path).toBe(file);
    expect(opened.result.project.name).toBe('Mine');
    expect(opened.result.project.graph).toEqual(p.graph);
    expect((await c.call('recentProjects')).result[0]).toBe(file);
    expect(c.events).toContainEqual({ type: 'recent.changed', recent: [file] });
    const listing = await c.call('listDir', { path: join(tmp, 'work') });
    expect(listing.result.entries).toEqual([{ name: 'mine.json', path: file, kind: 'file' }]);
  });

  it('recovery round trip', async () => {
    await c.call('writeRecovery', { project: quickstart(), path: null });
    expect((await c.call('readRecovery')).result.project.name).toBe(quickstart().name);
    await c.call('clearRecovery');
    expect((await c.call('readRecovery')).result).toBeNull();
  });

  it('bad project files: NL_BAD_PROJECT and the file on disk unchanged', async () => {
    const cases: [string, string, RegExp][] = [
      ['invalid.json', QUICKSTART_TEXT.slice(0, 300), /not valid JSON/],
      ['future.json', JSON.stringify({ ...quickstart(), version: 42 }), /newer Netloom \(project format 42/],
      ['dangling.json', JSON.stringify({ ...quickstart(), graph: { ...quickstart().graph, edges: [...quickstart().graph.edges, { id: 'e8', source: 'fc3', target: 'gone' }] } }), /edge e8 connects fc3 -> gone/],
    ];
    for (const [name, content, message] of cases) {
      const file = join(tmp, name);
      writeFileSync(file, content);
      const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs };
      const r = await c.call('openProject', { path: file });
      expect(r.result, name).toBeUndefined();
      expect(r.error.code, name).toBe('NL_BAD_PROJECT');
      expect(r.error.message).toMatch(message);
      expect(typeof r.error.hint).toBe('string');
      expect(readFileSync(file).equals(before.bytes)).toBe(true);
      expect(statSync(file).mtimeMs).toBe(before.mtime);
    }
    const missing = await c.call('openProject', { path: join(tmp, 'nope.json') });
    expect(missing.error.code).toBe('NL_IO');
  });

  it('bad requests get NL_BAD_REQUEST and the connection keeps serving', async () => {
    const unknown = await c.call('rm -rf', {});
    expect(unknown.error).toMatchObject({ code: 'NL_BAD_REQUEST', message: 'unknown method "rm -rf"' });
    const proto = await c.call('__proto__', {});
    expect(proto.error.code).toBe('NL_BAD_REQUEST');
    const invalid = await c.call('analyze', { graph: { nodes: 'no' }, batchSize: -1 });
    expect(invalid.error.code).toBe('NL_BAD_REQUEST');
    expect(invalid.error.message).toMatch(/invalid parameters for analyze/);
    const notJson = await c.sendRaw('this is not json {');
    expect(notJson).toEqual({ id: -1, error: expect.objectContaining({ code: 'NL_BAD_REQUEST', message: 'the message is not valid JSON' }) });
    const noMethod = await c.sendRaw(JSON.stringify({ id: 77, params: {} }));
    expect(noMethod).toMatchObject({ id: 77, error: { code: 'NL_BAD_REQUEST' } });
    const wrongShape = await c.sendRaw('[1,2,3]');
    expect(wrongShape).toMatchObject({ id: -1, error: { code: 'NL_BAD_REQUEST' } });
    const garbage = await c.sendRaw(Buffer.from(Array.from({ length: 2 * 1024 * 1024 }, (_, i) => (i * 7919) % 256)).toString('latin1'));
    expect(garbage).toMatchObject({ id: -1, error: { code: 'NL_BAD_REQUEST' } });
    const huge = await c.call('analyze', { graph: { nodes: [], edges: [] }, batchSize: 1, padding: 'x'.repeat(4 * 1024 * 1024) });
    expect(huge.result.batchSize).toBe(1); // unknown keys are dropped by the params schema
    const binary = await c.sendRaw(Buffer.from([0, 1, 2, 3]), true);
    expect(binary).toEqual({ id: -1, error: { code: 'NL_BAD_REQUEST', message: 'binary messages are not supported', hint: 'Send JSON text.' } });
    const hello = await c.call('hello');
    expect(hello.result.apiVersion).toBe(1);
  });

  it('a message over the size limit closes that connection (1009); the server keeps serving', async () => {
    const s = await startServer({ port: 0, rendererDir, maxMessageBytes: 1024, log: (l) => logs.push(l) });
    try {
      const small = await connect(s);
      const closed = new Promise<number>((resolve) => small.ws.once('close', (code) => resolve(code)));
      small.ws.send('x'.repeat(4096));
      expect(await closed).toBe(1009);
      // logged for whoever runs the server; a connection error with no listener would crash it instead
      expect(logs).toContain('netloom serve: connection error: Max payload size exceeded');
      const again = await connect(s);
      expect((await again.call('hello')).result.apiVersion).toBe(1);
      again.close();
    } finally {
      await s.close();
    }
  });
});

describe('serve: engine failures', () => {
  class Broken extends EngineService {
    override async hello(): Promise<any> {
      return { apiVersion: 'one' };
    }
    override async listTemplates(): Promise<any> {
      throw new TypeError('secret internals at /home/x');
    }
    override async recentProjects(): Promise<any> {
      throw new NetloomError('NL_IO', 'the disk is on fire', 'Put it out.');
    }
  }

  it('NetloomError crosses as {code, message, hint}; anything else as a generic NL_INTERNAL with the stack logged', async () => {
    const captured: string[] = [];
    const s = await startServer({ port: 0, rendererDir, service: new Broken(), log: (l) => captured.push(l) });
    try {
      const c = await connect(s);
      expect((await c.call('recentProjects')).error).toEqual({ code: 'NL_IO', message: 'the disk is on fire', hint: 'Put it out.' });
      const internal = await c.call('listTemplates');
      expect(internal.error.code).toBe('NL_INTERNAL');
      expect(internal.error.message).not.toContain('secret');
      expect(captured.join('\n')).toMatch(/TypeError: secret internals/);
      const badResult = await c.call('hello');
      expect(badResult.error.code).toBe('NL_INTERNAL');
      expect(captured.join('\n')).toMatch(/hello returned a result that does not match api.ts/);
      expect((await c.call('getTemplate', { id: 'quickstart' })).result.format).toBe('netloom-project');
      c.close();
    } finally {
      await s.close();
    }
  });
});
