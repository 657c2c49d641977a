/**
 * The desktop's part of the EngineApi (HostBridge): native open/save dialogs, the menus and the
 * window title driven by the renderer's AppState, and the close handshake. Commands for the window
 * (menu clicks, files to open) wait in a queue until the renderer has reported its first state, so
 * a file double-clicked before the page has loaded still opens.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserWindow, Dialog, OpenDialogOptions, SaveDialogOptions } from 'electron';
import type { AppStateDto, EngineEvent, HostInfoDto, Params } from '../engine/contract/api.js';
import type { HostBridge } from '../engine/host/service.js';
import { DIALOGS } from './files.js';

export interface DesktopHostOptions {
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  window(): BrowserWindow | null;
  /** sends an event to the window (EngineService.emit) */
  emit(e: EngineEvent): void;
  /** the menus need rebuilding (enabled or checked items changed) */
  onMenuState(state: AppStateDto): void;
  /** the project file shown changed: the OS's recent documents and the window's represented file */
  onProjectPath(file: string | null): void;
  /** the renderer answered a close request: close the window for real (true), or keep it (false) */
  onCloseAnswer(close: boolean): void;
}

const EMPTY_STATE: AppStateDto = { title: 'Netloom', projectPath: null, dirty: false, training: false, enabled: {}, checked: {} };

/**
 * A dialog title's noun after "Save"/"Open": a plain word lower-cased ("Checkpoint" -> "checkpoint"), names and
 * acronyms kept ("Netloom project", "ONNX model", "PyTorch state dict", "CSV table").
 */
export function dialogNoun(title: string): string {
  return /^[A-Z][a-z]+\b/.test(title) && !/^Netloom\b/.test(title) ? title[0]!.toLowerCase() + title.slice(1) : title;
}

export class DesktopHost implements HostBridge {
  state: AppStateDto = EMPTY_STATE;
  private ready = false;
  private queue: EngineEvent[] = [];

  constructor(private readonly opts: DesktopHostOptions) {}

  info(): HostInfoDto {
    return { kind: 'desktop', platform: process.platform, home: os.homedir(), nativeDialogs: true };
  }

  async pickPath({ mode, purpose, defaultPath }: Params<'pickPath'>): Promise<string | null> {
    const spec = DIALOGS[purpose];
    const win = this.opts.window();
    // Start where the project lives; an unsaved project starts in the home folder, never the app's own folder.
    const start = defaultPath ?? (this.state.projectPath ? path.dirname(this.state.projectPath) : os.homedir());
    if (mode === 'save') {
      const options: SaveDialogOptions = { title: `Save ${dialogNoun(spec.title)}`, defaultPath: start, filters: spec.filters, properties: ['createDirectory', 'showOverwriteConfirmation'] };
      const r = win ? await this.opts.dialog.showSaveDialog(win, options) : await this.opts.dialog.showSaveDialog(options);
      return r.canceled || !r.filePath ? null : r.filePath;
    }
    const options: OpenDialogOptions = {
      title: `${mode === 'folder' ? 'Choose' : 'Open'} ${dialogNoun(spec.title)}`,
      defaultPath: start,
      filters: mode === 'folder' ? [] : spec.filters,
      properties: mode === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'],
    };
    const r = win ? await this.opts.dialog.showOpenDialog(win, options) : await this.opts.dialog.showOpenDialog(options);
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
  }

  setAppState(next: AppStateDto): void {
    const before = this.state;
    this.state = next;
    const win = this.opts.window();
    if (win && !win.isDestroyed()) {
      win.setTitle(next.title);
      win.setDocumentEdited(next.dirty);
    }
    if (JSON.stringify(before.enabled) !== JSON.stringify(next.enabled) || JSON.stringify(before.checked) !== JSON.stringify(next.checked))
      this.opts.onMenuState(next);
    if (before.projectPath !== next.projectPath) this.opts.onProjectPath(next.projectPath);
    if (!this.ready) {
      // The first state report means the page is listening: hand it what waited.
      this.ready = true;
      const waiting = this.queue;
      this.queue = [];
      for (const e of waiting) this.opts.emit(e);
    }
  }

  closeWindow(cancel: boolean): void {
    this.opts.onCloseAnswer(!cancel);
  }

  /** Sends an app.command to the window now, or once it is listening. */
  command(command: string, file?: string): void {
    const e: EngineEvent = { type: 'app.command', command, ...(file !== undefined ? { path: file } : {}) };
    if (this.ready) this.opts.emit(e);
    else this.queue.push(e);
  }

  /** Whether the page has reported its state, so it can answer a close request. */
  get listening(): boolean {
    return this.ready;
  }

  /** The page reloaded (or crashed and came back): queue again until it reports. */
  pageReloading(): void {
    this.ready = false;
  }
}
