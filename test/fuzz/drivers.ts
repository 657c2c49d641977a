/**
 * The two ways the fuzzer reaches the engine: `netloom` commands (one process per case) and one
 * long-running `netloom serve` spoken to over its WebSocket, both as real child processes under
 * the sandbox's memory limit, so a crash shows as a signal and never takes the test with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import WebSocket from 'ws';
import { limited, type Sandbox } from './sandbox.js';

export const CLI = path.join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Keeps the first and the last `max` characters of a stream: a case that prints megabytes must not fill
 * the test's memory, and the CLI's error line comes first, before a long list of problems.
 */
function tail(max: number) {
  let head = '';
  let rest = '';
  let total = 0;
  return {
    add: (chunk: Buffer) => {
      let s = chunk.toString('utf8');
      total += s.length;
      if (head.length < max) {
        const take = s.slice(0, max - head.length);
        head += take;
        s = s.slice(take.length);
      }
      rest = (rest + s).slice(-max);
    },
    get: () => (total > head.length + rest.length ? `${head}\n[...]\n${rest}` : head + rest),
  };
}

/** One `netloom` command; killed (and reported as timed out) after timeoutMs. */
export function runCli(sb: Sandbox, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    const [cmd, ...rest] = limited([process.execPath, CLI, ...args]);
    const child = spawn(cmd, rest, { cwd: sb.cwd, env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = tail(20_000);
    const err = tail(20_000);
    child.stdout!.on('data', out.add);
    child.stderr!.on('data', err.add);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal: timedOut ? null : signal, stdout: out.get(), stderr: err.get(), timedOut });
    });
  });
}

export type Reply = { id?: unknown; result?: unknown; error?: { code: string; message: string; hint?: string } };
export type Sent = { reply: Reply } | { timeout: true } | { closed: string };

/**
 * `netloom serve` as a child process plus one WebSocket to it. One request is in flight at a time
 * (the fuzzer waits for each reply), so a reply is simply the next non-event message.
 */
export class ServeProcess {
  private child: ChildProcess | undefined;
  private ws: WebSocket | undefined;
  private waiter: ((m: Sent) => void) | undefined;
  private stderrTail = tail(50_000);
  /** run.state events by run id (the last one) */
  readonly runStates = new Map<string, { state: string; error?: { code: string; message: string; hint?: string } }>();
  private readonly runWaiters = new Set<() => void>();
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  starts = 0;
  private nextId = 1;

  constructor(private readonly sb: Sandbox) {}

  async start(): Promise<void> {
    this.starts++;
    this.exit = undefined;
    this.stderrTail = tail(50_000);
    this.runStates.clear();
    const [cmd, ...rest] = limited([process.execPath, CLI, 'serve', '--port', '0']);
    const child = spawn(cmd, rest, { cwd: this.sb.cwd, env: this.sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', this.stderrTail.add);
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.waiter?.({ closed: `serve exited (${signal ?? `code ${code}`})` });
      for (const w of [...this.runWaiters]) w();
    });
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (c: Buffer) => {
        text += c.toString('utf8');
        const m = /running at (http:\/\/\S+)/.exec(text);
        if (m) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => reject(new Error(`netloom serve did not start: ${this.stderrTail.get()}`)));
    });
    const u = new URL(url);
    const ws = new WebSocket(`ws://127.0.0.1:${u.port}/api?token=${encodeURIComponent(u.searchParams.get('token')!)}`, { maxPayload: 256 << 20 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data) => {
      let msg: any;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        msg = { error: { code: 'FUZZ_UNPARSEABLE_REPLY', message: data.toString().slice(0, 200) } };
      }
      if (msg && typeof msg === 'object' && 'event' in msg) {
        const e = msg.event;
        if (e?.type === 'run.state') {
          this.runStates.set(e.runId, { state: e.state, error: e.error });
          for (const w of [...this.runWaiters]) w();
        }
        return;
      }
      const w = this.waiter;
      this.waiter = undefined;
      w?.({ reply: msg });
    });
    ws.on('close', (code) => this.waiter?.({ closed: `WebSocket closed (${code})` }));
    ws.on('error', () => undefined);
    this.ws = ws;
  }

  /** The run's state once it is no longer training (finished, failed, stopped, paused), or undefined after timeoutMs. */
  waitRun(runId: string, timeoutMs: number): Promise<{ state: string; error?: { code: string; message: string; hint?: string } } | undefined> {
    const settled = () => {
      const s = this.runStates.get(runId);
      return s && s.state !== 'running' && s.state !== 'ready' ? s : undefined;
    };
    return new Promise((resolve) => {
      const done = settled();
      if (done || !this.alive) return resolve(done);
      const check = () => {
        const s = settled();
        if (s || !this.alive) finish(s);
      };
      const finish = (s: ReturnType<typeof settled>) => {
        clearTimeout(timer);
        this.runWaiters.delete(check);
        resolve(s);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.runWaiters.add(check);
    });
  }

  get alive(): boolean {
    return this.exit === undefined && this.ws?.readyState === WebSocket.OPEN;
  }

  /** The last lines serve wrote to stderr (internal errors are logged there with their stack). */
  stderr(): string {
    return this.stderrTail.get();
  }

  /** Sends one frame as it is and waits for the reply. */
  sendRaw(text: string | Buffer, timeoutMs: number, binary = false): Promise<Sent> {
    if (!this.alive) return Promise.resolve({ closed: 'serve is not running' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ timeout: true });
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(m);
      };
      this.ws!.send(text, { binary });
    });
  }

  /** One method call; `paramsText` is the params as JSON text (it may hold what JSON.stringify cannot write). */
  call(method: string, paramsText: string, timeoutMs: number): Promise<Sent> {
    return this.sendRaw(`{"id":${this.nextId++},"method":${JSON.stringify(method)},"params":${paramsText}}`, timeoutMs);
  }

  /** Kills serve (a hang or a crash was recorded) and starts a fresh one. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    this.ws?.terminate();
    const child = this.child;
    if (child && this.exit === undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    }
    this.child = undefined;
  }

  /** Asks serve to stop as a user would (SIGTERM) and waits for its exit. */
  async close(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    this.ws?.close();
    const child = this.child;
    if (child && this.exit === undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    }
    return this.exit;
  }
}
