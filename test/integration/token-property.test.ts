/**
 * The access token of `netloom serve` as a property, not a path: every way a token can be almost
 * right is refused, on the page (401, and not one byte of it) and on the API WebSocket (401, no
 * upgrade), and the exact token is let in (the control that keeps the test from passing vacuously).
 *
 * "Almost right": each prefix and each suffix, the token with characters added before or after it,
 * one character changed at every position, two tokens of the same length made the same way, the
 * token with its case changed, empty, with whitespace (encoded, or "+", which a query decodes to a
 * space), with an encoded NUL or line break, double-encoded, under another parameter name, and twice
 * in one query (the server must not pick one of two answers). An encoding that decodes to exactly the
 * token (`%41` for "A") is the same token (RFC 3986 §6.2.2.2) and is let in.
 *
 * Requests are sent over raw sockets with the target exactly as written (no client-side normalising).
 */
import * as http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { startServer, type RunningServer } from '../../engine/host/serve.js';
import { upgradeStatus } from '../support/raw-http.js';

const PAGE = '<!doctype html><title>the netloom page</title>';
const tmp = mkdtempSync(join(tmpdir(), 'netloom-token-'));
let server: RunningServer;

beforeAllOrFail(async () => {
  mkdirSync(join(tmp, 'renderer'));
  writeFileSync(join(tmp, 'renderer', 'index.html'), PAGE);
  server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: join(tmp, 'renderer'), log: () => {} });
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function get(target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: target, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}


const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const swapCase = (s: string) => [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

/** Every query (the part after "?") that carries a token that is almost, but not exactly, `t`. */
function almostRight(t: string): Map<string, string> {
  const q = new Map<string, string>();
  const add = (why: string, query: string) => q.set(query, why);
  const tok = (value: string) => `token=${value}`;
  for (let k = 0; k < t.length; k++) add(`prefix of ${k}`, tok(t.slice(0, k)));
  for (let k = 1; k < t.length; k++) add(`suffix from ${k}`, tok(t.slice(k)));
  for (let i = 0; i < t.length; i++) {
    // two different replacements at each position: the next character of the alphabet, and one far from it
    const at = ALPHABET.indexOf(t[i]);
    for (const step of [1, 31]) add(`character ${i} changed`, tok(t.slice(0, i) + ALPHABET[(at + step) % ALPHABET.length] + t.slice(i + 1)));
    add(`character ${i} dropped`, tok(t.slice(0, i) + t.slice(i + 1)));
  }
  for (const c of ['A', '0', '_', '-', t[0], t.at(-1)!]) {
    add('one more character after', tok(t + c));
    add('one more character before', tok(c + t));
  }
  add('twice over', tok(t + t));
  for (let n = 0; n < 2; n++) add('another token of the same length', tok(randomBytes(24).toString('base64url')));
  add('same length, all one character', tok('A'.repeat(t.length)));
  if (t !== t.toUpperCase()) add('upper case', tok(t.toUpperCase()));
  if (t !== t.toLowerCase()) add('lower case', tok(t.toLowerCase()));
  if (t !== swapCase(t)) add('case swapped', tok(swapCase(t)));
  add('empty', 'token=');
  add('no value', 'token');
  for (const [why, ws] of [['a space', '%20'], ['a plus (a space in a query)', '+'], ['a tab', '%09'], ['a line break', '%0A'], ['a CRLF', '%0D%0A'], ['a NUL', '%00'], ['a no-break space', '%C2%A0']] as const) {
    add(`${why} after`, tok(`${t}${ws}`));
    add(`${why} before`, tok(`${ws}${t}`));
  }
  add('double-encoded', tok(pct(t).replace(/%/g, '%25')));
  add('encoded, one character changed', tok(pct(t.slice(0, -1) + (t.at(-1) === 'A' ? 'B' : 'A'))));
  add('quoted', tok(`%22${t}%22`));
  add('another parameter name', `Token=${t}`);
  add('another parameter name', `TOKEN=${t}`);
  add('another parameter name', `token%20=${t}`);
  add('another parameter name', `tokens=${t}`);
  add('another parameter name', `t=${t}`);
  add('in the fragment-like tail of another parameter', `x=${t}`);
  add('twice: wrong then right', `token=wrong&token=${t}`);
  add('twice: right then wrong', `token=${t}&token=wrong`);
  add('twice: right then empty', `token=${t}&token=`);
  add('twice: right and right', `token=${t}&token=${t}`);
  add('twice: a prefix then right', `token=${t.slice(0, 16)}&token=${t}`);
  q.delete(tok(t)); // (a random "another token" that happened to be it: cannot happen, but never test the control as a refusal)
  return q;
}

describe('serve: a token that is almost right is refused', () => {
  it('the token is 32 characters of base64url (the variants below cover each position)', () => {
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('the exact token opens the page and the WebSocket, however the URL spells it', async () => {
    for (const query of [`token=${server.token}`, `token=${pct(server.token)}`, `x=1&token=${server.token}`, `token=${server.token}&x=1`]) {
      const page = await get(`/?${query}`);
      expect(page.status, query).toBe(200);
      expect(page.body).toBe(PAGE);
      expect(await upgradeStatus(server.port, `/api?${query}`), query).toBe(101);
    }
  });

  it('the page: every near miss gets the 401 page and none of the page', async () => {
    const wrongs = almostRight(server.token);
    expect(wrongs.size).toBeGreaterThan(200);
    const accepted: string[] = [];
    for (const [query, why] of wrongs) {
      for (const path of ['/', '/index.html']) {
        const r = await get(`${path}?${query}`);
        if (r.status !== 401 || r.body.includes(PAGE)) accepted.push(`${path}?${query} (${why}): ${r.status}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('the WebSocket: every near miss is refused with 401 before the upgrade', async () => {
    const accepted: string[] = [];
    for (const [query, why] of almostRight(server.token)) {
      const status = await upgradeStatus(server.port, `/api?${query}`);
      if (status !== 401) accepted.push(`/api?${query} (${why}): ${status}`);
    }
    expect(accepted).toEqual([]);
  });

  it('no query at all, or a query with no token, is refused on both', async () => {
    for (const tail of ['', '?', '?x=1', '?&', '?=']) {
      expect((await get(`/${tail}`)).status, tail).toBe(401);
      expect(await upgradeStatus(server.port, `/api${tail}`), tail).toBe(401);
    }
  });

  it('each server makes its own token: one server\'s token opens nothing on another', async () => {
    const other = await startServer({ host: '127.0.0.1', port: 0, rendererDir: join(tmp, 'renderer'), log: () => {} });
    try {
      expect(other.token).not.toBe(server.token);
      expect((await get(`/?token=${other.token}`)).status).toBe(401);
      expect(await upgradeStatus(server.port, `/api?token=${other.token}`)).toBe(401);
    } finally {
      await other.close();
    }
  });
});
