/**
 * The preload: the renderer's only door to the main process. It runs sandboxed and context-isolated
 * and exposes the EngineApi transport and nothing else, as `window.netloom`:
 *
 *   call(method, params)  -> Promise<{ result } | { error }>   (renderer/api/client.ts unwraps it)
 *   subscribe(listener)   -> unsubscribe                       (engine and app.command events)
 *
 * Files dropped from the operating system onto the window (a project, a checkpoint) are the one
 * thing the page cannot hand over itself: a sandboxed page sees File objects, never paths. When the
 * page did not handle a drop (the playground takes images itself), their paths go to the main
 * process, which opens each where it belongs. Nothing of this is exposed to the page.
 */
// A plain require, no ES import: TypeScript would then emit `exports.__esModule`, and a sandboxed
// preload is not a CommonJS module (its polyfilled require loads only 'electron' and a few built-ins).
const { contextBridge, ipcRenderer, webUtils } = require('electron') as typeof import('electron');

const CALL = 'netloom:call';
const EVENT = 'netloom:event';
const DROP = 'netloom:drop';

type Listener = (message: unknown) => void;

contextBridge.exposeInMainWorld('netloom', {
  call(method: unknown, params: unknown): Promise<unknown> {
    if (typeof method !== 'string') return Promise.reject(new TypeError('netloom.call: the method must be a string'));
    return ipcRenderer.invoke(CALL, method, params ?? {});
  },
  subscribe(listener: unknown): () => void {
    if (typeof listener !== 'function') throw new TypeError('netloom.subscribe: the listener must be a function');
    const handler = (_event: Electron.IpcRendererEvent, message: unknown) => (listener as Listener)(message);
    ipcRenderer.on(EVENT, handler);
    return () => {
      ipcRenderer.removeListener(EVENT, handler);
    };
  },
});

function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
}

// Let files be dropped anywhere (the default would be to navigate to them, which main blocks anyway).
window.addEventListener('dragover', (e) => {
  if (hasFiles(e) && !e.defaultPrevented) {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  }
});

window.addEventListener('drop', (e) => {
  if (!hasFiles(e) || e.defaultPrevented) return; // the page took it (the playground's image drop)
  e.preventDefault();
  const paths = Array.from(e.dataTransfer?.files ?? [])
    .map((f) => webUtils.getPathForFile(f))
    .filter((p) => p !== '');
  if (paths.length > 0) ipcRenderer.send(DROP, paths.slice(0, 64));
});
