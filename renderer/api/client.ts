/**
 * The EngineApi client: the ONLY transport-aware file in the renderer.
 *
 * Two transports, one object:
 *   - desktop: the Electron preload exposes `window.netloom = { call(method, params), subscribe(listener) }`;
 *   - browser: `netloom serve` answers on `ws(s)://<host>/api?token=<token>` with the wire format of
 *     engine/contract/api.ts ({id, method, params} -> {id, result} | {id, error}; {event}).
 *
 * Every response and event is validated with the api.ts schemas before the app sees it; a reply
 * that does not match becomes an EngineCallError (code NL_BAD_RESPONSE), never a crash. Calls
 * made while the engine is unreachable fail fast with NL_NOT_CONNECTED, and the connection state
 * (for the "Not connected to the Netloom engine" banner) is observable through `connection`.
 */
import {
  ApiError,
  EngineCallError,
  EngineEvent,
  EventMessage,
  METHODS,
  Response,
  type EngineApi,
  type MethodName,
} from '../../engine/contract/api';

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** which transport: the Electron preload or a WebSocket */
  transport: 'electron' | 'websocket';
  /** why the last attempt failed, for the banner */
  reason?: string;
  /** when the next automatic reconnect happens (ms since epoch), if one is scheduled */
  retryAt?: number;
}

/** What the Electron preload exposes (electron/preload.ts). */
interface PreloadBridge {
  call(method: string, params: unknown): Promise<unknown>;
  subscribe(listener: (event: unknown) => void): (() => void) | void;
}

declare global {
  interface Window {
    netloom?: PreloadBridge;
  }
}

export interface EngineClient {
  api: EngineApi;
  connection: {
    get(): ConnectionState;
    subscribe(listener: (s: ConnectionState) => void): () => void;
    /** reconnect now instead of waiting for the next scheduled attempt */
    retry(): void;
  };
}

const CALL_TIMEOUT_MS = 60_000;
/**
 * Calls that may rightly take longer: startRun prepares the run first, which can mean downloading a
 * dataset (CIFAR-10 is 163 MB); its progress arrives as dataset.download events and Stop ends it.
 */
const LONG_CALL_TIMEOUT_MS: Partial<Record<string, number>> = { startRun: 6 * 60 * 60_000 };
const NOT_CONNECTED: ApiError = {
  code: 'NL_NOT_CONNECTED',
  message: 'Not connected to the Netloom engine',
  hint: 'Start it with `netloom serve` and open the address it prints (with its token), or restart the app.',
};

/** A rejected Electron invoke or a thrown value, as an EngineCallError. */
function toCallError(e: unknown): EngineCallError {
  if (e instanceof EngineCallError) return e;
  const parsed = ApiError.safeParse(e);
  if (parsed.success) return new EngineCallError(parsed.data);
  const message = e instanceof Error ? e.message : String(e);
  // Electron prefixes rejected invokes with "Error invoking remote method '…': "; keep the cause.
  const code = (e as { code?: unknown })?.code;
  return new EngineCallError({ code: typeof code === 'string' ? code : 'NL_INTERNAL', message: message.replace(/^Error invoking remote method '[^']*': (Error: )?/, '') });
}

/** Validates a method's result against its schema; a mismatch is the engine's bug, reported as such. */
function checkResult(method: MethodName, result: unknown): unknown {
  const r = METHODS[method].result.safeParse(result);
  if (r.success) return r.data;
  throw new EngineCallError({
    code: 'NL_BAD_RESPONSE',
    message: `the engine answered ${method} with data the app does not understand: ${r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`)
      .join('; ')}`,
    hint: 'The app and the engine may be different versions: restart both from the same install.',
  });
}

type Transport = {
  call(method: MethodName, params: unknown): Promise<unknown>;
  connection: EngineClient['connection'];
};

/** Builds the EngineApi object over a transport: one async function per method, plus onEvent. */
function apiOver(transport: Transport, listeners: Set<(e: EngineEvent) => void>): EngineApi {
  const api: Record<string, unknown> = {
    onEvent(listener: (e: EngineEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  for (const method of Object.keys(METHODS) as MethodName[]) {
    api[method] = async (params: unknown) => checkResult(method, await transport.call(method, params ?? {}));
  }
  return api as EngineApi;
}

function emitEvent(raw: unknown, listeners: Set<(e: EngineEvent) => void>): void {
  const r = EngineEvent.safeParse(raw);
  if (!r.success) {
    console.warn('netloom: ignored an engine event that does not match the schema', raw);
    return;
  }
  for (const l of listeners) {
    try {
      l(r.data);
    } catch (e) {
      console.error('netloom: event listener failed', e);
    }
  }
}

function makeObservable(initial: ConnectionState) {
  let state = initial;
  const subs = new Set<(s: ConnectionState) => void>();
  return {
    get: () => state,
    set(next: ConnectionState) {
      state = next;
      for (const s of subs) s(state);
    },
    subscribe(l: (s: ConnectionState) => void) {
      subs.add(l);
      return () => {
        subs.delete(l);
      };
    },
  };
}

// ---- Electron preload --------------------------------------------------------------------------

function electronTransport(bridge: PreloadBridge, listeners: Set<(e: EngineEvent) => void>): Transport {
  const state = makeObservable({ status: 'open', transport: 'electron' });
  bridge.subscribe((raw) => {
    // accept both a bare event and the wire envelope {event}
    const env = EventMessage.safeParse(raw);
    emitEvent(env.success ? env.data.event : raw, listeners);
  });
  return {
    async call(method, params) {
      let value: unknown;
      try {
        value = await bridge.call(method, params);
      } catch (e) {
        throw toCallError(e);
      }
      // The preload may resolve with the wire envelope ({result} | {error}) or the bare result.
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.length <= 2 && (keys.includes('result') || keys.includes('error')) && keys.every((k) => k === 'result' || k === 'error' || k === 'id')) {
          const env = value as { result?: unknown; error?: unknown };
          if (env.error !== undefined) throw toCallError(env.error);
          return env.result;
        }
      }
      return value;
    },
    connection: { get: state.get, subscribe: state.subscribe, retry: () => {} },
  };
}

// ---- WebSocket (netloom serve) -----------------------------------------------------------------

/** The API's address, with the page's own token. The token lives only in the page's address (serve.ts sets no
 *  cookie: cookies reach every port of a host), so nothing may remove `?token=` from it: a reload needs it. */
function apiUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return `${proto}//${location.host}/api${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function webSocketTransport(url: string, listeners: Set<(e: EngineEvent) => void>): Transport {
  const state = makeObservable({ status: 'connecting', transport: 'websocket' });
  const pending = new Map<number, { method: MethodName; resolve: (v: unknown) => void; reject: (e: unknown) => void; timer: ReturnType<typeof setTimeout> }>();
  /** calls made while the first connection is still being opened wait for it */
  let waiting: { send: () => void; fail: (e: unknown) => void }[] = [];
  let ws: WebSocket | null = null;
  let nextId = 1;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const failAll = (err: EngineCallError) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(err);
      pending.delete(id);
    }
    const w = waiting;
    waiting = [];
    for (const c of w) c.fail(err);
  };

  const scheduleReconnect = (reason: string) => {
    attempt += 1;
    // 1 s, 2 s, 4 s ... capped at 15 s: polite to a server that is restarting
    const delay = Math.min(15_000, 1000 * 2 ** Math.min(attempt - 1, 4));
    state.set({ status: 'closed', transport: 'websocket', reason, retryAt: Date.now() + delay });
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  };

  function connect() {
    clearTimeout(retryTimer);
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    state.set({ status: 'connecting', transport: 'websocket', reason: state.get().reason });
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      scheduleReconnect(e instanceof Error ? e.message : String(e));
      return;
    }
    ws = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      attempt = 0;
      state.set({ status: 'open', transport: 'websocket' });
      const w = waiting;
      waiting = [];
      for (const c of w) c.send();
    };
    socket.onmessage = (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        console.warn('netloom: ignored a message that is not JSON');
        return;
      }
      if (msg && typeof msg === 'object' && 'event' in msg) {
        const e = EventMessage.safeParse(msg);
        if (e.success) emitEvent(e.data.event, listeners);
        else console.warn('netloom: ignored an engine event that does not match the schema', msg);
        return;
      }
      const r = Response.safeParse(msg);
      if (!r.success) {
        console.warn('netloom: ignored a response that does not match the wire format', msg);
        return;
      }
      const p = pending.get(r.data.id);
      if (!p) return; // a late answer to a call that timed out
      pending.delete(r.data.id);
      clearTimeout(p.timer);
      if ('error' in r.data) p.reject(new EngineCallError(r.data.error));
      else p.resolve(r.data.result);
    };
    socket.onclose = (ev) => {
      if (ws === socket) ws = null;
      const reason = ev.code === 1008 || ev.code === 4001 || ev.code === 4003
        ? 'the engine refused the connection (wrong or missing token: open the address `netloom serve` printed)'
        : opened
          ? 'the connection to the engine was lost'
          : 'the engine is not reachable';
      failAll(new EngineCallError({ ...NOT_CONNECTED, message: `${NOT_CONNECTED.message}: ${reason}` }));
      scheduleReconnect(reason);
    };
    socket.onerror = () => {
      // onclose follows with the details
    };
  }

  connect();

  return {
    call(method, params) {
      return new Promise((resolve, reject) => {
        const send = () => {
          const socket = ws;
          if (!socket || socket.readyState !== WebSocket.OPEN) {
            reject(new EngineCallError(NOT_CONNECTED));
            return;
          }
          const id = nextId++;
          const limit = LONG_CALL_TIMEOUT_MS[method] ?? CALL_TIMEOUT_MS;
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new EngineCallError({ code: 'NL_TIMEOUT', message: `the engine did not answer ${method} within ${limit / 1000} s`, hint: 'The engine may be busy or stuck; try again, or restart it.' }));
          }, limit);
          pending.set(id, { method, resolve, reject, timer });
          socket.send(JSON.stringify({ id, method, params }));
        };
        const s = state.get().status;
        if (s === 'open') send();
        else if (s === 'connecting') waiting.push({ send, fail: reject });
        else reject(new EngineCallError(NOT_CONNECTED));
      });
    },
    connection: {
      get: state.get,
      subscribe: state.subscribe,
      retry: () => {
        attempt = 0;
        connect();
      },
    },
  };
}

/** Creates the client for whichever host the renderer runs in. */
export function createEngineClient(): EngineClient {
  const listeners = new Set<(e: EngineEvent) => void>();
  const transport = window.netloom ? electronTransport(window.netloom, listeners) : webSocketTransport(apiUrl(), listeners);
  return { api: apiOver(transport, listeners), connection: transport.connection };
}

export { EngineCallError };
