/**
 * The application menu as data: one template per platform, built from the app's state. macOS gets
 * the app menu (About, Services, Hide, Quit) and a Window menu; Windows and Linux get
 * File/Edit/View/Train/Help with Exit under File and About under Help. Accelerators follow each
 * platform (Redo is Shift+Cmd+Z on macOS, Ctrl+Y elsewhere).
 *
 * Items that are the renderer's actions carry the action's name as their `id`; they are enabled
 * from AppState.enabled (the renderer evaluates each action's predicate), and clicking one sends
 * app.command <name> to the window. A pure function of its inputs, so the test checks it as is.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { AppStateDto, MenuAction } from '../engine/contract/api.js';

export interface MenuHandlers {
  /** run a renderer action (app.command) */
  command(name: string): void;
  /** Edit items: the web contents' own editing command first (text fields), then app.command */
  edit(name: 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'selectAll'): void;
  openRecent(path: string): void;
  clearRecent(): void;
  documentation(): void;
  /** choose the folder downloaded datasets are kept in */
  datasetFolder(): void;
  about(): void;
}

export interface MenuInput {
  platform: NodeJS.Platform;
  appName: string;
  state: Pick<AppStateDto, 'enabled' | 'checked'>;
  recent: readonly string[];
  /** development builds get the developer tools item */
  dev: boolean;
}


/**
 * Actions whose shortcut the renderer handles itself (their keyTest, which also works in
 * `netloom serve`): the menu shows the key but does not register it, so one key press runs the
 * action once. The menu registers the keys only the desktop app has (zoom, panels, Train, Import).
 */
export const RENDERER_KEYS: ReadonlySet<string> = new Set(['new', 'open', 'save', 'saveAs', 'duplicate', 'delete', 'fitView', 'autoLayout', 'toggleTheme']);

export function buildMenuTemplate(input: MenuInput, h: MenuHandlers): MenuItemConstructorOptions[] {
  const mac = input.platform === 'darwin';
  const { enabled, checked } = input.state;
  // '&' marks an access key on Windows and Linux; macOS menus have none.
  const title = (label: string) => (mac ? label.replace('&', '') : label);
  const on = (name: MenuAction) => enabled[name] === true;
  const action = (name: MenuAction, label: string, accelerator?: string): MenuItemConstructorOptions => ({
    id: name,
    label,
    ...(accelerator ? { accelerator, registerAccelerator: !RENDERER_KEYS.has(name) } : {}),
    enabled: on(name),
    click: () => h.command(name),
  });
  const toggle = (name: MenuAction, label: string, accelerator?: string): MenuItemConstructorOptions => ({
    ...action(name, label, accelerator),
    type: 'checkbox',
    checked: checked[name] === true,
  });
  // Editing items stay enabled: a text field may want them even when the canvas has nothing selected.
  const edit = (name: 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'selectAll', label: string, accelerator: string): MenuItemConstructorOptions => ({
    id: `edit.${name}`,
    label,
    accelerator,
    // On macOS the page sees a key first and the menu gets it only when the page did not handle it, and
    // text fields need the menu for Cmd+C. Elsewhere the page (and Blink's own text editing) owns the keys.
    registerAccelerator: mac,
    click: () => h.edit(name),
  });

  const recentItems: MenuItemConstructorOptions[] = input.recent.length
    ? [
        ...input.recent.map((p, i): MenuItemConstructorOptions => ({ id: `recent.${i}`, label: p, click: () => h.openRecent(p) })),
        { type: 'separator' },
        { id: 'recent.clear', label: 'Clear Recently Opened', click: () => h.clearRecent() },
      ]
    : [{ id: 'recent.none', label: 'No Recent Projects', enabled: false }];

  const file: MenuItemConstructorOptions = {
    label: title('&File'),
    submenu: [
      action('new', 'New from Template…', 'CmdOrCtrl+N'),
      action('open', 'Open…', 'CmdOrCtrl+O'),
      { id: 'recent', label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      action('save', 'Save', 'CmdOrCtrl+S'),
      action('saveAs', 'Save As…', 'Shift+CmdOrCtrl+S'),
      { type: 'separator' },
      {
        id: 'import',
        label: 'Import',
        submenu: [action('loadCheckpoint', 'Weights…', 'CmdOrCtrl+I'), action('importOnnx', 'ONNX Model…')],
      },
      {
        id: 'export',
        label: 'Export',
        submenu: [
          action('saveCheckpoint', 'Checkpoint (safetensors)…', 'Shift+CmdOrCtrl+E'),
          action('exportPt', 'PyTorch State Dict (.pt)…'),
          action('exportOnnx', 'ONNX Model…'),
          action('exportPytorch', 'PyTorch Code (folder)…'),
        ],
      },
      {
        id: 'compare',
        label: 'Compare',
        submenu: [action('compareSaved', 'With the Saved File'), action('compareProject', 'With a Project File…'), action('compareCheckpoint', 'With a Checkpoint…')],
      },
      { type: 'separator' },
      { id: 'datasetFolder', label: 'Dataset Folder…', click: () => h.datasetFolder() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit', label: 'E&xit', accelerator: 'Ctrl+Q' },
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    label: title('&Edit'),
    submenu: [
      edit('undo', 'Undo', 'CmdOrCtrl+Z'),
      edit('redo', 'Redo', mac ? 'Shift+CmdOrCtrl+Z' : 'Ctrl+Y'),
      { type: 'separator' },
      edit('cut', 'Cut', 'CmdOrCtrl+X'),
      edit('copy', 'Copy', 'CmdOrCtrl+C'),
      edit('paste', 'Paste', 'CmdOrCtrl+V'),
      action('duplicate', 'Duplicate', 'CmdOrCtrl+D'),
      action('delete', 'Delete', 'Delete'),
      { type: 'separator' },
      edit('selectAll', 'Select All', 'CmdOrCtrl+A'),
    ],
  };

  const view: MenuItemConstructorOptions = {
    label: title('&View'),
    submenu: [
      action('zoomIn', 'Zoom In', 'CmdOrCtrl+='),
      action('zoomOut', 'Zoom Out', 'CmdOrCtrl+-'),
      action('fitView', 'Zoom to Fit', 'F'),
      action('autoLayout', 'Tidy Up Layout', 'L'),
      { type: 'separator' },
      toggle('toggleSummary', 'Model Summary', 'CmdOrCtrl+1'),
      toggle('toggleTraining', 'Training', 'CmdOrCtrl+2'),
      toggle('toggleDataset', 'Dataset', 'CmdOrCtrl+3'),
      { type: 'separator' },
      action('toggleTheme', 'Toggle Dark Theme', 'T'),
      { role: 'togglefullscreen' },
      ...(input.dev ? [{ type: 'separator' } as const, { role: 'reload' } as const, { role: 'toggleDevTools' } as const] : []),
    ],
  };

  const train: MenuItemConstructorOptions = {
    label: title('&Train'),
    submenu: [
      action('trainStart', 'Start', 'F5'),
      action('trainPause', 'Pause', 'F6'),
      action('trainResume', 'Resume', 'Shift+F5'),
      action('trainStop', 'Stop', 'Shift+F6'),
      { type: 'separator' },
      action('evaluate', 'Evaluate on the Test Split', 'F7'),
    ],
  };

  const help: MenuItemConstructorOptions = {
    role: 'help',
    label: title('&Help'),
    submenu: [
      action('help', 'Keyboard Shortcuts', 'CmdOrCtrl+/'),
      { id: 'docs', label: 'Documentation', click: () => h.documentation() },
      ...(mac ? [] : [{ type: 'separator' } as const, { id: 'about', label: `About ${input.appName}`, click: () => h.about() }]),
    ],
  };

  if (!mac) return [file, editMenu, view, train, help];
  const appMenu: MenuItemConstructorOptions = {
    label: input.appName,
    submenu: [
      { id: 'about', label: `About ${input.appName}`, click: () => h.about() },
      { type: 'separator' },
      { role: 'services' },
      { type: 'separator' },
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      { type: 'separator' },
      { role: 'quit' },
    ],
  };
  return [appMenu, file, editMenu, view, train, { role: 'windowMenu' }, help];
}
