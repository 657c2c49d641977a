/**
 * Downloading one file from a list of mirrors: resumable, verified, and never half-written at its final name.
 *
 *   - bytes go to `<dest>.part`; a later call finds it and asks for the rest with `Range: bytes=<size>-`
 *     (a 206 appends; a 200 means the server ignored the range, so the .part is rewritten from zero);
 *   - once complete, the .part is fsynced, its MD5 computed by streaming it from disk, and only a match
 *     is renamed to `<dest>` (one atomic rename in the same folder); a mismatch deletes the .part;
 *   - mirrors are tried in order; redirects are followed (at most `maxRedirects`); a connection that drops
 *     or stalls (no byte for `timeoutMs`) is retried from where it stopped, at most `retries` times per mirror;
 *   - an AbortSignal stops the transfer at once and keeps the .part for the next call to resume;
 *   - `<dest>.part.lock` (our pid) keeps a second process from writing the same .part at the same time.
 *
 * Errors: NL_DOWNLOAD (network: every mirror failed, each reason listed), NL_BAD_DATASET (checksum mismatch),
 * NL_STOPPED (aborted), NL_IO (the local disk). Plain node:http/https; no proxy support (HTTP(S)_PROXY is
 * not read). `fetchImpl` replaces the transport (tests, other stacks).
 */
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { NetloomError, isNetloomError } from '../errors.js';
import { syncDirectory } from '../io/atomic.js';
import { openUserFile, readUserFile } from '../io/read-file.js';

export interface DownloadProgress {
  /** the URL being read now (after redirects) */
  url: string;
  /** the final path the file is being downloaded to */
  dest: string;
  /** bytes in the .part file so far, including any kept from an earlier attempt */
  received: number;
  /** the whole file's size, when the server says */
  total: number | undefined;
  /** bytes reused from an earlier, interrupted attempt (0 for a fresh start) */
  resumedFrom: number;
  done: boolean;
}

/** What a transport returns: status, lower-case headers, and the body as a byte stream. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: AsyncIterable<Uint8Array>;
  /** Ends the transfer and frees the connection (body not read, or read in part). */
  close(): void;
}

/** One GET. Must reject (or make `body` throw) on network errors, on `signal` and after `timeoutMs` without data. */
export type FetchImpl = (url: URL, init: { headers: Record<string, string>; signal: AbortSignal; timeoutMs: number }) => Promise<HttpResponse>;

export interface DownloadOptions {
  /** expected MD5 (hex, any case); without it the file is only checked against the announced size */
  md5?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  fetchImpl?: FetchImpl;
  /** redirects followed per request (default 5) */
  maxRedirects?: number;
  /** connect / first byte / between-bytes limit in ms (default 30 000) */
  timeoutMs?: number;
  /** further attempts per mirror after a dropped or stalled connection or a 5xx (default 3) */
  retries?: number;
  /** wait before retry k is k * retryDelayMs (default 1000) */
  retryDelayMs?: number;
  /** at most one progress event per interval, plus the first and the last (default 100 ms) */
  progressIntervalMs?: number;
  /** hint for NL_DOWNLOAD errors (callers know the alternatives: a bundled copy, a local folder) */
  hint?: string;
}

export interface DownloadResult {
  /** the URL (after redirects) that delivered the last bytes */
  url: string;
  bytes: number;
  md5: string;
}

const DEFAULT_HINT = 'Check the internet connection (and any proxy or firewall) and run again; the download resumes where it stopped.';

/** A failure of one attempt, with whether trying the same mirror again can help. */
class AttemptError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly kind: 'network' | 'http' | 'checksum' = 'network') {
    super(message);
  }
}

export async function download(urls: string | readonly string[], dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const list = typeof urls === 'string' ? [urls] : [...urls];
  if (list.length === 0) {
    throw new NetloomError('NL_INVALID_ARGUMENT', `download: no URL given for ${dest}`, 'Pass at least one mirror URL.');
  }
  const expected = opts.md5?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{32}$/.test(expected)) {
    throw new NetloomError('NL_INVALID_ARGUMENT', `download: ${JSON.stringify(opts.md5)} is not an MD5 (32 hex digits)`, 'Give the checksum as 32 hex digits.');
  }
  const signal = opts.signal ?? new AbortController().signal;
  throwIfAborted(signal, dest, 0);
  try {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
  } catch (cause) {
    throw new NetloomError('NL_IO', `Could not create ${path.dirname(dest)}: ${(cause as Error).message}`, 'Check that the data folder is writable, or set NETLOOM_DATA_DIR.', { cause });
  }
  const release = await lock(dest);
  const failures: { url: string; error: AttemptError }[] = [];
  try {
    for (const url of list) {
      try {
        return await fromMirror(url, dest, expected, signal, opts);
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e;
        failures.push({ url, error: e });
      }
    }
  } finally {
    await release();
  }
  const name = path.basename(dest);
  const mismatch = failures.find((f) => f.error.kind === 'checksum');
  const others = failures.filter((f) => f !== mismatch).map((f) => `${f.url}: ${f.error.message}`);
  if (mismatch) {
    throw new NetloomError(
      'NL_BAD_DATASET',
      `${name}: checksum mismatch, ${mismatch.error.message} (downloaded from ${mismatch.url})${others.length ? `; other mirrors: ${others.join('; ')}` : ''}`,
      'The download was damaged on the way or the server sent a different file; the bad copy was deleted. Run the command again to retry.',
    );
  }
  const reasons = failures.map((f) => `${f.url}: ${f.error.message}`);
  throw new NetloomError(
    'NL_DOWNLOAD',
    failures.length === 1 ? `Could not download ${name} from ${reasons[0]}` : `Could not download ${name} from any of ${failures.length} mirrors: ${reasons.join('; ')}`,
    opts.hint ?? DEFAULT_HINT,
  );
}

/**
 * `<dest>.part.lock` holding our pid, so two processes never append to one .part. Best effort: a lock whose
 * process is gone is taken over; a live one is an error (no waiting: the other download may take minutes).
 */
async function lock(dest: string): Promise<() => Promise<void>> {
  const file = `${dest}.part.lock`;
  for (let tries = 0; tries < 3; tries++) {
    try {
      await fsp.writeFile(file, String(process.pid), { flag: 'wx' });
      return () => fsp.rm(file, { force: true }).catch(() => undefined);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw localError(`Could not create ${file}`, cause);
    }
    const pid = Number((await readUserFile(file, { maxBytes: 64, what: 'lock file', tooLarge: 'NL_IO' }).catch(() => '')).toString().trim());
    if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) {
      throw new NetloomError(
        'NL_IO',
        `${path.basename(dest)} is being downloaded by another process (pid ${pid}${pid === process.pid ? ', this one' : ''})`,
        `Wait for that download to finish and run again; if no other Netloom is running, delete ${file}.`,
      );
    }
    await fsp.rm(file, { force: true }).catch(() => undefined); // stale: its process has gone
  }
  throw new NetloomError('NL_IO', `Could not take the download lock ${file}`, `If no other Netloom is running, delete ${file} and run again.`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** MD5 (hex) of a file, streamed. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  const { handle } = await openUserFile(file); // a FIFO put in its place would never end
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

async function fromMirror(url: string, dest: string, expected: string | undefined, signal: AbortSignal, o: DownloadOptions): Promise<DownloadResult> {
  const retries = Math.max(0, o.retries ?? 3);
  const part = `${dest}.part`;
  let restartedAfterMismatch = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const got = await attemptOnce(url, part, signal, o);
      const actual = await md5File(part).catch((cause) => {
        throw localError(`Could not read ${part}`, cause);
      });
      if (expected !== undefined && actual !== expected) {
        await fsp.rm(part, { force: true });
        // A resumed file may join two different versions of the file; one fresh try tells that apart from a bad mirror.
        if (got.resumedFrom > 0 && !restartedAfterMismatch) {
          restartedAfterMismatch = true;
          attempt--;
          continue;
        }
        throw new AttemptError(`expected md5 ${expected}, got ${actual} (${got.bytes} bytes)`, false, 'checksum');
      }
      try {
        await fsp.rename(part, dest);
      } catch (cause) {
        throw localError(`Could not rename ${part} to ${dest}`, cause);
      }
      await syncDirectory(path.dirname(dest));
      return { url: got.url, bytes: got.bytes, md5: actual };
    } catch (e) {
      if (!(e instanceof AttemptError) || !e.retryable || attempt >= retries) throw e;
      await sleep((attempt + 1) * (o.retryDelayMs ?? 1000), signal, dest);
    }
  }
}

interface Attempt {
  url: string;
  bytes: number;
  resumedFrom: number;
}

/** One request (plus redirects) that completes the .part file, or throws. Leaves what arrived in the .part. */
async function attemptOnce(startUrl: string, part: string, signal: AbortSignal, o: DownloadOptions): Promise<Attempt> {
  const fetchImpl = o.fetchImpl ?? nodeFetch;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const maxRedirects = o.maxRedirects ?? 5;
  const offset = await fileSize(part);
  const headers: Record<string, string> = { 'user-agent': 'netloom', 'accept-encoding': 'identity' };
  if (offset > 0) headers.range = `bytes=${offset}-`;

  let url: URL;
  try {
    url = new URL(startUrl);
  } catch {
    throw new AttemptError(`not a valid URL`, false, 'http');
  }
  let res: HttpResponse | undefined;
  for (let hops = 0; ; hops++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AttemptError(`unsupported protocol ${url.protocol}`, false, 'http');
    throwIfAborted(signal, part, offset);
    try {
      res = await fetchImpl(url, { headers, signal, timeoutMs });
    } catch (e) {
      throwIfAborted(signal, part, offset);
      throw new AttemptError(networkReason(e), true);
    }
    if (![301, 302, 303, 307, 308].includes(res.status)) break;
    res.close();
    const location = res.headers.location;
    if (location === undefined) throw new AttemptError(`HTTP ${res.status} redirect without a Location header`, false, 'http');
    if (hops >= maxRedirects) throw new AttemptError(`more than ${maxRedirects} redirects (last to ${location})`, false, 'http');
    try {
      url = new URL(location, url);
    } catch {
      throw new AttemptError(`redirect to an invalid URL ${JSON.stringify(location)}`, false, 'http');
    }
  }

  const response = res;
  let start: number;
  let total: number | undefined;
  if (response.status === 206 && offset > 0) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range'] ?? '');
    if (range === null || Number(range[1]) !== offset) {
      response.close();
      await removePart(part);
      throw new AttemptError(`the server answered Range: bytes=${offset}- with Content-Range ${JSON.stringify(response.headers['content-range'] ?? null)}; starting again`, true);
    }
    start = offset;
    total = range[3] === '*' ? undefined : Number(range[3]);
  } else if (response.status === 200) {
    start = 0; // a fresh request, or a server that ignores Range: either way the body is the whole file
    const length = Number(response.headers['content-length'] ?? Number.NaN);
    total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  } else if (response.status === 416 && offset > 0) {
    response.close();
    const whole = /^bytes \*\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    if (whole !== null && Number(whole[1]) === offset) {
      // The .part was already complete (an earlier run stopped between the last byte and the rename).
      o.onProgress?.({ url: url.href, dest: part.slice(0, -'.part'.length), received: offset, total: offset, resumedFrom: offset, done: true });
      return { url: url.href, bytes: offset, resumedFrom: offset };
    }
    await removePart(part);
    throw new AttemptError(`the server refused to resume at byte ${offset} (HTTP 416); starting again`, true);
  } else {
    response.close();
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new AttemptError(`HTTP ${response.status}${http.STATUS_CODES[response.status] ? ` ${http.STATUS_CODES[response.status]}` : ''}`, retryable, 'http');
  }

  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(part, start > 0 ? 'a' : 'w');
  } catch (cause) {
    response.close();
    throw localError(`Could not write ${part}`, cause);
  }
  const dest = part.slice(0, -'.part'.length);
  let received = start;
  let lastEvent = -Infinity;
  const interval = o.progressIntervalMs ?? 100;
  const report = (done: boolean) => {
    const now = Date.now();
    if (!done && now - lastEvent < interval) return;
    lastEvent = now;
    o.onProgress?.({ url: url.href, dest, received, total, resumedFrom: start, done });
  };
  try {
    report(false);
    try {
      for await (const chunk of response.body) {
        if (total !== undefined && received + chunk.length > total) {
          throw new AttemptError(`the server sent more than the announced ${total} bytes`, true);
        }
        await writeAll(handle, chunk, part);
        received += chunk.length;
        report(false);
      }
    } catch (e) {
      response.close();
      throwIfAborted(signal, part, received);
      if (e instanceof AttemptError || isNetloomError(e)) throw e;
      throw new AttemptError(`${networkReason(e)} after ${received} of ${total ?? 'unknown'} bytes`, true);
    }
    throwIfAborted(signal, part, received);
    if (total !== undefined && received !== total) {
      throw new AttemptError(`the connection closed after ${received} of ${total} bytes`, true);
    }
    try {
      await handle.sync();
    } catch (cause) {
      throw localError(`Could not write ${part}`, cause);
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  report(true);
  return { url: url.href, bytes: received, resumedFrom: start };
}

async function writeAll(handle: fsp.FileHandle, chunk: Uint8Array, part: string): Promise<void> {
  try {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
      done += bytesWritten;
    }
  } catch (cause) {
    throw localError(`Could not write ${part}`, cause);
  }
}

function localError(what: string, cause: unknown): NetloomError {
  return new NetloomError('NL_IO', `${what}: ${(cause as Error)?.message ?? String(cause)}`, 'Check that the data folder is writable and has free space.', { cause });
}

function throwIfAborted(signal: AbortSignal, file: string, kept: number): void {
  if (!signal.aborted) return;
  const part = file.endsWith('.part') ? file : `${file}.part`;
  throw new NetloomError(
    'NL_STOPPED',
    `Download of ${path.basename(part.slice(0, -'.part'.length))} stopped${kept > 0 ? `; ${kept} bytes kept in ${part}` : ''}`,
    'Run the command again to resume it.',
    { cause: signal.reason },
  );
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

async function removePart(part: string): Promise<void> {
  await fsp.rm(part, { force: true }).catch(() => undefined);
}

function networkReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  if (code === 'ETIMEDOUT' || err?.name === 'TimeoutError') return err?.message ?? 'timed out';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || err?.message === 'aborted') return 'the connection was dropped';
  return err?.message ?? String(e);
}

function sleep(ms: number, signal: AbortSignal, file: string): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      try {
        throwIfAborted(signal, file, 0);
      } catch (e) {
        reject(e);
      }
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The default transport: node:http / node:https, one connection per request, idle timeout on the socket. */
export const nodeFetch: FetchImpl = (url, { headers, signal, timeoutMs }) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let res: http.IncomingMessage | undefined;
    // agent: false, a connection per request: nothing kept alive to hold the process open afterwards.
    const req = mod.request(url, { method: 'GET', headers, timeout: timeoutMs, agent: false });
    const fail = (err: Error) => {
      if (res) res.destroy(err);
      else reject(err);
      req.destroy(err);
    };
    const onAbort = () => fail(Object.assign(new Error('aborted by the caller'), { name: 'AbortError' }));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal.removeEventListener('abort', onAbort);
    const idle = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    req.on('timeout', () => fail(Object.assign(new Error(`timed out: no data for ${idle}`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => {
      cleanup();
      if (res) res.destroy(err);
      else reject(err);
    });
    req.on('close', cleanup);
    req.on('response', (r) => {
      res = r;
      // Errors surface through the body's iterator; this listener only keeps an early one from going unhandled.
      r.on('error', () => undefined);
      const flat: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(r.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      resolve({
        status: r.statusCode ?? 0,
        headers: flat,
        body: r,
        close: () => {
          r.destroy();
          req.destroy();
        },
      });
    });
    req.end();
  });
