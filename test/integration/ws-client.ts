/**
 * A raw client of `netloom serve`'s API WebSocket for the integration tests: calls matched to their
 * replies by id, every event collected in order, waits for an event, and raw frames for the tests of
 * malformed messages (their replies carry no id and are matched in order).
 */
import WebSocket from 'ws';
import type { RunningServer } from '../../engine/host/serve.js';

export interface ApiClient {
  ws: WebSocket;
  events: any[];
  /** sends {id, method, params}; resolves with the whole reply ({id, result} or {id, error}) */
  call(method: string, params?: unknown): Promise<any>;
  /** sends a frame as it is; resolves with the next reply that names no pending id */
  sendRaw(data: string | Buffer, binary?: boolean): Promise<any>;
  /** the first event (already received or still to come) for which pred holds */
  until(pred: (e: any) => boolean, ms?: number): Promise<any>;
  close(): void;
}

export async function connectApi(server: Pick<RunningServer, 'port' | 'token'>, o: { replyTimeoutMs?: number } = {}): Promise<ApiClient> {
  const timeoutMs = o.replyTimeoutMs ?? 60_000;
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${encodeURIComponent(server.token)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const events: any[] = [];
  const waiting = new Map<number, (m: any) => void>();
  const anonymous: ((m: any) => void)[] = [];
  const watchers: { pred: (e: any) => boolean; done: (e: any) => void }[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if ('event' in msg) {
      events.push(msg.event);
      for (const w of [...watchers])
        if (w.pred(msg.event)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.done(msg.event);
        }
    } else if (waiting.has(msg.id)) {
      waiting.get(msg.id)!(msg);
      waiting.delete(msg.id);
    } else anonymous.shift()?.(msg);
  });
  let next = 1;
  const wait = (what: string, id: number | null) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      const done = (m: any) => {
        clearTimeout(timer);
        resolve(m);
      };
      if (id === null) anonymous.push(done);
      else waiting.set(id, done);
    });
  return {
    ws,
    events,
    call(method, params = {}) {
      const id = next++;
      const reply = wait(method, id);
      ws.send(JSON.stringify({ id, method, params }));
      return reply;
    },
    sendRaw(data, binary = false) {
      const reply = wait('a raw frame', null);
      ws.send(data, { binary });
      return reply;
    },
    until(pred, ms = 60_000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('event did not arrive')), ms);
        watchers.push({ pred, done: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => ws.close(),
  };
}
