/**
 * Issue 10, item 5: JSON that nests thousands of levels deep parses (V8's JSON.parse does not
 * recurse) but then overflows the stack of JSON.stringify, structuredClone or any recursive walk.
 * Every JSON that arrives from a user (a project file, the recovery file, an API message, a
 * safetensors header) is refused on arrival with a message that says where, never NL_INTERNAL later.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../engine/host/dispatch.js';
import { handleMessage } from '../../engine/host/serve.js';
import { EngineService } from '../../engine/host/service.js';
import { openProjectFile, readRecovery } from '../../engine/io/project.js';
import { decodeSafetensors } from '../../engine/io/safetensors.js';

const DEEP = 5000;
const root = mkdtempSync(join(tmpdir(), 'netloom-json-depth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const savedEnv = { ...process.env };
beforeEach(() => {
  process.env.NETLOOM_CONFIG_DIR = join(root, 'config');
});
afterEach(() => {
  process.env = { ...savedEnv };
});

const quickstart = () => JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));

/** {"a": {"a": ... {} ...}} `depth` levels deep, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** The same as text, without JSON.stringify (which is what overflows). */
const nestedText = (depth: number) => `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`;

/** The quickstart with a deep value in its first Linear's params. */
function deepProject(): Record<string, any> {
  const p = quickstart();
  p.graph.nodes.find((n: any) => n.type === 'Linear').params.extra = nested(DEEP);
  return p;
}

function deepProjectText(): string {
  const p = quickstart();
  p.graph.nodes.find((n: any) => n.type === 'Linear').params.extra = '@DEEP@';
  return JSON.stringify(p, null, 2).replace('"@DEEP@"', nestedText(DEEP));
}

describe('a deeply nested project file', () => {
  it('is refused when opened, naming where the nesting is', async () => {
    const file = join(root, 'deep.json');
    writeFileSync(file, deepProjectText());
    const e = await openProjectFile(file).catch((x) => x);
    expect(e).toMatchObject({ code: 'NL_BAD_PROJECT' });
    expect(e.message).toMatch(/deep\.json nests objects and lists more than 64 levels deep at line \d+, column \d+ \(graph\.nodes\[\d\]\.params\.extra\.a\.a\.a/);
  });

  it('in the recovery file: treated as unreadable (no recovery), not handed to the app', async () => {
    mkdirSync(join(root, 'config'), { recursive: true });
    writeFileSync(join(root, 'config', 'recovery.json'), `{"project": ${deepProjectText()}, "path": null, "savedAt": "2024-01-01T00:00:00.000Z"}`);
    expect(await readRecovery()).toBeNull();
  });
});

describe('a deeply nested API message', () => {
  const service = new EngineService();
  const log: string[] = [];

  it.each(['saveProject', 'writeRecovery'] as const)('%s over the WebSocket: NL_BAD_REQUEST saying where, not NL_INTERNAL', async (method) => {
    const params = method === 'saveProject' ? `{"path": ${JSON.stringify(join(root, 'x.json'))}, "project": @P@}` : '{"path": null, "project": @P@}';
    const p = deepProjectText();
    const reply = await handleMessage(service, `{"id": 7, "method": "${method}", "params": ${params.replace('@P@', p)}}`, (l) => log.push(l));
    expect(reply).toMatchObject({ id: 7, error: { code: 'NL_BAD_REQUEST' } });
    expect((reply as any).error.message).toMatch(/nests objects and lists more than 64 levels deep .*params\.project\.graph\.nodes\[\d\]\.params\.extra\.a\.a/);
  });

  it('analyze over the WebSocket', async () => {
    const graph = JSON.stringify(quickstart().graph).replace('"params":{', `"params":{"extra":${nestedText(DEEP)},`);
    const reply = await handleMessage(service, `{"id": 8, "method": "analyze", "params": {"batchSize": 64, "graph": ${graph}}}`, (l) => log.push(l));
    expect(reply).toMatchObject({ id: 8, error: { code: 'NL_BAD_REQUEST', message: expect.stringMatching(/more than 64 levels deep/) } });
  });

  it('over Electron IPC (an object, not text): the same refusal', async () => {
    const reply = await dispatch(service, 'writeRecovery', { project: deepProject(), path: null }, (l) => log.push(l));
    expect(reply).toMatchObject({ error: { code: 'NL_BAD_REQUEST', message: expect.stringMatching(/more than 64 levels deep at params\.project\.graph\.nodes\[\d\]\.params\.extra\.a/) } });
    // and an object that refers to itself (structured clone can carry one)
    const loop: Record<string, unknown> = { ...quickstart() };
    (loop.graph as any).nodes[0].params.self = loop;
    const cyclic = await dispatch(service, 'writeRecovery', { project: loop, path: null }, (l) => log.push(l));
    expect(cyclic).toMatchObject({ error: { code: 'NL_BAD_REQUEST', message: expect.stringMatching(/refers to itself at params\.project\.graph\.nodes\[0\]\.params\.self/) } });
    expect(log.filter((l) => /internal error/.test(l))).toEqual([]);
  });

  it('a project of ordinary depth still saves', async () => {
    const reply = await dispatch(service, 'saveProject', { path: join(root, 'ok.json'), project: quickstart() }, () => undefined);
    expect(reply).toMatchObject({ result: { path: join(root, 'ok.json') } });
  });
});

describe('a deeply nested safetensors header', () => {
  it('is NL_BAD_CHECKPOINT saying where, not a RangeError', () => {
    const json = `{"w": {"dtype": "F32", "shape": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}, "data_offsets": [0, 0]}}`;
    const text = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + text.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
    bytes.set(text, 8);
    expect(() => decodeSafetensors(bytes, 'deep.safetensors')).toThrow(/deep\.safetensors: the header nests objects and lists more than 64 levels deep at byte \d+ \(w\.shape\[0\]\[0\]/);
  });
});
