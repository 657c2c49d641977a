/**
 * Project files on disk (engine/io/project.ts) and format migrations (engine/graph/migrations.ts):
 * a bad file opens with a clear NL_BAD_PROJECT message and nothing on disk changes; saving is
 * validated and atomic; recent files and the recovery file live in the config folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NetloomError } from '../../engine/errors.js';
import { PROJECT_VERSION } from '../../engine/graph/document.js';
import { MIGRATIONS, PROJECT_MIGRATIONS, checkMigrationTable, migrateProject, type Migration, type MigrationTable } from '../../engine/graph/migrations.js';
import {
  MAX_PROJECT_BYTES,
  MAX_RECENT,
  addRecent,
  clearRecent,
  clearRecovery,
  configDir,
  listDir,
  loadProjectJson,
  match,
  openProjectFile,
  parseProjectFileText,
  parseProjectJsonText,
  readRecent,
  readRecovery,
  saveProjectFile,
  writeRecovery,
} from '../../engine/io/project.js';

const QUICKSTART_TEXT = readFileSync('assets/templates/quickstart.json', 'utf8');
const quickstart = () => JSON.parse(QUICKSTART_TEXT) as Record<string, any>;

let dir: string;
const savedEnv = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netloom-project-io-'));
  process.env.NETLOOM_CONFIG_DIR = join(dir, 'config');
});

afterEach(() => {
  process.env = { ...savedEnv };
});

/** Runs fn, expects a NetloomError, returns it. */
async function failure(fn: () => unknown): Promise<NetloomError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetloomError);
    return e as NetloomError;
  }
  throw new Error('expected a NetloomError');
}

function writeProject(name: string, content: string): { file: string; bytes: Buffer; mtimeMs: number } {
  const file = join(dir, name);
  writeFileSync(file, content);
  return { file, bytes: readFileSync(file), mtimeMs: statSync(file).mtimeMs };
}

function expectUnchanged(f: { file: string; bytes: Buffer; mtimeMs: number }) {
  expect(readFileSync(f.file).equals(f.bytes)).toBe(true);
  expect(statSync(f.file).mtimeMs).toBe(f.mtimeMs);
}

// ---- migrations ----------------------------------------------------------------------------------

describe('migrations', () => {
  /** A pretend history: format 0 called the edge list "links" and had no name. */
  const renameLinks: Migration = {
    version: 1,
    description: 'graph.links -> graph.edges; name defaults to "Untitled"',
    up(doc) {
      const { links, ...graph } = doc.graph as Record<string, unknown>;
      return { ...doc, name: doc.name ?? 'Untitled', graph: { ...graph, edges: links ?? [] } };
    },
  };
  const fakeTable: MigrationTable = { migrations: [renameLinks], current: 1 };

  function v0(): Record<string, unknown> {
    const p = quickstart();
    const { edges, ...graph } = p.graph;
    delete p.name;
    return { ...p, version: 0, graph: { ...graph, links: edges } };
  }

  it('the real table is consistent and ends at the current format', () => {
    expect(() => checkMigrationTable(PROJECT_MIGRATIONS)).not.toThrow();
    expect(PROJECT_MIGRATIONS.current).toBe(PROJECT_VERSION);
    expect(MIGRATIONS.length === 0 || MIGRATIONS[MIGRATIONS.length - 1].version === PROJECT_VERSION).toBe(true);
  });

  it('leaves a current file alone', () => {
    const p = quickstart();
    const r = migrateProject(p, 'q.json');
    expect(r.doc).toBe(p);
    expect(r.from).toBe(PROJECT_VERSION);
    expect(r.applied).toEqual([]);
  });

  it('runs an injected v0 -> v1 step, sets the version and does not mutate the input', () => {
    const old = v0();
    const before = JSON.stringify(old);
    const r = migrateProject(old, 'old.json', fakeTable);
    expect(r.from).toBe(0);
    expect(r.applied).toEqual([renameLinks.description]);
    expect((r.doc as any).version).toBe(1);
    expect((r.doc as any).graph.edges).toHaveLength(7);
    expect(JSON.stringify(old)).toBe(before);
  });

  it('a v0 file opens through the table as a valid current project', () => {
    const p = parseProjectFileText(JSON.stringify(v0()), 'old.json', fakeTable);
    expect(p.version).toBe(1);
    expect(p.name).toBe('Untitled');
    expect(p.graph.edges.map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
  });

  it('runs several steps in order', () => {
    const order: number[] = [];
    const step = (version: number): Migration => ({ version, description: `to ${version}`, up: (d) => (order.push(version), { ...d, [`v${version}`]: true }) });
    const table: MigrationTable = { migrations: [step(2), step(3), step(4)], current: 4 };
    expect(() => checkMigrationTable(table)).not.toThrow();
    const r = migrateProject({ version: 2 }, 'f', table);
    expect(order).toEqual([3, 4]);
    expect(r.doc).toEqual({ version: 4, v3: true, v4: true });
    expect(r.applied).toEqual(['to 3', 'to 4']);
  });

  it('refuses a file from a newer Netloom, naming both versions', async () => {
    const e = await failure(() => migrateProject({ version: PROJECT_VERSION + 1 }, 'new.json'));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toContain(`project format ${PROJECT_VERSION + 1}`);
    expect(e.message).toContain(`reads up to ${PROJECT_VERSION}`);
    expect(e.hint).toMatch(/Update Netloom/);
  });

  it('refuses a version older than the oldest migration', async () => {
    const e = await failure(() => migrateProject({ version: -3 }, 'ancient.json', fakeTable));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toMatch(/format -3/);
  });

  it('reports a failing step as NL_BAD_PROJECT with the step', async () => {
    const broken: MigrationTable = { migrations: [{ version: 1, description: 'explodes', up: () => { throw new Error('boom'); } }], current: 1 };
    const e = await failure(() => migrateProject({ version: 0 }, 'f.json', broken));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toMatch(/from project format 0 to 1 \(explodes\): boom/);
  });

  it('rejects inconsistent tables', () => {
    const step = (version: number): Migration => ({ version, description: '', up: (d) => d });
    expect(() => checkMigrationTable({ migrations: [step(2), step(4)], current: 4 })).toThrow(/not consecutive/);
    expect(() => checkMigrationTable({ migrations: [step(2)], current: 3 })).toThrow(/end at version 2/);
  });

  it('passes non-objects and unversioned documents through for the schema to report', () => {
    expect(migrateProject([1, 2], 'f').from).toBeUndefined();
    expect(migrateProject({ format: 'netloom-project' }, 'f').from).toBeUndefined();
  });
});

// ---- open ----------------------------------------------------------------------------------------

describe('openProjectFile', () => {
  it('opens the quickstart with defaults filled and an absolute path', async () => {
    const f = writeProject('q.json', QUICKSTART_TEXT);
    const r = await openProjectFile(f.file);
    expect(r.path).toBe(f.file);
    expect(r.project.name).toBe('PyTorch quickstart (FashionMNIST MLP)');
    expect(r.project.graph.nodes).toHaveLength(8);
    expect(r.project.training.optimizer).toMatchObject({ type: 'SGD', lr: 0.001, momentum: 0 });
    expectUnchanged(f);
    expect(match(QUICKSTART_TEXT)).toBe(true);
    expect(match('{"hello": 1}')).toBe(false);
  });

  it('keeps top-level keys it does not know (a future "ui" section)', async () => {
    const f = writeProject('ui.json', JSON.stringify({ ...quickstart(), ui: { zoom: 2 } }));
    expect((await openProjectFile(f.file)).project.ui).toEqual({ zoom: 2 });
  });

  it('invalid JSON: NL_BAD_PROJECT with the parser position; the file is untouched', async () => {
    const f = writeProject('broken.json', QUICKSTART_TEXT.slice(0, 200));
    const e = await failure(() => openProjectFile(f.file));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toContain(f.file);
    expect(e.message).toMatch(/not valid JSON/);
    expect(e.hint).toMatch(/text editor/);
    expectUnchanged(f);
  });

  it('a future version: says which, and to update', async () => {
    const f = writeProject('future.json', JSON.stringify({ ...quickstart(), version: 99 }));
    const e = await failure(() => openProjectFile(f.file));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toMatch(/newer Netloom \(project format 99/);
    expect(e.hint).toMatch(/Update Netloom/);
    expectUnchanged(f);
  });

  it('an edge to a missing node: names the edge and the node', async () => {
    const p = quickstart();
    p.graph.edges.push({ id: 'e99', source: 'fc3', target: 'ghost' });
    const f = writeProject('dangling.json', JSON.stringify(p));
    const e = await failure(() => openProjectFile(f.file));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toContain('edge e99 connects fc3 -> ghost, but there is no node "ghost"');
    expect(e.hint).toMatch(/Delete the edge/);
    expectUnchanged(f);
  });

  it('schema errors name the field', async () => {
    const p = quickstart();
    p.graph.nodes[2].name = 'fc 1';
    delete p.graph;
    const f = writeProject('schema.json', JSON.stringify(p));
    const e = await failure(() => openProjectFile(f.file));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toMatch(/graph: /);
    expectUnchanged(f);
  });

  it('a bad node name is reported with its path', async () => {
    const p = quickstart();
    p.graph.nodes[2].name = 'fc 1';
    const f = writeProject('name.json', JSON.stringify(p));
    const e = await failure(() => openProjectFile(f.file));
    expect(e.message).toMatch(/graph\.nodes\[2\]\.name/);
  });

  it('a missing file or a folder is NL_IO', async () => {
    const missing = await failure(() => openProjectFile(join(dir, 'nope.json')));
    expect(missing.code).toBe('NL_IO');
    expect(missing.message).toMatch(/no such file/);
    const folder = await failure(() => openProjectFile(dir));
    expect(folder.code).toBe('NL_IO');
    expect(folder.message).toMatch(/folder/);
  });
});

// ---- save ----------------------------------------------------------------------------------------

describe('saveProjectFile', () => {
  it('round-trips through open, atomically (no temp files left)', async () => {
    const target = join(dir, 'out.json');
    const r = await saveProjectFile(target, quickstart());
    expect(r.path).toBe(target);
    const back = await openProjectFile(target);
    expect(back.project).toEqual(r.project);
    expect(back.project.graph).toEqual(quickstart().graph);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(target, 'utf8').endsWith('}\n')).toBe(true);
  });

  it('adds .json to a name without a project extension; keeps .netloom', async () => {
    expect((await saveProjectFile(join(dir, 'model'), quickstart())).path).toBe(join(dir, 'model.json'));
    expect((await saveProjectFile(join(dir, 'model.netloom'), quickstart())).path).toBe(join(dir, 'model.netloom'));
  });

  it('refuses an invalid project and leaves the existing file unchanged', async () => {
    const f = writeProject('keep.json', QUICKSTART_TEXT);
    const bad = quickstart();
    bad.graph.edges.push({ source: 'fc3', target: 'nowhere' });
    const e = await failure(() => saveProjectFile(f.file, bad));
    expect(e.code).toBe('NL_BAD_PROJECT');
    expect(e.message).toMatch(/edge #7 connects fc3 -> nowhere/);
    const e2 = await failure(() => saveProjectFile(f.file, { ...quickstart(), format: 'other' }));
    expect(e2.code).toBe('NL_BAD_PROJECT');
    expectUnchanged(f);
  });

  it('a missing folder is NL_IO', async () => {
    const e = await failure(() => saveProjectFile(join(dir, 'no', 'such', 'x.json'), quickstart()));
    expect(e.code).toBe('NL_IO');
  });
});

// ---- config folder: recent files and recovery ----------------------------------------------------

describe('config folder', () => {
  it('follows NETLOOM_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
    expect(configDir({ NETLOOM_CONFIG_DIR: '/a/b' })).toBe('/a/b');
    if (process.platform !== 'win32') {
      expect(configDir({ XDG_CONFIG_HOME: '/x' })).toBe('/x/netloom');
      expect(configDir({})).toBe(join(homedir(), '.config', 'netloom'));
      expect(configDir({ NETLOOM_CONFIG_DIR: '', XDG_CONFIG_HOME: '' })).toBe(join(homedir(), '.config', 'netloom'));
    }
  });

  it('recent files: most recent first, deduplicated, at most 10', async () => {
    expect(await readRecent()).toEqual([]);
    for (let i = 0; i < 12; i++) await addRecent(join(dir, `p${i}.json`));
    await addRecent(join(dir, 'p5.json'));
    const list = await readRecent();
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]).toBe(join(dir, 'p5.json'));
    expect(list[1]).toBe(join(dir, 'p11.json'));
    expect(new Set(list).size).toBe(list.length);
    expect(list).not.toContain(join(dir, 'p0.json'));
  });

  it('recent files: concurrent adds are not lost', async () => {
    await Promise.all([0, 1, 2, 3].map((i) => addRecent(join(dir, `c${i}.json`))));
    expect(await readRecent()).toHaveLength(4);
  });

  it('recent files: a corrupt list is reset, not an error', async () => {
    mkdirSync(process.env.NETLOOM_CONFIG_DIR!, { recursive: true });
    const file = join(process.env.NETLOOM_CONFIG_DIR!, 'recent.json');
    writeFileSync(file, '{"recent": [1, ');
    expect(await readRecent()).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, recent: [] });
    expect(await addRecent(join(dir, 'a.json'))).toEqual([join(dir, 'a.json')]);
  });

  it('recovery: write, read back, clear; none or a damaged file reads as null', async () => {
    expect(await readRecovery()).toBeNull();
    const now = new Date('2024-05-01T12:00:00Z');
    await writeRecovery(quickstart(), '/some/where.json', now);
    expect(await readRecovery()).toEqual({ project: quickstart(), path: '/some/where.json', savedAt: now.toISOString() });
    await writeRecovery(quickstart(), null);
    expect((await readRecovery())!.path).toBeNull();
    await clearRecovery();
    expect(await readRecovery()).toBeNull();
    await clearRecovery(); // twice is fine
    writeFileSync(join(process.env.NETLOOM_CONFIG_DIR!, 'recovery.json'), 'garbage');
    expect(await readRecovery()).toBeNull();
  });
});

// ---- folder listings -----------------------------------------------------------------------------

describe('listDir', () => {
  it('lists folders first, then project files, sorted naturally; hides dot files and other files', async () => {
    mkdirSync(join(dir, 'b-folder'));
    mkdirSync(join(dir, 'A-folder'));
    mkdirSync(join(dir, '.hidden'));
    for (const n of ['model10.json', 'model2.json', 'net.netloom', 'notes.txt', 'weights.safetensors', '.secret.json']) writeFileSync(join(dir, n), '{}');
    if (process.platform !== 'win32') symlinkSync(join(dir, 'b-folder'), join(dir, 'link-to-folder'));
    const r = await listDir(dir);
    expect(r.path).toBe(dir);
    expect(r.parent).toBe(join(dir, '..'));
    const names = r.entries.map((e) => `${e.kind}:${e.name}`);
    const folders = process.platform !== 'win32' ? ['dir:A-folder', 'dir:b-folder', 'dir:link-to-folder'] : ['dir:A-folder', 'dir:b-folder'];
    expect(names).toEqual([...folders, 'file:model2.json', 'file:model10.json', 'file:net.netloom']);
    expect(r.entries[0].path).toBe(join(dir, 'A-folder'));
  });

  it('the root has no parent; the default is the home folder', async () => {
    if (process.platform !== 'win32') expect((await listDir('/')).parent).toBeNull();
    expect((await listDir()).path).toBe(homedir());
  });

  it('a missing folder or a file is NL_IO with a clear message', async () => {
    const e = await failure(() => listDir(join(dir, 'missing')));
    expect(e.code).toBe('NL_IO');
    expect(e.message).toBe(`The folder ${join(dir, 'missing')} does not exist.`);
    writeFileSync(join(dir, 'f.json'), '{}');
    const f = await failure(() => listDir(join(dir, 'f.json')));
    expect(f.code).toBe('NL_IO');
    expect(f.message).toMatch(/is a file, not a folder/);
  });
});

// ---- the words of every refusal, and the edges of each rule ------------------------------------

/** A sparse file of `bytes` bytes: no disk space, refused from its stated size. */
function sparse(file: string, bytes: number): string {
  writeFileSync(file, '');
  truncateSync(file, bytes);
  return file;
}
const plain = (e: NetloomError) => ({ code: e.code, message: e.message, hint: e.hint });
/** `levels` objects nested in each other: {"a":{"a":...{}}}. */
const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe('reading a project: the sniff, the byte order mark, nesting, dangling edges', () => {
  it('match() looks at the first 4096 characters only', () => {
    expect(match(`${' '.repeat(4000)}{"format":"netloom-project"}`)).toBe(true);
    expect(match(`${' '.repeat(4100)}{"format":"netloom-project"}`)).toBe(false);
  });

  it('a UTF-8 byte order mark is skipped', () => {
    expect(parseProjectFileText(`\uFEFF${QUICKSTART_TEXT}`, 'bom.json').name).toBe('PyTorch quickstart (FashionMNIST MLP)');
  });

  it('nesting beyond 64 levels is refused with its line, column and path', async () => {
    const e = await failure(() => parseProjectJsonText(`{\n "x": ${nested(70)}}`, 'deep.json'));
    expect(plain(e)).toEqual({
      code: 'NL_BAD_PROJECT', message: `deep.json nests objects and lists more than 64 levels deep at line 2, column ${6 + 5 * 63 + 1} (x${'.a'.repeat(11)}...)`,
      hint: 'A Netloom project nests about 8 levels; the file is damaged or not a project. Remove that value in a text editor, or restore the file from a backup.',
    });
  });

  it('every dangling edge is listed, each with every node it lacks', async () => {
    const p = quickstart();
    p.graph.edges.push({ id: 'e98', source: 'ghost', target: 'phantom' }, { source: 'fc3', target: 'nowhere' });
    const e = await failure(() => loadProjectJson(p, 'two.json'));
    expect(plain(e)).toEqual({
      code: 'NL_BAD_PROJECT',
      message: 'two.json is not a valid Netloom project:\n  edge e98 connects ghost -> phantom, but there is no node "ghost" or "phantom"\n  edge #8 connects fc3 -> nowhere, but there is no node "nowhere"',
      hint: 'Delete the edge from the file, or restore the node it points to.',
    });
  });
});

describe('opening a project file: why it could not be read', () => {
  it('a missing file, a folder, a path through a file, a link loop', async () => {
    const hint = 'Check the path, or choose the file again in the Open dialog.';
    const missing = join(dir, 'nope.json');
    expect(plain(await failure(() => openProjectFile(missing)))).toEqual({ code: 'NL_IO', message: `Could not open ${missing}: no such file or folder`, hint });
    const folder = join(dir, 'folder.json');
    mkdirSync(folder);
    expect(plain(await failure(() => openProjectFile(folder)))).toEqual({ code: 'NL_IO', message: `Could not open ${folder}: it is a folder`, hint });
    writeFileSync(join(dir, 'file'), 'x');
    const through = join(dir, 'file', 'x.json');
    const e = await failure(() => openProjectFile(through));
    expect(plain(e)).toEqual({ code: 'NL_IO', message: `Could not open ${through}: a part of the path is not a folder`, hint });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    const loop = join(dir, 'loop.json');
    symlinkSync(loop, loop);
    expect(plain(await failure(() => openProjectFile(loop)))).toEqual({ code: 'NL_IO', message: `Could not open ${loop}: ELOOP: too many symbolic links encountered, open '${loop}'`, hint });
  });

  it('a file over 32 MiB is refused before it is read', async () => {
    const big = sparse(join(dir, 'big.json'), MAX_PROJECT_BYTES + 1);
    expect(plain(await failure(() => openProjectFile(big)))).toEqual({
      code: 'NL_BAD_PROJECT', message: `${big} is larger than 32 MiB, too large for a Netloom project`, hint: 'Choose the project file (.json / .netloom), not a dataset or checkpoint.',
    });
  });

  it('"~" is the home folder when opening, saving and listing', async () => {
    // (the home folder is only read here: nothing is written into it)
    const absent = 'netloom-test-absent-8c1f';
    expect((await failure(() => openProjectFile(`~/${absent}.json`))).message).toBe(`Could not open ${join(homedir(), `${absent}.json`)}: no such file or folder`);
    expect((await failure(() => saveProjectFile(`~/${absent}/p`, quickstart()))).message).toContain(join(homedir(), absent, 'p.json'));
    for (const p of ['~', '~/', '~\\', '']) expect((await listDir(p)).path, p).toBe(homedir());
    // a "~" that does not start the path is a name like any other
    for (const name of ['odd~', 'odd~\\']) {
      mkdirSync(join(dir, name));
      expect((await listDir(`${join(dir, name)}/`)).path, name).toBe(join(dir, name));
    }
  });
});

describe('saving a project: the words of a refusal', () => {
  it('an invalid project is named "the project to save"; a folder is refused by name', async () => {
    const bad = quickstart();
    bad.graph.edges.push({ source: 'fc3', target: 'nowhere' });
    expect((await failure(() => saveProjectFile(join(dir, 'x.json'), bad))).message).toBe('the project to save is not a valid Netloom project:\n  edge #7 connects fc3 -> nowhere, but there is no node "nowhere"');
    const folder = join(dir, 'd.json');
    mkdirSync(folder);
    expect(plain(await failure(() => saveProjectFile(folder, quickstart())))).toEqual({ code: 'NL_IO', message: `Could not save to ${folder}: it is a folder`, hint: 'Choose a file name inside the folder.' });
  });
});

describe('the config folder: where, and what goes wrong there', () => {
  it('a relative folder is made absolute; APPDATA counts on Windows only', () => {
    expect(configDir({ NETLOOM_CONFIG_DIR: 'rel' })).toBe(join(process.cwd(), 'rel'));
    expect(configDir({ XDG_CONFIG_HOME: 'rel' })).toBe(join(process.cwd(), 'rel', 'netloom'));
    if (process.platform !== 'win32') expect(configDir({ APPDATA: '/appdata' })).toBe(join(homedir(), '.config', 'netloom'));
  });

  it('a settings folder that cannot be made is NL_IO with what to set', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    process.env.NETLOOM_CONFIG_DIR = join(dir, 'file', 'config');
    const e = await failure(() => writeRecovery(quickstart(), null));
    expect(plain(e)).toEqual({ code: 'NL_IO', message: `Could not create the settings folder ${join(dir, 'file', 'config')}: a part of the path is not a folder`, hint: 'Set NETLOOM_CONFIG_DIR to a writable folder.' });
    expect(plain(await failure(() => readRecovery()))).toEqual({
      code: 'NL_IO', message: `Could not read ${join(dir, 'file', 'config', 'recovery.json')}: a part of the path is not a folder`,
      hint: 'Check the permissions of the Netloom settings folder, or set NETLOOM_CONFIG_DIR.',
    });
    expect(plain(await failure(() => clearRecovery()))).toEqual({
      code: 'NL_IO', message: `Could not delete ${join(dir, 'file', 'config', 'recovery.json')}: a part of the path is not a folder`, hint: 'Check the permissions of the Netloom settings folder.',
    });
  });

  it('a settings file over 33 MiB is refused; one just over a project\'s 32 MiB is read', async () => {
    const config = process.env.NETLOOM_CONFIG_DIR!;
    mkdirSync(config, { recursive: true });
    const file = sparse(join(config, 'recovery.json'), MAX_PROJECT_BYTES + 1024 * 1024 + 1);
    expect(plain(await failure(() => readRecovery()))).toEqual({
      code: 'NL_IO', message: `${file} is larger than 33 MiB, too large for a Netloom recovery.json file`, hint: `Delete ${file}: Netloom writes a new one.`,
    });
    sparse(file, MAX_PROJECT_BYTES + 2); // read (NUL bytes are no JSON: no recovery)
    expect(await readRecovery()).toBeNull();
  });

  it('a recovery file that is a folder is an error, not "no recovery"', async () => {
    mkdirSync(join(process.env.NETLOOM_CONFIG_DIR!, 'recovery.json'), { recursive: true });
    expect((await failure(() => readRecovery())).message).toMatch(/: it is a folder$/);
  });
});

describe('recent files: the edges', () => {
  const recentFile = () => join(process.env.NETLOOM_CONFIG_DIR!, 'recent.json');
  const writeRecentText = (text: string) => {
    mkdirSync(process.env.NETLOOM_CONFIG_DIR!, { recursive: true });
    writeFileSync(recentFile(), text);
  };

  it('reading an absent list writes nothing', async () => {
    expect(await readRecent()).toEqual([]);
    expect(existsSync(process.env.NETLOOM_CONFIG_DIR!)).toBe(false);
  });

  it('a list read from disk is deduplicated and cut to 10; one added to is cut to 10 too', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `/p/${i}.json`);
    writeRecentText(JSON.stringify({ version: 1, recent: ['/p/0.json', ...names] }));
    expect(await readRecent()).toEqual(names.slice(0, 10));
    const added = await addRecent('/p/new.json');
    expect(added).toEqual(['/p/new.json', ...names.slice(0, 9)]);
    expect(JSON.parse(readFileSync(recentFile(), 'utf8')).recent).toEqual(added);
  });

  it('a list with an empty or non-string entry, or no list, is damaged: reset, with a line on stderr', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const text of ['{"recent":["/a.json",""]}', '{"recent":["/a.json",1]}', '{"recent":"/a.json"}', '{}', 'null', '[]']) {
        writeRecentText(text);
        expect(await readRecent(), text).toEqual([]);
        expect(JSON.parse(readFileSync(recentFile(), 'utf8')), text).toEqual({ version: 1, recent: [] });
      }
      expect(spy).toHaveBeenCalledWith(`netloom: ${recentFile()} was damaged; the recent files list was reset.\n`);
    } finally {
      spy.mockRestore();
    }
  });

  it('clearRecent empties the list', async () => {
    await addRecent('/p/a.json');
    expect(await clearRecent()).toEqual([]);
    expect(await readRecent()).toEqual([]);
  });
});

describe('recovery: what counts as a readable autosave', () => {
  const write = (text: string) => {
    mkdirSync(process.env.NETLOOM_CONFIG_DIR!, { recursive: true });
    writeFileSync(join(process.env.NETLOOM_CONFIG_DIR!, 'recovery.json'), text);
  };

  it('a project nested up to the limit is read; one level more is not', async () => {
    write(`{"project":${nested(64)},"path":null,"savedAt":"t"}`);
    expect((await readRecovery())?.savedAt).toBe('t');
    write(`{"project":${nested(65)},"path":null,"savedAt":"t"}`);
    expect(await readRecovery()).toBeNull();
  });

  it('anything but {project: object, path: string or null, savedAt: string} reads as none', async () => {
    const good = { project: { a: 1 }, path: '/x.json', savedAt: 't' };
    write(JSON.stringify(good));
    expect(await readRecovery()).toEqual(good);
    const bad = [
      'null', '0', '1', '"x"', '[]',
      JSON.stringify({ ...good, project: null }), JSON.stringify({ ...good, project: 1 }), JSON.stringify({ path: null, savedAt: 't' }),
      JSON.stringify({ ...good, savedAt: 1 }), JSON.stringify({ project: {}, path: null }),
      JSON.stringify({ ...good, path: 1 }), JSON.stringify({ project: {}, savedAt: 't' }),
    ];
    for (const text of bad) {
      write(text);
      expect(await readRecovery(), text).toBeNull();
    }
  });
});

describe('listDir: the edges', () => {
  it('folders come before files whatever their names; links to files count, broken links do not', async () => {
    mkdirSync(join(dir, 'zzz'));
    writeFileSync(join(dir, 'aaa.json'), '{}');
    writeFileSync(join(dir, 'target.json'), '{}');
    writeFileSync(join(dir, 'notes.txt'), '');
    symlinkSync(join(dir, 'target.json'), join(dir, 'link.json'));
    symlinkSync(join(dir, 'notes.txt'), join(dir, 'link-to-text.json.txt'));
    symlinkSync(join(dir, 'gone.json'), join(dir, 'dead.json'));
    execFileSync('mkfifo', [join(dir, 'pipe.json')]);
    const r = await listDir(dir);
    expect(r.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['dir:zzz', 'file:aaa.json', 'file:link.json', 'file:target.json']);
  });

  it('says what is wrong with a path that is not a folder, and what to do', async () => {
    writeFileSync(join(dir, 'f.json'), '{}');
    expect(plain(await failure(() => listDir(join(dir, 'f.json'))))).toEqual({ code: 'NL_IO', message: `${join(dir, 'f.json')} is a file, not a folder.`, hint: 'Choose a folder to list, or open the file directly.' });
    const missing = await failure(() => listDir(join(dir, 'missing')));
    expect(plain(missing)).toEqual({ code: 'NL_IO', message: `The folder ${join(dir, 'missing')} does not exist.`, hint: 'Go up to a folder that exists, or type another path.' });
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(plain(await failure(() => listDir(join(dir, 'f.json', 'x'))))).toEqual({
      code: 'NL_IO', message: `Could not list the folder ${join(dir, 'f.json', 'x')}: a part of the path is not a folder`, hint: 'Choose another folder.',
    });
  });
});
