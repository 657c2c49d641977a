/**
 * The desktop app's main process. It owns the engine exactly as `netloom serve` does (one
 * EngineService, the native addon, training on native threads) and is otherwise thin: a window,
 * the menus, native dialogs, and the IPC adapter (ipc.ts) over the shared method table.
 *
 * Security (Electron's checklist): context isolation, sandbox, no Node in the page, web security on;
 * the page comes from netloom://app with a strict CSP (protocol.ts); navigation, new windows,
 * webviews and every permission request are refused; IPC checks each sender (ipc.ts).
 *
 * Desktop habits: one instance (a second launch hands its files to the first), window bounds
 * restored, files dropped or double-clicked open where they belong (files.ts), the OS's recent
 * documents, and a close that asks about unsaved work and running training, stops runs cleanly
 * and lets the page flush its autosave.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, screen, session, shell } from 'electron';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineService } from '../engine/host/service.js';
import { writeFileAtomicSync } from '../engine/io/atomic.js';
import { DesktopHost } from './desktop-host.js';
import { commandForFile, filesInArgv } from './files.js';
import { APP_ORIGIN, APP_SCHEME, isAppUrl, registerEngineIpc, type EngineIpc } from './ipc.js';
import { buildMenuTemplate } from './menu.js';
import { APP_PRIVILEGES, appResponse } from './protocol.js';
import { readDesktopSettings, writeDesktopSettings, type DesktopSettings } from './settings.js';
import { initialBounds, readWindowState, WindowState } from './window-state.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // <app>/dist/electron
const appRoot = path.resolve(here, '..', '..');
const rendererDir = path.join(appRoot, 'dist', 'renderer');
const log = (line: string) => process.stderr.write(`${line}\n`);
/** NETLOOM_DATA_DIR as the app was started with it (a terminal, a lab's set-up): it wins over the folder chosen in the app. */
const dataDirFromEnv = process.env.NETLOOM_DATA_DIR;

// ---- before the app is ready ---------------------------------------------------------------------

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_PRIVILEGES }]);

if (!app.requestSingleInstanceLock()) {
  // Another Netloom is running: it receives our command line (second-instance) and opens the files.
  app.quit();
} else {
  start();
}

/**
 * What the main process's parts share: the engine, the one window, and where a close or a quit stands.
 * One per process; the functions below are its seams (files, menus, window, lifecycle).
 */
interface AppContext {
  readonly host: DesktopHost;
  readonly service: EngineService;
  readonly ipc: EngineIpc;
  readonly settingsFile: string;
  readonly windowStateFile: string;
  settings: DesktopSettings;
  win: BrowserWindow | null;
  /** the page answered a close request with yes: the next close goes through */
  closeApproved: boolean;
  /** the engine is being shut down for a quit (runs stopped, temporary files removed): the quit that follows goes through */
  quitting: boolean;
  /** a quit waits for the window's close (which may ask the page first) */
  quitRequested: boolean;
  /** the recent projects the File menu lists */
  recent: string[];
}

function start(): void {
  const userData = app.getPath('userData');
  // Settings, recent files and crash recovery live in the app's own folder (the CLI keeps ~/.config/netloom).
  process.env.NETLOOM_CONFIG_DIR ??= userData;
  const settingsFile = path.join(userData, 'desktop-settings.json');
  const settings = readDesktopSettings(settingsFile);
  applyDataDir(settings);
  // The installer carries MNIST and FashionMNIST as gzipped IDX files (electron-builder extraResources): read-only, never rebuilt.
  if (app.isPackaged) process.env.NETLOOM_BUNDLED_DATA ??= path.join(process.resourcesPath, 'datasets');

  const ctx = createAppContext(settingsFile, path.join(userData, 'window-state.json'), settings);
  openLaunchFiles(ctx);
  guardWebContents();
  handleLifecycle(ctx);
  void app.whenReady().then(() => onReady(ctx));
}

/** The engine with the desktop's host around it, and the IPC adapter the window will call it through. */
function createAppContext(settingsFile: string, windowStateFile: string, settings: DesktopSettings): AppContext {
  const host = new DesktopHost({
    dialog,
    window: () => ctx.win,
    emit: (e) => service.emit(e),
    onMenuState: () => rebuildMenu(ctx),
    onProjectPath: (file) => {
      if (!file) return;
      app.addRecentDocument(file);
      if (ctx.win && !ctx.win.isDestroyed()) ctx.win.setRepresentedFilename(file);
    },
    onCloseAnswer: (close) => {
      if (!close) {
        // The user kept the window (Cancel): a quit that asked for the close is called off too.
        ctx.quitRequested = false;
        return;
      }
      ctx.closeApproved = true;
      ctx.win?.close();
    },
  });
  const service = new EngineService({ host });
  const ipc = registerEngineIpc({
    ipcMain,
    service,
    log,
    onDrop: (paths) => {
      for (const p of paths) openFile(ctx, p);
    },
  });
  const ctx: AppContext = { host, service, ipc, settingsFile, windowStateFile, settings, win: null, closeApproved: false, quitting: false, quitRequested: false, recent: [] };
  service.onEvent((e) => {
    if (e.type === 'recent.changed') {
      ctx.recent = e.recent;
      rebuildMenu(ctx);
    }
  });
  return ctx;
}

// ---- files handed to the app -------------------------------------------------------------------------

/** Files from the command line, from a second launch, and from macOS's open-file. */
function openLaunchFiles(ctx: AppContext): void {
  // macOS hands files over with open-file, possibly before the app is ready.
  app.on('open-file', (event, file) => {
    event.preventDefault();
    openFile(ctx, file);
  });
  app.on('second-instance', (_event, argv) => {
    for (const f of filesInArgv(argv, 1)) openFile(ctx, f);
    if (ctx.win) focusWindow(ctx.win);
    else if (app.isReady()) createWindow(ctx);
  });
  for (const f of filesInArgv(process.argv, app.isPackaged ? 1 : 2)) openFile(ctx, f);
}

function openFile(ctx: AppContext, file: string): void {
  const c = commandForFile(file);
  if (!c) {
    log(`netloom: not opening ${file}: Netloom opens projects (.netloom, .json), checkpoints (.safetensors, .pt, .pth, .bin), ONNX models and images`);
    return;
  }
  ctx.host.command(c.command, c.path);
  if (ctx.win) focusWindow(ctx.win);
}

function focusWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore();
  win.focus();
}

// ---- menus ---------------------------------------------------------------------------------------

function rebuildMenu(ctx: AppContext): void {
  const { host, service } = ctx;
  const template = buildMenuTemplate(
    { platform: process.platform, appName: app.getName(), state: host.state, recent: ctx.recent, dev: !app.isPackaged },
    {
      command: (name) => host.command(name),
      edit: (name) => {
        // Text fields take the edit through Chromium; the canvas through the app's action.
        const contents = ctx.win?.webContents;
        if (contents && !contents.isDestroyed()) contents[name]();
        host.command(`edit.${name}`);
      },
      openRecent: (file) => openFile(ctx, file),
      clearRecent: () => {
        app.clearRecentDocuments();
        service.clearRecentProjects().catch((e: unknown) => log(`netloom: could not clear the recent list: ${(e as Error).message}`));
      },
      documentation: () => void openDocumentation(),
      about: () => app.showAboutPanel(),
      datasetFolder: () => void chooseDataDir(ctx),
    },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

/** The user's guide that ships with the app (README.md), in the system's viewer: it works offline. It lies
 *  outside app.asar in an installed app (extraResources): another program cannot read inside the archive. */
async function openDocumentation(): Promise<void> {
  const problem = await shell.openPath(path.join(app.isPackaged ? process.resourcesPath : appRoot, 'README.md'));
  if (problem) dialog.showErrorBox('Netloom could not open its documentation', problem);
}

async function chooseDataDir(ctx: AppContext): Promise<void> {
  const r = await (ctx.win
    ? dialog.showOpenDialog(ctx.win, { title: 'Folder for downloaded datasets', defaultPath: process.env.NETLOOM_DATA_DIR, properties: ['openDirectory', 'createDirectory'] })
    : dialog.showOpenDialog({ title: 'Folder for downloaded datasets', properties: ['openDirectory', 'createDirectory'] }));
  if (r.canceled || !r.filePaths[0]) return;
  ctx.settings = { ...ctx.settings, dataDir: r.filePaths[0] };
  applyDataDir(ctx.settings);
  try {
    writeDesktopSettings(ctx.settingsFile, ctx.settings);
  } catch (e) {
    dialog.showErrorBox('Netloom could not save its settings', `${ctx.settingsFile}: ${(e as Error).message}`);
  }
}

// ---- the window ----------------------------------------------------------------------------------

function createWindow(ctx: AppContext): void {
  const { host, service, ipc } = ctx;
  const saved = readWindowState(ctx.windowStateFile);
  const bounds = initialBounds(saved, screen.getAllDisplays().map((d) => d.workArea));
  const w = new BrowserWindow({
    ...bounds,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'Netloom',
    backgroundColor: '#1e1f24',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  ctx.win = w;
  if (saved?.maximized) w.maximize();
  if (saved?.fullScreen) w.setFullScreen(true);
  w.once('ready-to-show', () => w.show());
  ipc.attach(w.webContents);
  w.webContents.on('did-start-loading', () => host.pageReloading());
  w.webContents.on('render-process-gone', (_e, details) => log(`netloom: the window's page stopped (${details.reason}); reload it with View > Reload or restart Netloom`));

  w.on('close', (event) => {
    // A page that cannot answer (still loading, crashed) must not keep the window open.
    const pageCanAsk = host.listening && !w.webContents.isCrashed();
    if (!ctx.closeApproved && pageCanAsk && (host.state.dirty || service.hasActiveRuns())) {
      // The page asks (unsaved changes, training), stops the run, flushes its autosave, then calls closeWindow.
      event.preventDefault();
      host.command('close-request');
      return;
    }
    saveWindowState(ctx.windowStateFile, w);
  });
  w.on('closed', () => {
    ipc.detach(w.webContents);
    ctx.win = null;
    ctx.closeApproved = false;
    // Quit was chosen (Cmd+Q, File > Exit) and waited for the page's answer: finish it, on macOS too.
    if (ctx.quitRequested) app.quit();
  });
  void w.loadURL(`${APP_ORIGIN}/index.html`);
}

function saveWindowState(file: string, w: BrowserWindow): void {
  const b = w.getNormalBounds();
  const state = WindowState.safeParse({ ...b, maximized: w.isMaximized(), fullScreen: w.isFullScreen() });
  if (!state.success) return;
  try {
    writeFileAtomicSync(file, `${JSON.stringify(state.data, null, 2)}\n`);
  } catch (e) {
    log(`netloom: could not remember the window's size: ${(e as Error).message}`);
  }
}

/** Every web contents: no navigation away from the app, no new windows (links open in the browser), no webviews. */
function guardWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (/^https:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

// ---- the app's lifecycle ---------------------------------------------------------------------------

function handleLifecycle(ctx: AppContext): void {
  app.on('before-quit', (event) => {
    ctx.quitRequested = true;
    if (ctx.quitting) return;
    // Stop training cleanly (its native threads finish the current batch) and remove the engine's temporary files
    // (ONNX imports' weights) before the process goes; the second quit finds ctx.quitting set and goes on.
    event.preventDefault();
    ctx.quitting = true;
    ctx.service.stopAllRuns().then(() => ctx.service.close()).finally(() => app.quit());
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (app.isReady() && BrowserWindow.getAllWindows().length === 0) createWindow(ctx);
  });
}

/** Once Electron is ready: permissions refused, the app's protocol served, then the menus and the window. */
async function onReady(ctx: AppContext): Promise<void> {
  const deny = () => false;
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(deny);
  protocol.handle(APP_SCHEME, (request) => appResponse(request, rendererDir));
  app.setAboutPanelOptions({ applicationName: 'Netloom', applicationVersion: app.getVersion(), copyright: 'MIT License', website: packageField('homepage') });
  ctx.recent = await ctx.service.recentProjects({}).catch(() => []);
  rebuildMenu(ctx);
  createWindow(ctx);
}

function applyDataDir(settings: DesktopSettings): void {
  if (!dataDirFromEnv && settings.dataDir) process.env.NETLOOM_DATA_DIR = settings.dataDir;
}

function packageField(name: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
