/**
 * Runs cases and records what went wrong. A case writes its damaged files, then drives the CLI or
 * serve through a Target whose every call is judged by the oracle; a call that gets no answer (a
 * hang) or finds serve gone (a crash) ends the case and serve is started afresh, so one failure
 * never hides the cases after it. After each serve case serve must still answer a cheap call.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli, type CliResult, type Reply, type ServeProcess } from './drivers.js';
import { judgeCli, judgeError, judgeReply, type Failure, type FailureType } from './oracle.js';
import { SECRET_MARKER, sha1, type Sandbox } from './sandbox.js';

export interface FileInput {
  path: string;
  bytes: Uint8Array;
}

export interface Case {
  /** what was damaged and how (printed with a failure) */
  input: string;
  files: FileInput[];
  run(t: Target): Promise<void>;
}

/** Ends a case early: its failure is recorded already. */
export class CaseAbort extends Error {}

export const LIMITS = {
  /** a CLI command (a tiny training run included) */
  cliMs: 30_000,
  /** one API call */
  callMs: 15_000,
  /** a run of one epoch on a few dozen samples */
  runMs: 30_000,
  /** the cheap call that shows serve still answers */
  pingMs: 5_000,
};

export interface Target {
  /** runs `netloom <args>`; the verdict is recorded */
  cli(args: string[], o?: { timeoutMs?: number }): Promise<CliResult>;
  /** one API call (params as JSON text); the verdict is recorded */
  call(method: string, paramsText: string, o?: { timeoutMs?: number }): Promise<Reply>;
  /** one raw frame; the verdict is recorded under `label` */
  raw(text: string | Buffer, label: string, o?: { binary?: boolean; timeoutMs?: number }): Promise<Reply>;
  /** waits for a run started by the case to stop, judges how it ended, runs `probe` on it, and closes it */
  finishRun(runId: string, probe?: () => Promise<void>): Promise<void>;
  /** records a failure the case found itself (e.g. the CLI and the app disagreeing) */
  fail(type: FailureType, target: string, message: string, code?: string): void;
}

export class Harness {
  readonly failures: Failure[] = [];
  readonly cases = new Map<string, number>();
  /** every input file written, with its hash: inputs/ must hold exactly these at the end */
  readonly written = new Map<string, string>();

  constructor(readonly sb: Sandbox, readonly serve: ServeProcess) {}

  private writeInputs(files: FileInput[]): void {
    for (const f of files) {
      mkdirSync(path.dirname(f.path), { recursive: true });
      writeFileSync(f.path, f.bytes);
      this.written.set(f.path, sha1(f.bytes));
    }
  }

  record(group: string, seed: number, c: Case, f: Omit<Failure, 'group' | 'seed' | 'input'>): void {
    this.failures.push({ group, seed, input: c.input, ...f });
  }

  /** The serve log's end, when it holds a stack worth reading. */
  private serveDetails(): string | undefined {
    const err = this.serve.stderr();
    const at = err.lastIndexOf('netloom: internal error');
    return at >= 0 ? err.slice(at, at + 2000) : err.slice(-1000) || undefined;
  }

  async runCase(group: string, seed: number, c: Case): Promise<void> {
    this.cases.set(group, (this.cases.get(group) ?? 0) + 1);
    this.writeInputs(c.files);
    let usedServe = false;
    const serve = this.serve;
    const answer = async (target: string, send: () => ReturnType<ServeProcess['sendRaw']>): Promise<Reply> => {
      usedServe = true;
      const sent = await send();
      if ('reply' in sent) {
        const v = judgeReply(sent.reply);
        if (!v.ok) this.record(group, seed, c, { type: v.type, target, code: v.code, message: v.message, details: this.serveDetails() });
        if (JSON.stringify(sent.reply).includes(SECRET_MARKER))
          this.record(group, seed, c, { type: 'leak', target, code: sent.reply.error?.code, message: 'the reply carries the first bytes of secret.pem, a file of another kind', details: JSON.stringify(sent.reply).slice(0, 1000) });
        return sent.reply;
      }
      if ('timeout' in sent) this.record(group, seed, c, { type: 'hang', target, message: 'no reply within the time limit' });
      else this.record(group, seed, c, { type: 'crash', target, message: `${sent.closed}${serve.exit ? ` (exit ${serve.exit.signal ?? serve.exit.code})` : ''}`, details: serve.stderr().slice(-2000) });
      await serve.restart();
      throw new CaseAbort();
    };
    const t: Target = {
      cli: async (args, o) => {
        const r = await runCli(this.sb, args, o?.timeoutMs ?? LIMITS.cliMs);
        const v = judgeCli(r);
        if (!v.ok) this.record(group, seed, c, { type: v.type, target: `cli ${args[0]}`, code: v.code, message: v.message, details: r.stderr.slice(-2000) });
        return r;
      },
      call: (method, paramsText, o) => answer(`serve ${method}`, () => serve.call(method, paramsText, o?.timeoutMs ?? LIMITS.callMs)),
      raw: (text, label, o) => answer(`serve ${label}`, () => serve.sendRaw(text, o?.timeoutMs ?? LIMITS.callMs, o?.binary)),
      finishRun: async (runId, probe) => {
        const end = await serve.waitRun(runId, LIMITS.runMs);
        if (!serve.alive) {
          this.record(group, seed, c, { type: 'crash', target: 'serve run', message: `serve died during a run (exit ${serve.exit?.signal ?? serve.exit?.code})`, details: serve.stderr().slice(-2000) });
          await serve.restart();
          throw new CaseAbort();
        }
        if (!end) {
          this.record(group, seed, c, { type: 'hang', target: 'serve run', message: `run ${runId} still training after ${LIMITS.runMs / 1000} s` });
          await t.call('stopRun', JSON.stringify({ runId }));
        } else if (end.error) {
          const v = judgeError(end.error);
          if (!v.ok) this.record(group, seed, c, { type: v.type, target: 'serve run', code: v.code, message: v.message, details: this.serveDetails() });
        }
        if (probe) await probe();
        await t.call('closeRun', JSON.stringify({ runId }));
      },
      fail: (type, target, message, code) => this.record(group, seed, c, { type, target, message, code }),
    };
    try {
      await c.run(t);
    } catch (e) {
      if (!(e instanceof CaseAbort)) throw e;
    }
    if (!usedServe) return;
    // serve must still answer, whatever the case did to it
    const ping = serve.alive ? await serve.call('hostInfo', '{}', LIMITS.pingMs) : { closed: 'serve is not running' };
    if (!('reply' in ping) || ping.reply.error) {
      this.record(group, seed, c, { type: 'timeout' in ping ? 'dead' : 'crash', target: 'serve hostInfo after the case', message: JSON.stringify(ping).slice(0, 300), details: serve.stderr().slice(-2000) });
      await serve.restart();
    }
  }
}
