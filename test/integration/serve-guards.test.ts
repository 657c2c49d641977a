/**
 * `netloom serve`'s gates, over real sockets with exact request lines and headers: the page is served
 * only with the token whatever spelling its path takes, the token never goes into a cookie (a cookie
 * would reach every other server on this host: cookies are not scoped by port), and on a loopback bind
 * only requests addressed to a loopback IP literal, `localhost` or `[::1]` are answered (DNS rebinding),
 * on the page and on the WebSocket alike.
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { type RawAnswer, rawRequest, upgradeStatus } from '../support/raw-http.js';

const FAKE_INDEX = '<!doctype html><title>fake netloom page</title>';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-serve-guards-'));
const rendererDir = join(tmp, 'renderer');
let server: RunningServer;

beforeAllOrFail(async () => {
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), FAKE_INDEX);
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("hi")');
  writeFileSync(join(tmp, 'secret.json'), '{"secret": true}');
  // the page under another name (as a case-insensitive file system's INDEX.HTML would be)
  linkSync(join(rendererDir, 'index.html'), join(rendererDir, 'assets', 'page.html'));
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir, log: () => {} });
});

afterAll(async () => {
  await server?.close();
});

/** A GET with the request target sent exactly as given (no client-side normalisation). */
function rawGet(target: string, headers: Record<string, string> = {}, port = server.port): Promise<RawAnswer> {
  return rawRequest(port, 'GET', target, headers);
}


describe('serve: the token never goes into a cookie', () => {
  it('a page load with the token sets no cookie (cookies reach every port of the host)', async () => {
    const r = await rawGet(`/?token=${server.token}`);
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('a cookie carrying the token opens nothing: the page needs the token in its address', async () => {
    for (const name of ['netloom-token', `netloom-token-${server.port}`]) {
      const r = await rawGet('/', { cookie: `${name}=${server.token}` });
      expect(r.status, name).toBe(401);
      expect(r.body).not.toContain(FAKE_INDEX);
    }
  });
});

describe('serve: every spelling of the page needs the token', () => {
  // each names index.html (or the root) once decoded and resolved as a browser or a file system would
  const PAGE_SPELLINGS = [
    '/%69ndex.html',
    '/%69%6e%64%65%78%2e%68%74%6d%6c',
    '/./index.html',
    '//index.html',
    '/assets/../index.html',
    '/assets/%2e%2e/index.html',
    '/%2e%2e/index.html',
    '/../index.html',
    '/index.html/',
    '/index.html/.',
    '/.',
    '/%2e',
    '///',
  ];

  it('refuses them all without the token (401), and none of them shows the page', async () => {
    for (const p of PAGE_SPELLINGS) {
      const r = await rawGet(p);
      expect(r.status, p).toBe(401);
      expect(r.body, p).not.toContain('fake netloom page');
    }
  });

  it('serves them with the token, as the page', async () => {
    for (const p of PAGE_SPELLINGS) {
      const r = await rawGet(`${p}?token=${server.token}`);
      expect(r.status, p).toBe(200);
      expect(r.body, p).toBe(FAKE_INDEX);
    }
  });

  it('refuses encoded separators, NUL, bad escapes and targets that are not paths (400), token or not', async () => {
    for (const p of ['/index.html%00', '/%00index.html', '/assets%2f..%2findex.html', '/assets%2F..%2Findex.html', '/..%5cindex.html', '/%5c..%5cindex.html', '/%', '/%zz', '/%c0%ae%c0%ae/index.html', '*', 'index.html']) {
      for (const q of ['', `?token=${server.token}`]) {
        const r = await rawGet(`${p}${q}`);
        expect(r.status, `${p}${q}`).toBe(400);
        expect(r.body, p).not.toContain('fake netloom page');
      }
    }
  });

  it('the page under another file name is not served as an asset', async () => {
    for (const p of ['/assets/page.html', `/assets/page.html?token=${server.token}`]) {
      const r = await rawGet(p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('fake netloom page');
    }
  });

  it('a double-encoded name is a file name, not the page', async () => {
    // "%2569" decodes once to the literal "%69": no such file (decoding twice would name index.html)
    for (const p of ['/%2569ndex.html', '/%252e%252e/secret.json']) {
      const r = await rawGet(p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('fake netloom page');
    }
  });

  it('assets still load by their plain and their encoded names; nothing outside the renderer folder does', async () => {
    expect((await rawGet('/assets/app.js')).body).toBe('console.log("hi")');
    expect((await rawGet('/assets/%61pp.js')).body).toBe('console.log("hi")');
    expect((await rawGet('/assets/./app.js')).body).toBe('console.log("hi")');
    for (const p of ['/../secret.json', '/assets/../../secret.json', '/%2e%2e/secret.json', '/%2e%2e/%2e%2e/secret.json']) {
      const r = await rawGet(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  it('/api, however spelled, only upgrades', async () => {
    for (const p of ['/api', '/%61pi', '/./api', '//api']) expect((await rawGet(`${p}?token=${server.token}`)).status, p).toBe(426);
    expect(await upgradeStatus(server.port, `/%61pi?token=${server.token}`, `127.0.0.1:${server.port}`)).toBe(101);
    expect(await upgradeStatus(server.port, `/api%00?token=${server.token}`, `127.0.0.1:${server.port}`)).toBe(400);
  });
});

describe('serve: only requests addressed to this machine (DNS rebinding)', () => {
  const port = () => server.port;
  // the names a browser sends when it opens a loopback address of this machine
  const LOOPBACK = () => [`127.0.0.1:${port()}`, `localhost:${port()}`, `LOCALHOST:${port()}`, `Localhost`, `127.0.0.2:${port()}`, `127.255.255.254:${port()}`, `[::1]:${port()}`, '[::1]', '127.0.0.1'];
  // names that look loopback but are not (any of the DNS ones can be made to point anywhere), and spellings no browser sends
  const NOT_LOOPBACK = () => [
    `127.0.0.1.evil.example:${port()}`,
    `localhost.evil.example:${port()}`,
    `evil.localhost:${port()}`,
    `localhost.:${port()}`,
    `127.0.0.1.:${port()}`,
    `127.1:${port()}`,
    `0x7f.0.0.1:${port()}`,
    `0177.0.0.1:${port()}`,
    `127.0.0.01:${port()}`,
    `2130706433:${port()}`,
    `[::1].evil:${port()}`,
    `[::1]evil:${port()}`,
    `[::ffff:127.0.0.1]:${port()}`,
    `[0:0:0:0:0:0:0:1]:${port()}`,
    `127.0.0.1:${port()}:80`,
    `127.0.0.1:x`,
    `evil.example:${port()}`,
    `128.0.0.1:${port()}`,
    '',
  ];

  it('the page: loopback names are answered, look-alikes refused (403)', async () => {
    for (const host of LOOPBACK()) expect((await rawGet(`/?token=${server.token}`, { host })).status, host).toBe(200);
    for (const host of NOT_LOOPBACK()) {
      const r = await rawGet(`/?token=${server.token}`, { host });
      expect(r.status, host).toBe(403);
      expect(r.body).not.toContain('fake netloom page');
    }
  });

  it('the WebSocket: loopback names are accepted, look-alikes refused (403)', async () => {
    for (const host of LOOPBACK()) expect(await upgradeStatus(server.port, `/api?token=${server.token}`, host), host).toBe(101);
    for (const host of NOT_LOOPBACK()) expect(await upgradeStatus(server.port, `/api?token=${server.token}`, host), host).toBe(403);
  });

  it('`netloom serve --host 127.0.0.2` is loopback: no "exposed to the network" note, and rebinding is still refused', async () => {
    const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'engine', 'host', 'cli.js'), 'serve', '--host', '127.0.0.2', '--port', '0'], {
      env: { ...process.env, NETLOOM_CONFIG_DIR: join(tmp, 'config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('Press Ctrl-C')) resolve(/(http:\/\/\S+)/.exec(out)![1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`netloom serve exited with ${code}:\n${out}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/\?token=/);
      expect(out).not.toMatch(/note: listening|anyone who can reach/);
      const p = Number(new URL(url).port);
      const token = new URL(url).searchParams.get('token')!;
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.2', port: p, path: `/?token=${token}`, setHost: false, headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get(`127.0.0.2:${p}`)).not.toBe(403);
      expect(await get(`127.0.0.2.evil.example:${p}`)).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
