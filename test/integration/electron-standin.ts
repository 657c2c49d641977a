/**
 * A stand-in for Electron's ipcMain and a window's webContents, the ONLY stand-in the desktop tests
 * use (no Electron binary can be had on our build machines; the release workflow runs the real app).
 * It behaves as Electron's documentation (docs/api/ipc-main.md, ipc-renderer.md, web-contents.md,
 * web-frame-main.md, Electron 41) says:
 *
 * - `ipcMain.handle(channel, listener)`: one handler per channel; a second registration throws
 *   "Attempted to register a second handler for '<channel>'". `ipcRenderer.invoke(channel, ...args)`
 *   calls it with (event, ...args); a returned Promise's value is the reply; a thrown error reaches
 *   the renderer as an Error carrying only the message, prefixed "Error invoking remote method '<channel>': ".
 *   An invoke on a channel with no handler rejects with "No handler registered for '<channel>'".
 * - `ipcMain.on(channel, listener)`: `ipcRenderer.send(channel, ...args)` calls every listener with (event, ...args).
 * - Arguments and replies cross with the Structured Clone Algorithm (structuredClone here): functions
 *   cannot be sent, and what arrives is a copy.
 * - The event carries `sender` (the WebContents), `senderFrame` (a WebFrameMain: `url`, `parent` —
 *   null for a main frame — or null when the frame has navigated or been destroyed), `processId` and `frameId`.
 * - `webContents.send(channel, ...args)` delivers to the page's `ipcRenderer.on(channel, (event, ...args))` listeners.
 */
import type { IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import type { IpcMainLike, WebContentsLike } from '../../electron/ipc.js';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;
type Listener = (event: IpcMainEvent, ...args: unknown[]) => void;

export interface StandInFrame {
  url: string;
  parent: StandInFrame | null;
}

export class StandInIpcMain implements IpcMainLike {
  private readonly handlers = new Map<string, Handler>();
  private readonly listeners = new Map<string, Set<Listener>>();

  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  on(channel: string, listener: Listener): this {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return this;
  }

  removeListener(channel: string, listener: Listener): this {
    this.listeners.get(channel)?.delete(listener);
    return this;
  }

  /** What ipcRenderer.invoke does from `page`. */
  async invoke(page: StandInPage, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const event = page.event() as unknown as IpcMainInvokeEvent;
    try {
      return structuredClone(await handler(event, ...structuredClone(args)));
    } catch (e) {
      // eslint-disable-next-line preserve-caught-error -- Electron's invoke carries only the message across processes; so does its stand-in
      throw new Error(`Error invoking remote method '${channel}': ${e instanceof Error ? `Error: ${e.message}` : String(e)}`);
    }
  }

  /** What ipcRenderer.send does from `page`. */
  send(page: StandInPage, channel: string, ...args: unknown[]): void {
    const event = page.event() as unknown as IpcMainEvent;
    for (const l of this.listeners.get(channel) ?? []) l(event, ...structuredClone(args));
  }

  handlerCount(): number {
    return this.handlers.size;
  }
}

let nextId = 1;

/** A window's webContents and the page in its main frame (or a sub-frame of it). */
export class StandInPage implements WebContentsLike {
  readonly id = nextId++;
  destroyed = false;
  frame: StandInFrame | null;
  private readonly listeners = new Map<string, Set<(...args: unknown[]) => void>>();

  constructor(url: string) {
    this.frame = { url, parent: null };
  }

  /** A sub-frame (an iframe) of this page, showing `url`. */
  subFrame(url: string): StandInPage {
    const sub = Object.create(this) as StandInPage;
    sub.frame = { url, parent: this.frame };
    return sub;
  }

  event(): { sender: { id: number }; senderFrame: StandInFrame | null; processId: number; frameId: number } {
    return { sender: { id: this.id }, senderFrame: this.frame, processId: 1000 + this.id, frameId: this.frame?.parent ? 2 : 1 };
  }

  // ---- webContents (main side) ----
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const copy = structuredClone(args);
    for (const l of this.listeners.get(channel) ?? []) l({ sender: null }, ...copy);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  // ---- ipcRenderer.on (page side) ----
  onMessage(channel: string, listener: (...args: unknown[]) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}
