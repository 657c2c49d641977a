/**
 * The renderer's desktop-citizen logic without a browser: the AppState it reports (title, unsaved work,
 * menu items, panel checkboxes) and its deduplication, the start folders and paths the dialogs propose,
 * what a dropped file is for in each host, a dropped project's checks, and which focused element is a
 * text field for the Edit menu. The hooks that use these are covered in the browser (test/e2e/desktop-host.spec.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MENU_ACTIONS } from '../../engine/contract/api.js';
import { buildAppState, DEFAULT_PANELS, hasUnsavedWork, needsSending, windowTitle } from '../../renderer/state/appState.js';
import { planDrop } from '../../renderer/state/drop.js';
import { checkpointFileName, dirName, isAbsolutePath, joinPath, projectFileName, proposedFile, resolveUserPath, startFolder } from '../../renderer/state/paths.js';
import { parseProjectText } from '../../renderer/state/projectText.js';
import { isTextField } from '../../renderer/state/textField.js';

const baseInput = {
  projectName: 'mnist',
  projectPath: '/home/ada/nets/mnist.netloom.json',
  dirty: false,
  nodeCount: 3,
  training: false,
  panels: DEFAULT_PANELS,
  isEnabled: () => true,
};

describe('menu actions', () => {
  it('every menu action is a registered action of the renderer', () => {
    const dir = join(process.cwd(), 'renderer', 'actions');
    const src = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const name of MENU_ACTIONS) expect(src, name).toMatch(new RegExp(`(name: |panelToggle\\()'${name}'`));
  });
});

describe('AppState', () => {
  it('titles the window as the page, with ● for unsaved changes to a drawn graph', () => {
    expect(windowTitle('mnist', false, 3)).toBe('mnist — Netloom');
    expect(windowTitle('mnist', true, 3)).toBe('● mnist — Netloom');
    expect(windowTitle('Untitled', true, 0)).toBe('Untitled — Netloom');
    expect(buildAppState({ ...baseInput, dirty: true }).title).toBe('● mnist — Netloom');
  });

  it('reports unsaved work, but not an untitled canvas that is empty again', () => {
    expect(hasUnsavedWork(true, 2, null)).toBe(true);
    expect(hasUnsavedWork(true, 0, null)).toBe(false);
    expect(hasUnsavedWork(true, 0, '/p.netloom.json')).toBe(true); // a saved graph deleted is a change
    expect(hasUnsavedWork(false, 5, null)).toBe(false);
  });

  it('enables each menu action by its predicate and checks the open panels', () => {
    const off = new Set(['trainPause', 'paste']);
    const s = buildAppState({ ...baseInput, panels: { summary: true, training: false, dataset: true }, isEnabled: (n) => !off.has(n) });
    expect(Object.keys(s.enabled).sort()).toEqual([...MENU_ACTIONS].sort());
    expect(s.enabled.trainPause).toBe(false);
    expect(s.enabled.paste).toBe(false);
    expect(s.enabled.zoomIn).toBe(true);
    expect(s.checked).toEqual({ toggleSummary: true, toggleTraining: false, toggleDataset: true });
    expect(s.projectPath).toBe(baseInput.projectPath);
  });

  it('is sent only when it differs from the last one sent', () => {
    const a = buildAppState(baseInput);
    expect(needsSending(a, null)).toBe(true);
    expect(needsSending(buildAppState(baseInput), a)).toBe(false);
    expect(needsSending(buildAppState({ ...baseInput, training: true }), a)).toBe(true);
    expect(needsSending(buildAppState({ ...baseInput, panels: { ...DEFAULT_PANELS, training: true } }), a)).toBe(true);
  });
});

describe('paths the dialogs propose', () => {
  it('start in the project’s folder, else the home folder, never the engine’s working directory', () => {
    expect(startFolder('/home/ada/nets/mnist.netloom.json', '/home/ada')).toBe('/home/ada/nets');
    expect(startFolder(null, '/home/ada')).toBe('/home/ada');
    expect(startFolder(null, undefined)).toBeNull();
    expect(startFolder('C:\\Users\\ada\\mnist.netloom.json', 'C:\\Users\\ada')).toBe('C:\\Users\\ada');
    expect(startFolder('C:\\mnist.netloom.json', 'C:\\Users\\ada')).toBe('C:\\');
    expect(startFolder('/mnist.json', '/home/ada')).toBe('/');
  });

  it('propose files there, named after the project', () => {
    expect(proposedFile('/home/ada', checkpointFileName('My MNIST net!'))).toBe('/home/ada/my-mnist-net.safetensors');
    expect(proposedFile('C:\\Users\\ada', projectFileName('Untitled'))).toBe('C:\\Users\\ada\\untitled.netloom.json');
    expect(checkpointFileName('***')).toBe('model.safetensors');
    expect(projectFileName('')).toBe('untitled.netloom.json');
    expect(proposedFile(null, 'x.safetensors')).toBe('x.safetensors');
  });

  it('make a typed relative path absolute from the start folder, and ~ from the home', () => {
    expect(resolveUserPath('w.safetensors', '/home/ada/nets', '/home/ada')).toBe('/home/ada/nets/w.safetensors');
    expect(resolveUserPath('./ck/w.safetensors', '/home/ada/nets', '/home/ada')).toBe('/home/ada/nets/ck/w.safetensors');
    expect(resolveUserPath('~/w.safetensors', '/home/ada/nets', '/home/ada')).toBe('/home/ada/w.safetensors');
    expect(resolveUserPath('  /tmp/w.safetensors ', '/x', '/home/ada')).toBe('/tmp/w.safetensors');
    expect(resolveUserPath('D:\\w.safetensors', 'C:\\x', 'C:\\Users\\ada')).toBe('D:\\w.safetensors');
    expect(resolveUserPath('w', null, null)).toBe('w');
    expect(isAbsolutePath('~/x')).toBe(false);
    expect(joinPath('/', 'a')).toBe('/a');
    expect(dirName('name.json')).toBe('');
  });
});

describe('files dropped on the window', () => {
  const png = { name: 'seven.png', type: 'image/png' };
  const project = { name: 'mnist.netloom.json', type: 'application/json' };
  const ckpt = { name: 'w.safetensors', type: '' };
  it('an image goes to the playground in both hosts', () => {
    expect(planDrop([project, png], 'desktop')).toEqual({ kind: 'image', index: 1 });
    expect(planDrop([png], 'browser')).toEqual({ kind: 'image', index: 0 });
    expect(planDrop([{ name: 'x.JPG', type: '' }], 'browser')).toEqual({ kind: 'image', index: 0 });
  });
  it('the desktop leaves every other file to the preload, which opens it by path', () => {
    expect(planDrop([project], 'desktop')).toEqual({ kind: 'host' });
    expect(planDrop([ckpt], 'desktop')).toEqual({ kind: 'host' });
    expect(planDrop([{ name: 'notes.txt', type: 'text/plain' }], 'desktop')).toEqual({ kind: 'host' });
  });
  it('a browser opens projects from their text and explains the rest', () => {
    expect(planDrop([project], 'browser')).toEqual({ kind: 'project', index: 0 });
    expect(planDrop([{ name: 'a.netloom', type: '' }], 'browser')).toEqual({ kind: 'project', index: 0 });
    expect(planDrop([ckpt], 'browser')).toEqual({ kind: 'checkpoint', name: 'w.safetensors' });
    for (const name of ['w.pt', 'w.PTH', 'pytorch_model.bin', 'model.onnx']) expect(planDrop([{ name, type: '' }], 'browser'), name).toEqual({ kind: 'checkpoint', name });
    expect(planDrop([{ name: 'notes.txt', type: 'text/plain' }], 'browser')).toEqual({ kind: 'unsupported', name: 'notes.txt' });
  });
  it('a drag without files is not ours', () => {
    expect(planDrop([], 'browser')).toBeNull();
  });
});

describe('a dropped project’s text', () => {
  const good = { format: 'netloom-project', version: 1, name: 'tiny', graph: { nodes: [{ id: 'a', type: 'Input', name: 'input', params: {} }], edges: [] }, runs: [] };
  it('opens a valid project, keeping keys it does not know', () => {
    const r = parseProjectText(JSON.stringify(good), 'tiny.netloom.json');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.project.runs).toEqual([]);
    expect(parseProjectText(`\ufeff${JSON.stringify(good)}`, 'bom.json').ok).toBe(true);
  });
  it('refuses what is not a current Netloom project, with a hint', () => {
    const cases: [string, RegExp][] = [
      ['{"format": ', /not valid JSON/],
      [JSON.stringify({ ...good, format: 'other' }), /not a Netloom project/],
      [JSON.stringify({ ...good, version: 2 }), /format version 2/],
      [JSON.stringify({ ...good, graph: { nodes: 'x', edges: [] } }), /graph\.nodes/],
      [JSON.stringify({ ...good, graph: { nodes: good.graph.nodes, edges: [{ source: 'a', target: 'zz' }] } }), /a -> zz/],
    ];
    for (const [text, message] of cases) {
      const r = parseProjectText(text, 'f.json');
      expect(r.ok, text).toBe(false);
      if (!r.ok) {
        expect(r.message).toMatch(message);
        expect(r.hint.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('text fields and the Edit menu', () => {
  it('text inputs, text areas and editable regions take the edit; checkboxes and buttons do not', () => {
    expect(isTextField({ tagName: 'INPUT', type: 'text' })).toBe(true);
    expect(isTextField({ tagName: 'input', type: 'number' })).toBe(true);
    expect(isTextField({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTextField({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    expect(isTextField({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isTextField({ tagName: 'BUTTON' })).toBe(false);
    expect(isTextField({ tagName: 'BODY' })).toBe(false);
    expect(isTextField(null)).toBe(false);
  });
});
