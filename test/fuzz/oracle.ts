/**
 * What counts as a failure. A case may succeed or be refused with a user-facing NetloomError
 * (code + message + hint): both are fine. It fails when the engine reports an internal error
 * (NL_INTERNAL, NL_INVALID_PROGRAM: the compiler built what the runtime refuses, or a message
 * asking the user to report a bug), when a process dies by a signal, when nothing answers in
 * time (a hang), when serve stops answering, or when a file outside the allowed places changes.
 * More come from the cases themselves: 'disagree' (the CLI and the app judge one project file
 * differently), 'accepted' (a file every reader must refuse was loaded) and 'leak' (a reply of serve
 * carries the content of a file that is none of Netloom's kinds).
 */
import type { CliResult, Reply } from './drivers.js';

export type FailureType = 'internal' | 'crash' | 'hang' | 'dead' | 'files' | 'disagree' | 'accepted' | 'leak';

export interface Failure {
  type: FailureType;
  group: string;
  seed: number;
  /** what was damaged and how */
  input: string;
  /** where it went: "cli train", "serve openProject", ... */
  target: string;
  code?: string;
  message: string;
  /** serve's log or the CLI's stderr around the failure (stacks) */
  details?: string;
}

export type Verdict = { ok: true; code?: string } | { ok: false; type: FailureType; code?: string; message: string };

const INTERNAL_CODES = new Set(['NL_INTERNAL', 'NL_INVALID_PROGRAM']);
/** Words the engine uses only when it blames itself. */
const BUG_WORDS = /please report|a bug in|internal error/i;

/** An error reply of the API (or a run's error): fine unless it is the engine's own fault. */
export function judgeError(e: { code?: string; message?: string; hint?: string }): Verdict {
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(e);
  if (!code || !/^NL_[A-Z_]+$/.test(code)) return { ok: false, type: 'internal', code, message: `error without a Netloom code: ${message}` };
  if (INTERNAL_CODES.has(code) || BUG_WORDS.test(message) || BUG_WORDS.test(e.hint ?? '')) return { ok: false, type: 'internal', code, message };
  return { ok: true, code };
}

export function judgeReply(r: Reply): Verdict {
  if (r === null || typeof r !== 'object') return { ok: false, type: 'internal', message: `reply is not an object: ${String(r)}` };
  if ('error' in r && r.error) return judgeError(r.error);
  if ('result' in r) return { ok: true };
  return { ok: false, type: 'internal', message: `reply has neither result nor error: ${JSON.stringify(r).slice(0, 200)}` };
}

/** `error [NL_CODE]: message` as the CLI prints a user error. */
const CLI_ERROR = /error \[(NL_[A-Z_]+)\]: ([^\n]*)(?:\n\s*hint: ([^\n]*))?/;

export function judgeCli(r: CliResult): Verdict {
  if (r.timedOut) return { ok: false, type: 'hang', message: 'no exit within the time limit' };
  if (r.signal) return { ok: false, type: 'crash', message: `killed by ${r.signal}; stderr: ${lastLines(r.stderr, 3)}` };
  if (/FATAL ERROR|Segmentation fault|terminate called|Aborted|core dumped/.test(r.stderr))
    return { ok: false, type: 'crash', message: lastLines(r.stderr, 3) };
  if (r.code === 0) return { ok: true };
  const m = CLI_ERROR.exec(r.stderr);
  if (r.code === 1 && m) return judgeError({ code: m[1], message: m[2], hint: m[3] });
  // commander's own usage errors ("error: unknown option")
  if (r.code === 1 && /^error: /m.test(r.stderr)) return { ok: true, code: 'usage' };
  return { ok: false, type: r.code === 2 ? 'internal' : 'crash', code: m?.[1], message: `exit code ${r.code}: ${lastLines(r.stderr, 4)}` };
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 600);
}

/** Numbers, paths and quoted names replaced, so one bug hit by many cases is listed once. */
export function signature(f: Failure): string {
  const msg = f.message
    .replace(/\/[^\s:'"]+/g, '<path>')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, '#')
    .slice(0, 160);
  return `${f.type} | ${f.target} | ${f.code ?? '-'} | ${msg}`;
}
