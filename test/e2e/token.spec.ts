/**
 * The access token stays with Netloom: after the browser has opened Netloom's link (and reloaded it),
 * another server on the same host but another port receives no cookie carrying the token. A cookie is
 * scoped by host, not port, so the token must not be in one at all; a reload still works because the
 * page keeps its `?token=` in the address.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from './fixture';
import { openApp } from './helpers';

test('another local server never receives the token; a reload still connects', async ({ page, context, server }) => {
  const seen: { url: string; cookie: string | undefined }[] = [];
  const other = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', cookie: req.headers.cookie });
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another local server</title><p>another local server</p>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
  try {
    await openApp(page, server);
    // a reload of the same address: the app comes back and connects to the engine again
    await page.reload();
    await expect(page.getByTestId('palette-item-Input')).toBeVisible();
    await expect(page.getByTestId('btn-open')).toBeEnabled();
    expect(new URL(page.url()).searchParams.get('token')).toBe(server.token);

    // the browser now visits another server on the same host
    await page.goto(otherUrl);
    await expect(page.getByText('another local server')).toBeVisible();
    await page.reload();
    await expect(page.getByText('another local server')).toBeVisible();

    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const r of seen) expect(r.cookie ?? '', r.url).not.toContain(server.token);
    // nor does the browser hold the token anywhere it would send it
    for (const c of await context.cookies()) expect(c.value, c.name).not.toContain(server.token);
  } finally {
    await new Promise<void>((resolve) => other.close(() => resolve()));
  }
});
