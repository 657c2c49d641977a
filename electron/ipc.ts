/**
 * The desktop transport: Electron IPC over the same method table as `netloom serve`
 * (engine/host/dispatch.ts). The preload (preload.cts) exposes `call` and `subscribe`:
 *
 *   invoke  'netloom:call'  (method, params)  -> { result } | { error: ApiError }   (never rejects)
 *   send    'netloom:event' { event }                                              (main -> window)
 *   send    'netloom:drop'  string[]  (paths of files dropped on the window)        (window -> main)
 *
 * Every message is checked for its sender first (Electron's security checklist, item 17): it must
 * come from the main frame of one of our windows, showing our own origin (netloom://app). Anything
 * else is refused and logged; a malformed message gets an NL_BAD_REQUEST reply, never an exception.
 *
 * Only types come from 'electron' here, so this module runs under Node too: the IPC test drives it
 * with a stand-in for ipcMain/webContents and the real EngineService.
 */
import type { IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import { z } from 'zod';
import { EngineEvent, type ApiError } from '../engine/contract/api.js';
import { dispatch, type DispatchReply } from '../engine/host/dispatch.js';
import type { EngineService } from '../engine/host/service.js';

export const CHANNELS = { call: 'netloom:call', event: 'netloom:event', drop: 'netloom:drop' } as const;

/** The scheme and host the renderer is served from (protocol.ts). */
export const APP_SCHEME = 'netloom';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The part of ipcMain this adapter uses (Electron's IpcMain satisfies it). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: IpcMainEvent, ...args: unknown[]) => void): unknown;
}

/** The part of a window's webContents this adapter uses. */
export type WebContentsLike = Pick<WebContents, 'id' | 'send' | 'isDestroyed'>;

/** The sender fields the check reads (IpcMainEvent and IpcMainInvokeEvent both have them). */
export interface SenderLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** Is this URL a page of ours (netloom://app/...)? Custom schemes have no web origin ("null"), so compare parts. */
export function isAppUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
}

export interface EngineIpcOptions {
  ipcMain: IpcMainLike;
  service: EngineService;
  /** files dropped on a window (already checked: strings, absolute paths) */
  onDrop?(paths: string[], sender: WebContentsLike): void;
  log?(line: string): void;
}

export interface EngineIpc {
  /** a window whose main frame may call (and which receives events) */
  attach(contents: WebContentsLike): void;
  detach(contents: WebContentsLike): void;
  /** unregisters the handlers and stops forwarding events */
  dispose(): void;
}

const DropPaths = z.array(z.string().min(1).max(4096)).min(1).max(64);

/** Why a sender is refused, or null when it is one of our windows' main frame on our origin. */
export function senderProblem(event: SenderLike, windows: ReadonlySet<number>): string | null {
  if (!windows.has(event.sender.id)) return `webContents ${event.sender.id} is not a Netloom window`;
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone (navigated away or destroyed)';
  if (frame.parent !== null) return 'the message comes from a sub-frame, not the window itself';
  if (!isAppUrl(frame.url)) return `the sending page is ${JSON.stringify(frame.url.slice(0, 200))}, not the app (${APP_ORIGIN})`;
  return null;
}

const REFUSED: ApiError = {
  code: 'NL_FORBIDDEN',
  message: 'this page may not use the Netloom engine',
  hint: 'Only the Netloom window itself can call the engine.',
};

export function registerEngineIpc(opts: EngineIpcOptions): EngineIpc {
  const { ipcMain, service } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const windows = new Map<number, WebContentsLike>();
  const ids = new Set<number>();

  const onCall = async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<DispatchReply> => {
    const problem = senderProblem(event, ids);
    if (problem) {
      log(`netloom: refused an engine call: ${problem}`);
      return { error: REFUSED };
    }
    if (args.length !== 2)
      return { error: { code: 'NL_BAD_REQUEST', message: `a call takes a method name and its params, got ${args.length} argument(s)` } };
    return dispatch(service, args[0], args[1], log, "the app's log (run it from a terminal to see it)");
  };

  const onDrop = (event: IpcMainEvent, ...args: unknown[]): void => {
    const problem = senderProblem(event, ids);
    if (problem) {
      log(`netloom: refused a file drop: ${problem}`);
      return;
    }
    const paths = DropPaths.safeParse(args[0]);
    if (!paths.success) {
      log('netloom: ignored a malformed file drop message');
      return;
    }
    const contents = windows.get(event.sender.id);
    if (contents) opts.onDrop?.(paths.data, contents);
  };

  const unsubscribe = service.onEvent((e) => {
    const checked = EngineEvent.safeParse(e);
    if (!checked.success) {
      log(`netloom: dropped an event that does not match api.ts: ${checked.error.message}`);
      return;
    }
    for (const contents of windows.values()) if (!contents.isDestroyed()) contents.send(CHANNELS.event, { event: checked.data });
  });

  ipcMain.handle(CHANNELS.call, onCall);
  ipcMain.on(CHANNELS.drop, onDrop);

  return {
    attach(contents) {
      windows.set(contents.id, contents);
      ids.add(contents.id);
    },
    detach(contents) {
      windows.delete(contents.id);
      ids.delete(contents.id);
    },
    dispose() {
      unsubscribe();
      ipcMain.removeHandler(CHANNELS.call);
      ipcMain.removeListener(CHANNELS.drop, onDrop);
      windows.clear();
      ids.clear();
    },
  };
}
