/**
 * The canvas in a real browser against a real `netloom serve`: drawing a network from the
 * palette, live shapes and parameter counts, a shape error and its undo, save / reload / open,
 * the access token, bad project files, shortcuts help and the dark theme.
 *
 * Every test is a user flow driven through the UI (palette drags, handle-to-handle mouse drags,
 * inspector typing, toolbar buttons, dialogs); what the project *is* gets checked on disk through
 * Save as, so the assertions do not depend on renderer internals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import WebSocket from 'ws';
import { expect, screenshot, test } from './fixture';
import { openApp, selectNode, setParam } from './helpers';

// ---- helpers -------------------------------------------------------------------------------------

type Point = { x: number; y: number };

const canvasOf = (page: Page) => page.getByTestId('canvas');
const flowNodes = (page: Page) => page.locator('.react-flow__node');

/** Drags a layer from the palette and drops it at `at` (relative to the canvas); expects node-<name>. */
async function dropLayer(page: Page, type: string, name: string, at: Point): Promise<Locator> {
  const before = await flowNodes(page).count();
  await page.getByTestId(`palette-item-${type}`).dragTo(canvasOf(page), { targetPosition: at });
  const node = page.getByTestId(`node-${name}`);
  await expect(node).toBeVisible();
  await expect(node).toHaveAttribute('data-type', type);
  await expect(flowNodes(page)).toHaveCount(before + 1);
  return node;
}

async function centre(l: Locator): Promise<Point> {
  const b = await l.boundingBox();
  if (!b) throw new Error(`no box for ${l}`);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Drags with the mouse from src's output handle to dst's input handle; expects the edge's label. */
async function connect(page: Page, src: string, dst: string, port = 'input'): Promise<Locator> {
  const from = await centre(page.getByTestId(`handle-${src}-out`));
  const to = await centre(page.getByTestId(`handle-${dst}-${port}`));
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
  const label = page.getByTestId(`edge-label-${src}-${dst}`);
  await expect(label).toBeVisible();
  return label;
}

/** File dialog: type a path and confirm; for Save as / a good Open, waits for the dialog to close. */
async function fileDialog(page: Page, button: 'btn-open' | 'btn-save-as', path: string, expectClose = true): Promise<Locator> {
  await page.getByTestId(button).click();
  const dialog = page.getByTestId(button === 'btn-open' ? 'dialog-open' : 'dialog-save');
  await expect(dialog).toBeVisible();
  // the dialog fills the path field once it has listed a folder: type over it after that
  await expect(dialog.getByTestId('dialog-listing')).toBeVisible();
  await dialog.getByTestId('dialog-path').fill(path);
  // nothing (a toast of the previous save, say) may cover the button: the user could not click it
  const confirm = dialog.getByTestId('dialog-confirm');
  const onTop = await confirm.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit !== null && el.contains(hit);
  });
  expect(onTop, 'the dialog button is covered').toBe(true);
  await confirm.click();
  if (expectClose) await expect(dialog).toBeHidden();
  return dialog;
}

async function saveAs(page: Page, path: string): Promise<ProjectJson> {
  await fileDialog(page, 'btn-save-as', path);
  await expect(page.getByTestId('toast').filter({ hasText: `Saved ${path}` })).toBeVisible();
  await expect(page.getByTestId('dirty-indicator')).toHaveCount(0);
  return readProject(path);
}

interface ProjectJson {
  format: string;
  version: number;
  name: string;
  graph: {
    nodes: { id: string; type: string; name: string; params: Record<string, unknown>; position?: { x: number; y: number } }[];
    edges: { id?: string; source: string; target: string; targetHandle?: string }[];
  };
}

function readProject(path: string): ProjectJson {
  const p = JSON.parse(readFileSync(path, 'utf8')) as ProjectJson;
  expect(p.format).toBe('netloom-project');
  expect(Number.isInteger(p.version)).toBe(true);
  expect(Array.isArray(p.graph?.nodes) && Array.isArray(p.graph?.edges)).toBe(true);
  return p;
}

/** The graph without layout: nodes and edges sorted by id, positions dropped. */
function withoutPositions(p: ProjectJson) {
  return {
    nodes: p.graph.nodes.map(({ position: _p, ...n }) => n).sort((a, b) => a.id.localeCompare(b.id)),
    edges: [...p.graph.edges].sort((a, b) => `${a.source}>${a.target}`.localeCompare(`${b.source}>${b.target}`)),
  };
}

/** What the canvas shows: every node's name, type and output shape, and every edge label. */
async function canvasSnapshot(page: Page) {
  const nodes = await flowNodes(page)
    .locator('.layer-node')
    .evaluateAll((els) =>
      els
        .map((el) => ({
          name: el.getAttribute('data-testid'),
          type: el.getAttribute('data-type'),
          shape: el.querySelector('.layer-shape')?.textContent ?? null,
          issue: el.getAttribute('data-issue'),
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    );
  const edges = await page
    .locator('[data-testid^="edge-label-"]')
    .evaluateAll((els) => els.map((el) => `${el.getAttribute('data-testid')}=${el.textContent}`).sort());
  return { nodes, edges };
}

/** Starts a new, empty project through the New dialog. */
async function newEmptyProject(page: Page): Promise<void> {
  await page.getByTestId('btn-new').click();
  const dialog = page.getByTestId('dialog-new');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('template-empty').click();
  await dialog.getByTestId('dialog-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(flowNodes(page)).toHaveCount(0);
  // New lays the (empty) project out and fits it once the layout engine has loaded: a layer
  // dropped before that is moved by the late fit (the view centres on it)
  await expect(page.getByTestId('canvas')).toHaveAttribute('aria-busy', 'false');
}

/** Loads an example from the empty canvas's template chips. */
async function loadTemplate(page: Page, id: string): Promise<void> {
  await page.getByTestId(`empty-template-${id}`).click();
  await expect(page.getByTestId('empty-state')).toBeHidden();
  await expect(page.getByTestId('summary-total-params')).not.toHaveText('0');
}

// ---- the tests -----------------------------------------------------------------------------------

test('draw the PyTorch quickstart MLP from an empty canvas: shapes on every edge, 669,706 parameters', async ({ page, server }) => {
  await openApp(page, server);
  await newEmptyProject(page);
  // an empty project really is empty: no Input is put there for the user
  await expect(page.getByTestId('node-input')).toHaveCount(0);

  // three columns of three slots (canvas coordinates of the drop point; a node hangs 20 px below it)
  const col = [140, 424, 708];
  const row = [60, 250, 440];
  const layers: [type: string, name: string, at: Point][] = [
    ['Input', 'input', { x: col[0], y: row[0] }],
    ['Flatten', 'flatten', { x: col[0], y: row[1] }],
    ['Linear', 'fc1', { x: col[0], y: row[2] }],
    ['ReLU', 'relu1', { x: col[1], y: row[0] }],
    ['Linear', 'fc2', { x: col[1], y: row[1] }],
    ['ReLU', 'relu2', { x: col[1], y: row[2] }],
    ['Linear', 'fc3', { x: col[2], y: row[0] }],
    // the loss gives fc3's output an edge, so its 64×10 shows as an edge label too
    ['CrossEntropyLoss', 'loss_fn', { x: col[2], y: row[1] }],
  ];
  for (const [type, name, at] of layers) await dropLayer(page, type, name, at);
  for (let i = 1; i < layers.length; i++) await connect(page, layers[i - 1][1], layers[i][1]);

  await setParam(page, 'fc1', 'out_features', '512');
  await setParam(page, 'fc2', 'out_features', '512');
  await setParam(page, 'fc3', 'out_features', '10');

  // the shape each edge carries, at the default batch size 64 (× is U+00D7)
  await expect(page.getByTestId('batch-size')).toHaveValue('64');
  const expected: [string, string, string][] = [
    ['input', 'flatten', '64\u00d71\u00d728\u00d728'],
    ['flatten', 'fc1', '64\u00d7784'],
    ['fc1', 'relu1', '64\u00d7512'],
    ['relu1', 'fc2', '64\u00d7512'],
    ['fc2', 'relu2', '64\u00d7512'],
    ['relu2', 'fc3', '64\u00d7512'],
    ['fc3', 'loss_fn', '64\u00d710'],
  ];
  for (const [src, dst, shape] of expected) await expect(page.getByTestId(`edge-label-${src}-${dst}`)).toHaveText(shape);
  await expect(page.getByTestId('shape-fc3')).toHaveText('64\u00d710');

  // 784·512+512 + 512·512+512 + 512·10+10
  const total = page.getByTestId('summary-total-params');
  await expect(total).toHaveText(/^669\D?706$/);
  expect((await total.textContent())!.replace(/\D/g, '')).toBe('669706');
  await expect(page.getByTestId('summary-trainable-params')).toHaveText(/^669\D?706$/);
  // a finished drawing: nothing red or amber, no problems listed
  await expect(page.locator('.layer-node[data-issue]')).toHaveCount(0);
  await expect(page.getByTestId('summary-row-fc1')).toContainText('401,920');

  // the inspector shows "auto" in_features resolved from the incoming shape
  await selectNode(page, 'fc2');
  await expect(page.getByTestId('param-in_features')).toHaveAttribute('placeholder', 'auto \u2192 512');
  await expect(page.getByTestId('inspector-params')).toHaveText('262,656');

  await page.getByTestId('btn-fit').click();
  await screenshot(page, 'drawn-quickstart');
});

test('a Conv2d after a Flatten turns red with a readable message; undo restores the graph exactly', async ({ page, server }) => {
  await openApp(page, server);
  // the first layer is dropped in the middle of the empty canvas, onto the "Draw a network" card
  const card = page.locator('.empty-card');
  await expect(card).toBeVisible();
  const canvasBox = (await canvasOf(page).boundingBox())!;
  const mid = { x: canvasBox.width / 2, y: canvasBox.height / 2 };
  const cardBox = (await card.boundingBox())!;
  expect(canvasBox.x + mid.x).toBeGreaterThan(cardBox.x);
  expect(canvasBox.y + mid.y).toBeGreaterThan(cardBox.y);
  await dropLayer(page, 'Input', 'input', mid);
  await dropLayer(page, 'Flatten', 'flatten', { x: mid.x, y: mid.y + 150 });
  await connect(page, 'input', 'flatten');
  await expect(page.getByTestId('edge-label-input-flatten')).toHaveText('64\u00d71\u00d728\u00d728');
  await expect(page.getByTestId('shape-flatten')).toHaveText('64\u00d7784');

  const before = await saveAs(page, join(server.workDir, 'before.netloom.json'));
  expect(before.graph.nodes.map((n) => n.name).sort()).toEqual(['flatten', 'input']);
  expect(before.graph.edges).toHaveLength(1);
  const canvasBefore = await canvasSnapshot(page);

  // up and to the left
  await dropLayer(page, 'Conv2d', 'conv1', { x: 150, y: 60 });
  await connect(page, 'flatten', 'conv1');
  const node = page.getByTestId('node-conv1');
  await expect(node).toHaveAttribute('data-issue', 'error');
  await expect(node).toHaveClass(/has-issue/);
  const issue = page.getByTestId('issue-conv1');
  await expect(issue).toBeVisible();
  // it says what Conv2d wants (an image: channels × height × width) and what it got (784 features)
  await expect(issue).toContainText(/expects an image input \[batch, channels, height, width\]/);
  await expect(issue).toContainText(/receives \[64, ?784\]/);
  // the node's border is the danger colour (red), not the group colour
  // (polled: the border colour has a short CSS transition)
  await expect
    .poll(async () => {
      const [r, g, b] = (await node.evaluate((el) => getComputedStyle(el).borderBottomColor)).match(/\d+/g)!.map(Number);
      return r > 150 && r > g + 60 && r > b + 60;
    })
    .toBe(true);
  // the edge into it carries the flat shape
  await expect(page.getByTestId('edge-label-flatten-conv1')).toHaveText('64\u00d7784');
  await page.getByTestId('btn-fit').click();
  await screenshot(page, 'conv-after-flatten');

  // undo the connection (keyboard), then the added layer (toolbar)
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } }); // focus on the canvas, not a text field
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('edge-label-flatten-conv1')).toHaveCount(0);
  await expect(node).toBeVisible();
  await page.getByTestId('btn-undo').click();
  await expect(node).toHaveCount(0);
  await expect(page.getByTestId('issue-conv1')).toHaveCount(0);
  // the steps before the Conv2d are still there to undo: we stopped at exactly that point
  await expect(page.getByTestId('btn-undo')).toBeEnabled();
  await expect(page.getByTestId('btn-redo')).toBeEnabled();

  expect(await canvasSnapshot(page)).toEqual(canvasBefore);
  const after = await saveAs(page, join(server.workDir, 'after.netloom.json'));
  expect(withoutPositions(after)).toEqual(withoutPositions(before));
  // nothing moved either: the whole graph (ids, handles, positions) is the same document
  expect(after.graph).toEqual(before.graph);
});

test('save as, reload the page, open the file: the same graph, names and parameters', async ({ page, server }) => {
  // A recovery prompt after the reload would be autosave racing the save: decline it explicitly.
  let recoveryPrompts = 0;
  await page.addLocatorHandler(page.getByTestId('dialog-recover'), async (dialog) => {
    recoveryPrompts++;
    await dialog.getByTestId('dialog-discard').click();
  });
  await openApp(page, server);
  await loadTemplate(page, 'quickstart');
  // an edit of our own, so the file holds something the template does not
  await setParam(page, 'linear_relu_stack.2', 'out_features', '256');
  await expect(page.getByTestId('edge-label-linear_relu_stack.2-linear_relu_stack.3')).toHaveText('64\u00d7256');
  await page.getByTestId('node-name').fill('hidden2');
  await expect(page.getByTestId('node-hidden2')).toBeVisible();
  const totalBefore = await page.getByTestId('summary-total-params').textContent();
  expect(totalBefore!.replace(/\D/g, '')).toBe(String(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10));

  const file = join(server.workDir, 'mlp.netloom.json');
  const saved = await saveAs(page, file);
  // the file on disk: a valid project with our edits
  expect(saved.format).toBe('netloom-project');
  expect(saved.version).toBe(1);
  const hidden = saved.graph.nodes.find((n) => n.name === 'hidden2');
  expect(hidden).toMatchObject({ type: 'Linear', params: { out_features: 256 } });
  expect(saved.graph.nodes).toHaveLength(8);
  expect(saved.graph.edges).toHaveLength(7);
  const shown = await canvasSnapshot(page);
  const viewport = page.locator('.react-flow__viewport');
  const view = (await viewport.getAttribute('style'))!;
  expect(view).toMatch(/scale\(/);

  await page.reload();
  await expect(page.getByTestId('palette-item-Input')).toBeVisible();
  await expect(page.getByTestId('btn-open')).toBeEnabled();
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(flowNodes(page)).toHaveCount(0);

  await fileDialog(page, 'btn-open', file);
  await expect(page.getByTestId('toast').filter({ hasText: `Opened ${file}` })).toBeVisible();
  await expect(page.getByTestId('project-title')).toContainText('mlp.netloom.json');
  await expect(page.getByTestId('summary-total-params')).toHaveText(totalBefore!);
  await expect(page.getByTestId('edge-label-hidden2-linear_relu_stack.3')).toHaveText('64\u00d7256');
  expect(await canvasSnapshot(page)).toEqual(shown);
  await expect(page.getByTestId('dirty-indicator')).toHaveCount(0);
  // the same nodes at the same positions, fitted the same way: the view is the one we saved from
  // (a fit before React Flow has measured the nodes would zoom to 1.1 around the graph's corner)
  await expect(viewport).toHaveAttribute('style', view);
  await expect(page.getByTestId('node-input')).toBeInViewport();
  await expect(page.getByTestId('node-hidden2')).toBeInViewport();

  // the parameter as the inspector shows it
  await selectNode(page, 'hidden2');
  await expect(page.getByTestId('param-out_features')).toHaveValue('256');
  await expect(page.getByTestId('param-in_features')).toHaveAttribute('placeholder', 'auto \u2192 512');
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
  await screenshot(page, 'reopened');

  // what the reopened canvas holds, written out again, is what was saved (positions included)
  const again = await saveAs(page, join(server.workDir, 'mlp-copy.netloom.json'));
  expect(again.graph).toEqual(saved.graph);
  expect(again.name).toBe(saved.name);
  expect(recoveryPrompts).toBeLessThanOrEqual(1);
});

test('without the token: the page answers 401 with an explanation, and the API WebSocket is refused at the handshake', async ({ page, server }) => {
  const res = await page.request.get(`${server.origin}/`);
  expect(res.status()).toBe(401);
  expect(await res.text()).toContain('access token');

  await page.goto(`${server.origin}/`);
  await expect(page.locator('h1')).toHaveText('Netloom: access token needed');
  await expect(page.locator('body')).toContainText('copy the full URL printed in the terminal');
  await expect(page.getByTestId('canvas')).toHaveCount(0);

  const host = new URL(server.origin).host;
  /**
   * Opens a WebSocket from Node: resolves with how it ended. A refusal is an HTTP answer to the handshake; a
   * server that refused by never answering would hang here until the test's timeout (no clock of our own).
   */
  const tryWs = (url: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(url);
      const done = (outcome: string) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        resolve(outcome);
      };
      ws.on('open', () => done('open'));
      ws.on('unexpected-response', (_req, r) => done(`http ${r.statusCode}`));
      ws.on('error', (e) => done(`error ${e.message}`));
    });
  expect(await tryWs(`ws://${host}/api`)).toBe('http 401');
  expect(await tryWs(`ws://${host}/api?token=${'x'.repeat(server.token.length)}`)).toBe('http 401');
  // the control: the same request with the real token is let in (every near miss: test/integration/token-property.test.ts)
  expect(await tryWs(`ws://${host}/api?token=${server.token}`)).toBe('open');

  // and from the token-less page itself (same origin, so only the token is missing)
  const inPage = await page.evaluate(
    (urls) =>
      Promise.all(
        urls.map(
          (u) =>
            new Promise<{ opened: boolean; code: number }>((resolve) => {
              const ws = new WebSocket(u);
              let opened = false;
              ws.onopen = () => {
                opened = true;
                ws.close();
              };
              ws.onclose = (e) => resolve({ opened, code: e.code });
            }),
        ),
      ),
    [`ws://${host}/api`, `ws://${host}/api?token=wrong`],
  );
  for (const r of inPage) {
    expect(r.opened).toBe(false);
    expect(r.code).toBe(1006); // refused during the handshake
  }
});

test('opening a broken project shows a clear error and leaves the file and the canvas alone', async ({ page, server }) => {
  await openApp(page, server);
  await loadTemplate(page, 'quickstart');
  const canvasBefore = await canvasSnapshot(page);
  const good = JSON.parse(readFileSync(join(process.cwd(), 'assets', 'templates', 'quickstart.json'), 'utf8')) as ProjectJson;

  // each message names the file, says what is wrong, and (second line) what to do about it
  const cases: { file: string; text: string; message: RegExp; hint: RegExp }[] = [
    { file: 'broken.netloom.json', text: '{"format": "netloom-project", "version": 1, "graph": {', message: /is not valid JSON: the file ends .* at line 1, column \d+/, hint: /text editor/ },
    {
      file: 'future.netloom.json',
      text: JSON.stringify({ ...good, version: 99 }, null, 2),
      message: /was saved by a newer Netloom \(project format 99; this version reads up to 1\)/,
      hint: /Update Netloom/,
    },
    {
      file: 'dangling.netloom.json',
      text: JSON.stringify({ ...good, graph: { ...good.graph, edges: [...good.graph.edges, { id: 'e99', source: 'fc3', target: 'nowhere' }] } }, null, 2),
      message: /edge e99 connects fc3 -> nowhere, but there is no node "nowhere"/,
      hint: /Delete the edge/,
    },
  ];
  for (const c of cases) {
    const path = join(server.workDir, c.file);
    writeFileSync(path, c.text);
    const bytes = readFileSync(path);
    const dialog = await fileDialog(page, 'btn-open', path, false);
    const error = dialog.getByTestId('dialog-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText(c.file);
    await expect(error).toContainText(c.message);
    await expect(error).toContainText(c.hint);
    // the dialog stays open on the error, so the user can pick another file
    await expect(dialog.getByTestId('dialog-path')).toHaveValue(path);
    await dialog.getByTestId('dialog-cancel').click();
    await expect(dialog).toBeHidden();
    expect(readFileSync(path).equals(bytes), `${c.file} must be unchanged on disk`).toBe(true);
    expect(await canvasSnapshot(page)).toEqual(canvasBefore);
  }
  await expect(page.getByTestId('project-title')).toContainText('unsaved');
});

test('? opens the shortcuts help; the theme button switches to dark and back', async ({ page, server }) => {
  await openApp(page, server);
  await loadTemplate(page, 'lenet5');
  await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });

  await page.keyboard.press('?');
  const help = page.getByTestId('help-overlay');
  await expect(help).toBeVisible();
  await expect(help.locator('.help-row').filter({ hasText: 'Undo' })).toContainText('Ctrl+Z');
  await expect(help).toContainText('Redo');
  await expect(help).toContainText('Keyboard shortcuts');
  // a connection whose shapes do not fit is kept and flagged (the test above draws one), not refused
  await expect(help.locator('.help-row').filter({ hasText: 'Drag output → input' })).toContainText('shapes that do not fit are kept and flagged red');
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();

  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  const lightBg = await canvasOf(page).evaluate((el) => getComputedStyle(el.querySelector('.react-flow')!).backgroundColor);
  await page.getByTestId('btn-theme').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(page.locator('.react-flow')).toHaveClass(/dark/);
  const darkBg = await canvasOf(page).evaluate((el) => getComputedStyle(el.querySelector('.react-flow')!).backgroundColor);
  expect(darkBg).not.toBe(lightBg);
  const luminance = (c: string) => c.match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
  expect(luminance(darkBg)).toBeLessThan(80);
  expect(luminance(lightBg)).toBeGreaterThan(170);
  await screenshot(page, 'dark-theme');

  await page.getByTestId('btn-theme').click();
  await expect(html).toHaveAttribute('data-theme', 'light');
});
