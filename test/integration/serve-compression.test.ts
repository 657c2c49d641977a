/**
 * `netloom serve` sends the app's files compressed: the built renderer (dist/renderer, made by
 * `npm run build`) requested over a real socket with and without Accept-Encoding, each body decoded
 * and compared with the file on disk, with the headers a cache needs (Content-Encoding, Vary,
 * Content-Length of the encoded body, an ETag per encoding, 304, HEAD). A second server over a
 * scratch folder checks what is never compressed (tiny files, PNG) and that a rebuilt file is
 * compressed again.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_COMPRESS_BYTES } from '../../engine/host/compression.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { beforeAllOrFail } from '../support/setup.js';

const APP = join(process.cwd(), 'dist', 'renderer');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-serve-compression-'));
const scratch = join(tmp, 'renderer');
const savedConfigDir = process.env.NETLOOM_CONFIG_DIR;
let app: RunningServer;
let other: RunningServer;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request; the body as the bytes that came (Node's client never decodes). */
function get(s: RunningServer, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, path: target, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(a: Answer): Buffer {
  const enc = a.headers['content-encoding'];
  if (enc === 'br') return brotliDecompressSync(a.body);
  if (enc === 'gzip') return gunzipSync(a.body);
  expect(enc).toBeUndefined();
  return a.body;
}

/** The app's files as index.html names them (entry script, preloaded modules, style sheet), the entry script first. */
function appFiles(): { target: string; disk: string; size: number }[] {
  const html = readFileSync(join(APP, 'index.html'), 'utf8');
  const entry = /<script type="module"[^>]* src="\.\/(assets\/[\w.-]+\.js)"/.exec(html)?.[1];
  expect(entry, 'index.html names its entry script').toBeDefined();
  const names = [...html.matchAll(/(?:src|href)="\.\/(assets\/[\w.-]+\.(?:js|css))"/g)].map((m) => m[1]);
  return [entry!, ...names.filter((n) => n !== entry)].map((n) => ({ target: `/${n}`, disk: join(APP, n), size: statSync(join(APP, n)).size }));
}

const SAFE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'content-security-policy': "frame-ancestors 'none'" };
const CHROMIUM = 'gzip, deflate, br, zstd';

beforeAllOrFail(async () => {
  if (!existsSync(join(APP, 'index.html'))) throw new Error(`${APP} is not built: run \`npm run build:renderer\` first`);
  mkdirSync(join(scratch, 'assets'), { recursive: true });
  writeFileSync(join(scratch, 'index.html'), '<!doctype html><title>scratch</title>');
  writeFileSync(join(scratch, 'assets', 'tiny.js'), 'console.log(1)\n');
  writeFileSync(join(scratch, 'assets', 'picture.png'), Buffer.alloc(8192, 7));
  writeFileSync(join(scratch, 'assets', 'data.json'), JSON.stringify({ values: Array.from({ length: 500 }, (_, i) => i) }));
  process.env.NETLOOM_CONFIG_DIR = join(tmp, 'config');
  app = await startServer({ host: '127.0.0.1', port: 0, rendererDir: APP, log: () => undefined });
  other = await startServer({ host: '127.0.0.1', port: 0, rendererDir: scratch, log: () => undefined });
});

afterAll(async () => {
  await app?.close();
  await other?.close();
  if (savedConfigDir === undefined) delete process.env.NETLOOM_CONFIG_DIR;
  else process.env.NETLOOM_CONFIG_DIR = savedConfigDir;
  rmSync(tmp, { recursive: true, force: true });
});

describe('serve compresses the app', () => {
  it('the page, its script and its style sheet: br for a browser, gzip when only gzip is accepted, identity without the header; each decodes to the file', async () => {
    // (rolldown's runtime, under 1 KiB, is sent as it is: the next test)
    const files = [{ target: `/?token=${app.token}`, disk: join(APP, 'index.html') }, ...appFiles().filter((f) => f.size >= MIN_COMPRESS_BYTES)];
    expect(files.map((f) => f.target.split('.').pop())).toEqual(expect.arrayContaining(['js', 'css']));
    const cases: [Record<string, string>, string | undefined][] = [
      [{ 'accept-encoding': CHROMIUM }, 'br'],
      [{ 'accept-encoding': 'gzip' }, 'gzip'],
      [{ 'accept-encoding': 'br;q=0, gzip' }, 'gzip'],
      [{ 'accept-encoding': 'gzip;q=1, br;q=0.5' }, 'gzip'],
      [{ 'accept-encoding': 'identity' }, undefined],
      [{}, undefined],
    ];
    for (const { target, disk } of files) {
      const want = readFileSync(disk);
      const etags = new Set<string>();
      for (const [headers, encoding] of cases) {
        const a = await get(app, target, headers);
        expect(a.status, `${target} ${JSON.stringify(headers)}`).toBe(200);
        expect(a.headers['content-encoding']).toBe(encoding);
        expect(a.headers).toMatchObject({ ...SAFE_HEADERS, vary: 'Accept-Encoding', 'content-length': String(a.body.length) });
        expect(decode(a).equals(want), `${target} decodes to the file on disk`).toBe(true);
        etags.add(`${encoding}:${a.headers.etag}`);
      }
      // one ETag per encoding, and never the same one for two encodings
      const byEncoding = new Map([...etags].map((e) => [e.split(':')[0], e.slice(e.indexOf(':') + 1)]));
      expect(etags.size).toBe(3);
      expect(new Set(byEncoding.values()).size).toBe(3);
    }
  });

  it('a preloaded module under 1 KiB is sent as it is, with no Vary', async () => {
    for (const f of appFiles().filter((f) => f.size < MIN_COMPRESS_BYTES)) {
      const a = await get(app, f.target, { 'accept-encoding': CHROMIUM });
      expect(a.headers['content-encoding']).toBeUndefined();
      expect(a.headers.vary).toBeUndefined();
      expect(a.body.equals(readFileSync(f.disk))).toBe(true);
    }
  });

  it('the entry script shrinks to well under half (it was sent as 818 KiB of plain text)', async () => {
    const [script] = appFiles();
    const raw = readFileSync(script.disk).length;
    const br = await get(app, script.target, { 'accept-encoding': 'br' });
    const gz = await get(app, script.target, { 'accept-encoding': 'gzip' });
    expect(gz.body.length).toBeLessThan(raw * 0.4);
    expect(br.body.length).toBeLessThan(gz.body.length);
  });

  it('If-None-Match with the ETag of the encoding sent: 304 with no body; the ETag of another encoding: the full body', async () => {
    const [script] = appFiles();
    for (const accept of ['br', 'gzip', '']) {
      const headers: Record<string, string> = accept ? { 'accept-encoding': accept } : {};
      const first = await get(app, script.target, headers);
      const again = await get(app, script.target, { ...headers, 'if-none-match': first.headers.etag! });
      expect({ status: again.status, length: again.body.length }).toEqual({ status: 304, length: 0 });
      expect(again.headers).toMatchObject({ etag: first.headers.etag, vary: 'Accept-Encoding', 'cache-control': 'public, max-age=31536000, immutable' });
      expect(again.headers['content-encoding']).toBeUndefined();
      // a weak validator and a list match too
      expect((await get(app, script.target, { ...headers, 'if-none-match': `"x", W/${first.headers.etag}` })).status).toBe(304);
    }
    const gz = await get(app, script.target, { 'accept-encoding': 'gzip' });
    const brWithGzipTag = await get(app, script.target, { 'accept-encoding': 'br', 'if-none-match': gz.headers.etag! });
    expect(brWithGzipTag.status).toBe(200);
    expect(brWithGzipTag.headers['content-encoding']).toBe('br');
    expect(decode(brWithGzipTag).equals(readFileSync(script.disk))).toBe(true);
    const plainWithGzipTag = await get(app, script.target, { 'if-none-match': gz.headers.etag! });
    expect(plainWithGzipTag.status).toBe(200);
    expect(plainWithGzipTag.body.equals(readFileSync(script.disk))).toBe(true);
  });

  it('HEAD: the headers GET sends (Content-Length of the encoded body, Content-Encoding, ETag, Vary), no body', async () => {
    for (const { target } of appFiles())
      for (const accept of ['br', 'gzip', '']) {
        const headers: Record<string, string> = accept ? { 'accept-encoding': accept } : {};
        const g = await get(app, target, headers);
        const h = await get(app, target, headers, 'HEAD');
        expect(h.status).toBe(200);
        expect(h.body.length).toBe(0);
        for (const name of ['content-length', 'content-encoding', 'content-type', 'etag', 'vary', 'cache-control']) expect(h.headers[name], `${target} ${accept} ${name}`).toBe(g.headers[name]);
      }
  });

  it('the page still needs its token, compressed or not', async () => {
    const a = await get(app, '/', { 'accept-encoding': CHROMIUM });
    expect(a.status).toBe(401);
    expect(a.headers['content-encoding']).toBeUndefined();
  });

  it('a lazily loaded chunk is compressed too', async () => {
    const entry = new Set(appFiles().map((f) => f.target));
    const chunk = readdirSync(join(APP, 'assets')).find((n) => n.endsWith('.js') && !entry.has(`/assets/${n}`));
    expect(chunk).toBeDefined();
    const a = await get(app, `/assets/${chunk}`, { 'accept-encoding': CHROMIUM });
    expect(a.headers['content-encoding']).toBe('br');
    expect(decode(a).equals(readFileSync(join(APP, 'assets', chunk!)))).toBe(true);
  });
});

describe('serve leaves alone what does not shrink', () => {
  it('a tiny file and a PNG are sent as they are, with no Vary; a JSON file is compressed', async () => {
    for (const name of ['tiny.js', 'picture.png']) {
      const a = await get(other, `/assets/${name}`, { 'accept-encoding': CHROMIUM });
      expect(a.status).toBe(200);
      expect(a.headers['content-encoding']).toBeUndefined();
      expect(a.headers.vary).toBeUndefined();
      expect(a.body.equals(readFileSync(join(scratch, 'assets', name)))).toBe(true);
      expect(a.headers['content-length']).toBe(String(a.body.length));
      expect((await get(other, `/assets/${name}`, { 'if-none-match': a.headers.etag! })).status).toBe(304);
    }
    const json = await get(other, '/assets/data.json', { 'accept-encoding': 'gzip' });
    expect(json.headers['content-encoding']).toBe('gzip');
    expect(decode(json).equals(readFileSync(join(scratch, 'assets', 'data.json')))).toBe(true);
  });

  it('a file rebuilt under the same name is compressed again, with a new ETag', async () => {
    const file = join(scratch, 'assets', 'data.json');
    const before = await get(other, '/assets/data.json', { 'accept-encoding': 'br' });
    const text = JSON.stringify({ rebuilt: Array.from({ length: 600 }, (_, i) => i * 2) });
    writeFileSync(file, text);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const after = await get(other, '/assets/data.json', { 'accept-encoding': 'br' });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(decode(after).toString('utf8')).toBe(text);
    expect((await get(other, '/assets/data.json', { 'accept-encoding': 'br', 'if-none-match': before.headers.etag! })).status).toBe(200);
  });
});
