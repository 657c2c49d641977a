/**
 * A local dataset mirror for tests (never the internet): a small MNIST-format dataset made here
 * (gzipped IDX files, like the official ones), served at `<base>/MNIST/<file>` over plain HTTP at a
 * chosen speed, honouring `Range: bytes=N-` so interrupted downloads resume. Its `files` (names and
 * MD5s of what it serves) replace the registry's for a service under test: the official MD5s cannot
 * match files made here, so the check runs against these.
 *
 * Shared by test/integration/download-events.test.ts (events over the WebSocket) and
 * test/e2e/download.spec.ts (the progress bar in the browser). Not a spec file.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface MirrorFile {
  file: string;
  md5: string;
  extracted: string[];
}

export interface Mirror {
  /** http://127.0.0.1:<port> */
  base: string;
  /** the registry entries of what it serves (loadDataset's remote.files) */
  files: MirrorFile[];
  /** bytes of each served file */
  sizes: Record<string, number>;
  /** every request: path and Range header */
  requests: { path: string; range: string | undefined }[];
  /** bytes per second from now on (0: unthrottled) */
  setRate(bytesPerSecond: number): void;
  close(): Promise<void>;
}

/** An IDX file: magic (0x08 = ubyte, then the number of dimensions), big-endian dims, then the bytes. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** `count` 28x28 digits-like images: a bright bar whose row depends on the label, over seeded noise. */
function split(count: number, seed: number): { images: Buffer; labels: Buffer } {
  let r = seed >>> 0;
  const rnd = () => (r = (r * 1664525 + 1013904223) >>> 0);
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * 784);
  for (let n = 0; n < count; n++) {
    const label = rnd() % 10;
    labels[n] = label;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) pixels[n * 784 + y * 28 + x] = Math.abs(y - (4 + label * 2)) <= 1 ? 200 + (rnd() % 56) : rnd() % 90;
  }
  return { images: idx([count, 28, 28], pixels), labels: idx([count], labels) };
}

export async function startMirror(o: { train?: number; test?: number; bytesPerSecond?: number } = {}): Promise<Mirror> {
  const train = split(o.train ?? 1000, 7);
  const test = split(o.test ?? 200, 8);
  const raw: Record<string, Buffer> = {
    'train-images-idx3-ubyte': train.images,
    'train-labels-idx1-ubyte': train.labels,
    't10k-images-idx3-ubyte': test.images,
    't10k-labels-idx1-ubyte': test.labels,
  };
  const bodies = new Map<string, Buffer>();
  const files: MirrorFile[] = [];
  for (const [name, data] of Object.entries(raw)) {
    const gz = gzipSync(data);
    bodies.set(`${name}.gz`, gz);
    files.push({ file: `${name}.gz`, md5: createHash('md5').update(gz).digest('hex'), extracted: [name] });
  }
  let rate = o.bytesPerSecond ?? 0;
  const requests: Mirror['requests'] = [];
  const open = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, range: req.headers.range });
    const m = /^\/MNIST\/([^/]+)$/.exec(path);
    const body = m ? bodies.get(m[1]) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(range ? 206 : 200, {
      'content-length': String(body.length - start),
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    open.add(res);
    res.on('close', () => open.delete(res));
    // chunks every 50 ms at the current rate (the whole rest at once when unthrottled)
    let pos = start;
    const pump = () => {
      if (res.destroyed) return;
      const n = rate > 0 ? Math.max(1, Math.floor(rate / 20)) : body.length - pos;
      const chunk = body.subarray(pos, Math.min(body.length, pos + n));
      pos += chunk.length;
      if (pos >= body.length) res.end(chunk);
      else {
        res.write(chunk);
        setTimeout(pump, 50);
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    files,
    sizes: Object.fromEntries([...bodies].map(([k, v]) => [k, v.length])),
    requests,
    setRate: (b) => {
      rate = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of open) r.destroy();
        server.close(() => resolve());
      }),
  };
}
