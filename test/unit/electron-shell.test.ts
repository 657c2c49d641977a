/**
 * The desktop shell's pure parts, without an Electron binary: the menu template of each platform
 * (items, accelerators, enabled and checked state, what a click does), the app protocol (what it
 * serves, with which policy), the window-state rules and the routing of opened files.
 */
import { readFileSync } from 'node:fs';
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { commandForFile, filesInArgv } from '../../electron/files.js';
import { DesktopHost, dialogNoun } from '../../electron/desktop-host.js';
import { isAppUrl } from '../../electron/ipc.js';
import { MENU_ACTIONS } from '../../engine/contract/api.js';
import { buildMenuTemplate, RENDERER_KEYS, type MenuHandlers } from '../../electron/menu.js';
import { appResponse, CONTENT_SECURITY_POLICY, resolveAppRequest } from '../../electron/protocol.js';
import { DEFAULT_SIZE, initialBounds } from '../../electron/window-state.js';

type Item = MenuItemConstructorOptions;

function recorder() {
  const calls: string[] = [];
  const h: MenuHandlers = {
    command: (n) => calls.push(`command:${n}`),
    edit: (n) => calls.push(`edit:${n}`),
    openRecent: (p) => calls.push(`recent:${p}`),
    clearRecent: () => calls.push('clearRecent'),
    documentation: () => calls.push('docs'),
    about: () => calls.push('about'),
    datasetFolder: () => calls.push('datasetFolder'),
  };
  return { calls, h };
}

const allEnabled = Object.fromEntries(MENU_ACTIONS.map((a) => [a, true]));

function menu(platform: NodeJS.Platform, enabled: Record<string, boolean> = allEnabled, extra: Partial<{ recent: string[]; checked: Record<string, boolean>; dev: boolean }> = {}) {
  const { calls, h } = recorder();
  const template = buildMenuTemplate({ platform, appName: 'Netloom', state: { enabled, checked: extra.checked ?? {} }, recent: extra.recent ?? [], dev: extra.dev ?? false }, h);
  const flat: Item[] = [];
  const walk = (items: Item[]) => {
    for (const i of items) {
      flat.push(i);
      if (Array.isArray(i.submenu)) walk(i.submenu as Item[]);
    }
  };
  walk(template);
  const byId = (id: string) => {
    const found = flat.find((i) => i.id === id);
    if (!found) throw new Error(`no menu item ${id}`);
    return found;
  };
  const click = (id: string) => (byId(id).click as unknown as () => void)();
  return { template, flat, byId, click, calls };
}

const labels = (items: Item[]) => items.map((i) => i.label ?? i.role);

describe('the application menu', () => {
  it('macOS: the app menu first (About, Services, Hide, Quit), a Window menu, no Exit', () => {
    const m = menu('darwin');
    expect(labels(m.template)).toEqual(['Netloom', 'File', 'Edit', 'View', 'Train', 'windowMenu', 'Help']);
    const app = m.template[0]!.submenu as Item[];
    expect(app.map((i) => i.role ?? i.id).filter(Boolean)).toEqual(['about', 'services', 'hide', 'hideOthers', 'unhide', 'quit']);
    expect(m.flat.some((i) => i.role === 'close')).toBe(true);
    expect(m.flat.some((i) => i.label === 'E&xit')).toBe(false);
    // no access-key ampersands on macOS
    expect(m.flat.filter((i) => typeof i.label === 'string' && i.label.includes('&'))).toEqual([]);
  });

  for (const platform of ['win32', 'linux'] as const) {
    it(`${platform}: File/Edit/View/Train/Help with Exit under File and About under Help`, () => {
      const m = menu(platform);
      expect(labels(m.template)).toEqual(['&File', '&Edit', '&View', '&Train', '&Help']);
      const file = m.template[0]!.submenu as Item[];
      expect(file.at(-1)).toMatchObject({ role: 'quit', label: 'E&xit' });
      const help = m.template.at(-1)!.submenu as Item[];
      expect(help.map((i) => i.id).filter(Boolean)).toEqual(['help', 'docs', 'about']);
      expect(m.flat.some((i) => i.role === 'services' || i.role === 'windowMenu')).toBe(false);
    });
  }

  it('has the usual accelerators, Redo by each platform\'s convention', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const m = menu(platform);
      const acc = (id: string) => m.byId(id).accelerator;
      expect(acc('new')).toBe('CmdOrCtrl+N');
      expect(acc('open')).toBe('CmdOrCtrl+O');
      expect(acc('save')).toBe('CmdOrCtrl+S');
      expect(acc('saveAs')).toBe('Shift+CmdOrCtrl+S');
      expect(acc('edit.undo')).toBe('CmdOrCtrl+Z');
      expect(acc('edit.redo')).toBe(platform === 'darwin' ? 'Shift+CmdOrCtrl+Z' : 'Ctrl+Y');
      expect(acc('edit.cut')).toBe('CmdOrCtrl+X');
      expect(acc('edit.copy')).toBe('CmdOrCtrl+C');
      expect(acc('edit.paste')).toBe('CmdOrCtrl+V');
      expect(acc('edit.selectAll')).toBe('CmdOrCtrl+A');
      expect(acc('zoomIn')).toBe('CmdOrCtrl+=');
      expect(acc('zoomOut')).toBe('CmdOrCtrl+-');
      expect(acc('trainStart')).toBe('F5');
      // every accelerator appears once per menu
      const all = m.flat.map((i) => i.accelerator).filter(Boolean);
      expect(new Set(all).size).toBe(all.length);
    }
  });

  it('leaves the keys the page handles itself unregistered, so one key press runs an action once', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const m = menu(platform);
      for (const name of RENDERER_KEYS) expect(m.byId(name).registerAccelerator, `${platform} ${name}`).toBe(false);
      expect(m.byId('zoomIn').registerAccelerator).toBe(true);
      expect(m.byId('trainStart').registerAccelerator).toBe(true);
      // Edit keys: macOS routes them to the menu when the page did not use them (text fields need that)
      expect(m.byId('edit.copy').registerAccelerator).toBe(platform === 'darwin');
    }
  });

  it('File ▸ Import and File ▸ Export: the model formats, each a renderer action, with the Import/Export shortcuts', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const m = menu(platform);
      const sub = (id: string) => (m.byId(id).submenu as Item[]).map((i) => [i.id, i.label, i.accelerator]);
      expect(sub('import')).toEqual([
        ['loadCheckpoint', 'Weights…', 'CmdOrCtrl+I'],
        ['importOnnx', 'ONNX Model…', undefined],
      ]);
      expect(sub('export')).toEqual([
        ['saveCheckpoint', 'Checkpoint (safetensors)…', 'Shift+CmdOrCtrl+E'],
        ['exportPt', 'PyTorch State Dict (.pt)…', undefined],
        ['exportOnnx', 'ONNX Model…', undefined],
        ['exportPytorch', 'PyTorch Code (folder)…', undefined],
      ]);
      // both sit in File, after Save As
      const file = (m.template[platform === 'darwin' ? 1 : 0]!.submenu as Item[]).map((i) => i.id ?? i.type ?? i.role);
      expect(file.indexOf('import')).toBeGreaterThan(file.indexOf('saveAs'));
      expect(file.indexOf('export')).toBe(file.indexOf('import') + 1);
      for (const id of ['loadCheckpoint', 'importOnnx', 'saveCheckpoint', 'exportPt', 'exportOnnx', 'exportPytorch']) {
        m.click(id);
        expect(m.calls.at(-1), id).toBe(`command:${id}`);
      }
    }
    // disabled (no run to export) until the renderer says otherwise
    const idle = menu('linux', { ...allEnabled, saveCheckpoint: false, exportPt: false, exportOnnx: false, exportPytorch: true });
    expect(['saveCheckpoint', 'exportPt', 'exportOnnx', 'exportPytorch'].map((id) => idle.byId(id).enabled)).toEqual([false, false, false, true]);
  });

  it('enables items from the app state and checks the panel toggles', () => {
    const enabled = { ...allEnabled, save: false, trainPause: false, trainResume: false, trainStop: false, saveCheckpoint: false };
    const m = menu('linux', enabled, { checked: { toggleSummary: true, toggleTraining: false } });
    for (const name of ['save', 'trainPause', 'trainResume', 'trainStop', 'saveCheckpoint']) expect(m.byId(name).enabled, name).toBe(false);
    for (const name of ['new', 'open', 'trainStart', 'evaluate', 'loadCheckpoint']) expect(m.byId(name).enabled, name).toBe(true);
    expect(m.byId('toggleSummary')).toMatchObject({ type: 'checkbox', checked: true });
    expect(m.byId('toggleTraining')).toMatchObject({ type: 'checkbox', checked: false });
    // an action the renderer has not reported is disabled, never enabled by default
    expect(menu('linux', {}).flat.filter((i) => i.id && (MENU_ACTIONS as readonly string[]).includes(i.id) && i.enabled !== false)).toEqual([]);
    // editing items stay enabled for text fields
    expect(menu('linux', {}).byId('edit.paste').enabled).toBeUndefined();
  });

  it('sends each click where it belongs', () => {
    const m = menu('win32', allEnabled, { recent: ['/p/a.netloom.json', '/p/b.netloom'] });
    m.click('new');
    m.click('trainStop');
    m.click('edit.copy');
    m.click('recent.1');
    m.click('recent.clear');
    m.click('docs');
    m.click('about');
    m.click('datasetFolder');
    expect(m.calls).toEqual(['command:new', 'command:trainStop', 'edit:copy', 'recent:/p/b.netloom', 'clearRecent', 'docs', 'about', 'datasetFolder']);
    expect(menu('linux').byId('recent.none').enabled).toBe(false);
  });

  it('offers developer tools only in development', () => {
    expect(menu('linux').flat.some((i) => i.role === 'toggleDevTools')).toBe(false);
    expect(menu('linux', allEnabled, { dev: true }).flat.some((i) => i.role === 'toggleDevTools')).toBe(true);
  });
});

describe('the app protocol (netloom://app)', () => {
  const dir = '/opt/netloom/dist/renderer';
  it('serves the renderer\'s files and nothing outside them', () => {
    expect(resolveAppRequest('netloom://app/', 'GET', dir)).toMatchObject({ status: 200, file: `${dir}/index.html`, contentType: 'text/html; charset=utf-8' });
    expect(resolveAppRequest('netloom://app/assets/index-1.js', 'GET', dir)).toMatchObject({ status: 200, file: `${dir}/assets/index-1.js` });
    // Whatever the URL, the file stays inside the renderer folder (URL parsing folds plain dot segments away)...
    for (const url of ['netloom://app/../../etc/passwd', 'netloom://app/%2e%2e/%2e%2e/etc/passwd', 'netloom://app/..%2f..%2fetc/passwd', 'netloom://app/a/%2e%2e%2f%2e%2e%2f%2e%2e%2fx', 'netloom://app/..%2f..%2f..%2fetc/passwd']) {
      const r = resolveAppRequest(url, 'GET', dir);
      expect(r.status === 404 || (r.status === 200 && r.file.startsWith(`${dir}/`)), url).toBe(true);
    }
    // ...and these are refused outright.
    for (const url of ['netloom://app/a%00b', 'netloom://app/%5c..%5csecret', 'netloom://other/index.html', 'https://app/index.html', 'netloom://app/%zz'])
      expect(resolveAppRequest(url, 'GET', dir).status, url).toBe(404);
    expect(resolveAppRequest('netloom://app/index.html', 'POST', dir).status).toBe(405);
  });

  it('sends a strict Content-Security-Policy with every answer: no eval, no remote code', async () => {
    const policy = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|http:|https:/);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    expect(policy['default-src']).toEqual(["'self'"]);
    const missing = await appResponse({ url: 'netloom://app/no-such-file.js', method: 'GET' }, dir);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const page = await appResponse({ url: 'netloom://app/index.html', method: 'GET' }, 'dist/renderer');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toMatch(/<div id="root">/);
  });

  it('recognises its own pages only', () => {
    expect(isAppUrl('netloom://app/index.html')).toBe(true);
    expect(isAppUrl('netloom://app/')).toBe(true);
    for (const url of ['netloom://app.evil/', 'netloom://evil/app', 'http://app/', 'file:///app/index.html', 'netloom://u:p@app/', 'not a url', ''])
      expect(isAppUrl(url), url).toBe(false);
  });
});

describe('the preload as built', () => {
  it('is a plain script that requires only electron (a sandboxed preload has no module system)', () => {
    const js = readFileSync('dist/electron/preload.cjs', 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
    expect(js).not.toMatch(/\bexports\b|\bmodule\.|\bimport\s*\(|^\s*import\s/m);
    expect([...js.matchAll(/require\(([^)]*)\)/g)].map((m) => m[1])).toEqual(["'electron'"]);
    expect(js).toMatch(/contextBridge\.exposeInMainWorld\('netloom'/);
  });
});

describe('window state', () => {
  const screen = [{ x: 0, y: 0, width: 1920, height: 1040 }];
  it('restores bounds that a display still shows', () => {
    expect(initialBounds({ x: 100, y: 80, width: 1200, height: 800, maximized: false, fullScreen: false }, screen)).toEqual({ x: 100, y: 80, width: 1200, height: 800 });
  });
  it('drops a position no display shows any more (a monitor unplugged), keeping the size that fits', () => {
    expect(initialBounds({ x: 2500, y: 100, width: 1200, height: 800, maximized: false, fullScreen: false }, screen)).toEqual({ width: 1200, height: 800 });
    expect(initialBounds({ x: 100, y: -500, width: 1200, height: 800, maximized: false, fullScreen: false }, screen)).toEqual({ width: 1200, height: 800 });
  });
  it('opens at the default size on the first start, shrunk to a small screen', () => {
    expect(initialBounds(null, screen)).toEqual({ ...DEFAULT_SIZE });
    expect(initialBounds(null, [{ x: 0, y: 0, width: 1280, height: 680 }])).toEqual({ width: 1280, height: 680 });
  });
});

describe('files handed to the app', () => {
  it('opens projects, checkpoints and images where they belong; ignores the rest', () => {
    expect(commandForFile('/p/mlp.netloom')).toEqual({ command: 'open-project', path: '/p/mlp.netloom' });
    expect(commandForFile('/p/mlp.netloom.json')).toEqual({ command: 'open-project', path: '/p/mlp.netloom.json' });
    expect(commandForFile('/p/MODEL.SafeTensors')).toEqual({ command: 'open-checkpoint', path: '/p/MODEL.SafeTensors' });
    expect(commandForFile('/p/shoe.jpeg')?.command).toBe('open-image');
    expect(commandForFile('/p/notes.txt')).toBeNull();
    // every format the engine reads weights from gets the per-node report; an ONNX model is imported as a project
    for (const f of ['/p/weights.pth', '/p/m.pt', '/p/pytorch_model.bin']) expect(commandForFile(f), f).toEqual({ command: 'open-checkpoint', path: f });
    expect(commandForFile('/p/model.ONNX')).toEqual({ command: 'import-onnx', path: '/p/model.ONNX' });
  });
  it('finds the files on a second launch\'s command line', () => {
    expect(filesInArgv(['/opt/Netloom/netloom', '--no-sandbox', '/home/u/a.netloom', 'b.txt', '/home/u/m.safetensors'], 1)).toEqual(['/home/u/a.netloom', '/home/u/m.safetensors']);
  });
});

describe('the native dialogs of File ▸ Import and Export', () => {
  /** A DesktopHost whose dialog module records what it is asked and answers `answer`. */
  function host(answer: string) {
    const asked: { kind: 'open' | 'save'; options: Record<string, unknown> }[] = [];
    const dialog = {
      showOpenDialog: async (options: Record<string, unknown>) => (asked.push({ kind: 'open', options }), { canceled: false, filePaths: [answer] }),
      showSaveDialog: async (options: Record<string, unknown>) => (asked.push({ kind: 'save', options }), { canceled: false, filePath: answer }),
    };
    const h = new DesktopHost({ dialog: dialog as never, window: () => null, emit: () => {}, onMenuState: () => {}, onProjectPath: () => {}, onCloseAnswer: () => {} });
    return { h, asked };
  }

  it('saves each export with its own filters at the proposed name; PyTorch code picks a folder', async () => {
    const pt = host('/home/ada/m.pt');
    expect(await pt.h.pickPath({ mode: 'save', purpose: 'torch', defaultPath: '/home/ada/mnist.pt' })).toBe('/home/ada/m.pt');
    expect(pt.asked).toEqual([{ kind: 'save', options: expect.objectContaining({ title: 'Save PyTorch state dict', defaultPath: '/home/ada/mnist.pt', filters: [{ name: 'PyTorch state dicts', extensions: ['pt', 'pth'] }] }) }]);
    const onnx = host('/home/ada/m.onnx');
    await onnx.h.pickPath({ mode: 'save', purpose: 'onnx', defaultPath: '/home/ada/mnist.onnx' });
    expect(onnx.asked[0]!.options).toMatchObject({ title: 'Save ONNX model', filters: [{ name: 'ONNX models', extensions: ['onnx'] }] });
    const code = host('/home/ada/mnist-pytorch');
    expect(await code.h.pickPath({ mode: 'folder', purpose: 'pytorch-folder', defaultPath: '/home/ada/mnist-pytorch' })).toBe('/home/ada/mnist-pytorch');
    expect(code.asked[0]).toMatchObject({ kind: 'open', options: { title: 'Choose folder for the PyTorch code', filters: [], properties: ['openDirectory', 'createDirectory'] } });
  });

  it('Import ▸ Weights opens every format the engine reads weights from', async () => {
    const w = host('/home/ada/m.pth');
    await w.h.pickPath({ mode: 'open', purpose: 'weights' });
    expect(w.asked[0]!.options).toMatchObject({ title: 'Open weights', properties: ['openFile'] });
    expect((w.asked[0]!.options.filters as { extensions: string[] }[])[0]!.extensions).toEqual(['safetensors', 'pt', 'pth', 'bin', 'onnx']);
  });

  it('titles keep names and acronyms', () => {
    expect(['Checkpoint', 'Netloom project', 'ONNX model', 'PyTorch state dict', 'CSV table', 'Image folder (one sub-folder per class)'].map(dialogNoun)).toEqual([
      'checkpoint', 'Netloom project', 'ONNX model', 'PyTorch state dict', 'CSV table', 'image folder (one sub-folder per class)',
    ]);
  });
});
