/**
 * Which runs someone still uses, and closing the ones nobody does. A client (one WebSocket of
 * `netloom serve`: a browser tab) uses a run once it starts it or names it in a call; a tab that is
 * closed never says goodbye to its runs, so without this each would hold its dataset, weights and
 * threads until the server stops.
 *
 * The rule: a run whose last client has gone is closed `idleMs` after that, unless a client uses it
 * again first. A run that is training is never closed: the work was asked for, a tab may come back
 * for it (the renderer reconnects by itself after a dropped connection), and it ends by itself;
 * its idle time starts when it stops training (finished, stopped, failed or paused). Runs no client
 * ever used (the desktop app, whose one window lives as long as the engine; in-process callers)
 * are left alone: only a run that had a client can lose its last one.
 *
 * Time comes from `timers` (setTimeout / clearTimeout), so tests drive it without waiting.
 */

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_TIMERS: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // a pending close never keeps the process alive
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * 15 minutes: long enough for a reload, a dropped Wi-Fi or a short suspend to come back to the run
 * (the renderer reconnects by itself), short enough that a server whose tabs come and go all day
 * does not collect their runs.
 */
export const RUN_IDLE_MS = 15 * 60 * 1000;

export interface RunKeeperOptions {
  idleMs: number;
  timers: Timers;
  /** whether the run is training now (never closed then) */
  training(runId: string): boolean;
  /** whether the run still exists */
  exists(runId: string): boolean;
  /** closes the run: its memory and threads are freed */
  close(runId: string): void;
}

/** A client of runs: one connection. `uses` marks a run as needed; `close` when the connection goes. */
export interface RunClient {
  uses(runId: string): void;
  close(): void;
}

export class RunKeeper {
  /** runs that have had a client: their current clients (possibly none) */
  private readonly clients = new Map<string, Set<object>>();
  private readonly pending = new Map<string, unknown>();

  constructor(private readonly o: RunKeeperOptions) {}

  /** A new client (a connection). */
  client(): RunClient {
    const me = {};
    const mine = new Set<string>();
    let closed = false;
    return {
      uses: (runId) => {
        if (!this.o.exists(runId)) return;
        const set = this.clients.get(runId) ?? new Set<object>();
        this.clients.set(runId, set);
        // a connection that closed before its startRun answered: the run has a client no more
        if (closed) return this.orphaned(runId);
        set.add(me);
        mine.add(runId);
        this.cancel(runId);
      },
      close: () => {
        if (closed) return;
        closed = true;
        for (const runId of mine) {
          const set = this.clients.get(runId);
          set?.delete(me);
          if (set?.size === 0) this.orphaned(runId);
        }
        mine.clear();
      },
    };
  }

  /** The run stopped training (finished, stopped, failed, paused): if nobody uses it, its idle time starts. */
  settled(runId: string): void {
    if (this.clients.get(runId)?.size === 0) this.orphaned(runId);
  }

  /** The run was closed by other means (closeRun): nothing more to do for it. */
  forget(runId: string): void {
    this.cancel(runId);
    this.clients.delete(runId);
  }

  /** How many clients use the run now (undefined: none ever did). */
  clientCount(runId: string): number | undefined {
    return this.clients.get(runId)?.size;
  }

  private orphaned(runId: string): void {
    if (this.o.training(runId)) return; // settled() starts the idle time once it stops
    this.cancel(runId);
    this.pending.set(
      runId,
      this.o.timers.setTimeout(() => {
        this.pending.delete(runId);
        if (this.clients.get(runId)?.size !== 0 || !this.o.exists(runId)) return;
        if (this.o.training(runId)) return; // resumed meanwhile by an in-process caller; settled() comes later
        this.forget(runId);
        this.o.close(runId);
      }, this.o.idleMs),
    );
  }

  private cancel(runId: string): void {
    const t = this.pending.get(runId);
    if (t !== undefined) {
      this.o.timers.clearTimeout(t);
      this.pending.delete(runId);
    }
  }
}
