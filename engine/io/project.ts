/**
 * Project files on disk: open (read, parse, migrate, validate), save (validate, write atomically),
 * the recent-files list, the crash-recovery file, and folder listings for the open/save dialogs.
 *
 * A file that cannot be opened (invalid JSON, a newer format, a schema error, an edge to a node
 * that does not exist) is refused with NL_BAD_PROJECT and a message naming the problem; nothing
 * is written. Saving runs the same checks first, so Netloom never writes a file it would refuse
 * to open. Top-level keys Netloom does not know (e.g. a future `ui` section) are kept.
 *
 * Per-user state (recent.json, recovery.json) lives in the config folder: $NETLOOM_CONFIG_DIR,
 * else $XDG_CONFIG_HOME/netloom, else %APPDATA%/netloom on Windows, else ~/.config/netloom.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetloomError } from '../errors.js';
import { PROJECT_FORMAT, PROJECT_VERSION, parseProject, type ProjectDoc } from '../graph/document.js';
import { PROJECT_MIGRATIONS, migrateProject, type MigrationTable } from '../graph/migrations.js';
import { writeFileAtomic } from './atomic.js';
import { describeJsonError } from './json-error.js';
import { MAX_JSON_DEPTH, TOO_DEEP, lineColumn, scanJson } from './json-limits.js';
import { readUserFile } from './read-file.js';

/** A validated project plus any top-level keys this version does not know about. */
export type ProjectFile = ProjectDoc & Record<string, unknown>;

/** Files above this size are not projects (the largest template is a few kB). */
export const MAX_PROJECT_BYTES = 32 * 1024 * 1024;
export const MAX_RECENT = 10;
/** extensions the dialogs list and saving accepts */
export const PROJECT_EXTENSIONS = ['.json', '.netloom'] as const;

// ---- reading and validating ----------------------------------------------------------------------

/** Cheap sniff: does this text look like a Netloom project (before a full parse)? */
export function match(text: string): boolean {
  return text.slice(0, 4096).includes(`"${PROJECT_FORMAT}"`);
}

/** Every edge whose source or target names no node, as "edge <id> connects a -> b, but ...". */
function danglingEdges(doc: ProjectDoc): string[] {
  const ids = new Set(doc.graph.nodes.map((n) => n.id));
  const out: string[] = [];
  doc.graph.edges.forEach((e, k) => {
    const missing = [e.source, e.target].filter((id) => !ids.has(id));
    if (missing.length) {
      const name = e.id !== undefined ? `edge ${e.id}` : `edge #${k}`;
      out.push(`${name} connects ${e.source} -> ${e.target}, but there is no node ${missing.map((m) => `"${m}"`).join(' or ')}`);
    }
  });
  return out;
}

/**
 * Parsed JSON -> a current, valid project: migrations, the schema, then the references between
 * nodes and edges. `source` names the file in messages.
 */
export function loadProjectJson(json: unknown, source: string, table: MigrationTable = PROJECT_MIGRATIONS): ProjectFile {
  const { doc } = migrateProject(json, source, table);
  const parsed = parseProject(doc, source);
  const dangling = danglingEdges(parsed);
  if (dangling.length)
    throw new NetloomError(
      'NL_BAD_PROJECT',
      `${source} is not a valid Netloom project:\n${dangling.map((d) => `  ${d}`).join('\n')}`,
      'Delete the edge from the file, or restore the node it points to.',
    );
  // Stryker disable next-line ConditionalExpression,LogicalOperator: parseProject accepted doc, so it is an object here
  const extras = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  return { ...extras, ...parsed, version: PROJECT_VERSION };
}

/**
 * Project JSON text -> its value; a UTF-8 byte order mark is skipped. Invalid JSON is
 * NL_BAD_PROJECT with the parser's position, nesting beyond MAX_JSON_DEPTH (see json-limits.ts)
 * with where it goes too deep.
 */
export function parseProjectJsonText(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const deep = scanJson(body);
  if (deep?.kind === 'depth') {
    const { line, column } = lineColumn(body, deep.offset);
    throw new NetloomError('NL_BAD_PROJECT', `${source} ${TOO_DEEP} at line ${line}, column ${column} (${deep.path})`,
      `A Netloom project nests about 8 levels; the file is damaged or not a project. Remove that value in a text editor, or restore the file from a backup.`);
  }
  try {
    return JSON.parse(body);
  } catch {
    // never V8's message: it quotes the file's bytes (json-error.ts)
    throw new NetloomError('NL_BAD_PROJECT', `${source} is not valid JSON: ${describeJsonError(body)}`,
      'Open it in a text editor and fix the syntax, or restore it from a backup.');
  }
}

/** Project text -> a valid project (parseProjectJsonText, then loadProjectJson). */
export function parseProjectFileText(text: string, source: string, table: MigrationTable = PROJECT_MIGRATIONS): ProjectFile {
  return loadProjectJson(parseProjectJsonText(text, source), source, table);
}

function ioError(what: string, file: string, e: unknown, hint: string): NetloomError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT' ? 'no such file or folder'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
        : code === 'EISDIR' ? 'it is a folder'
          : code === 'ENOTDIR' ? 'a part of the path is not a folder'
            : (e as Error)?.message ?? String(e);
  return new NetloomError('NL_IO', `Could not ${what} ${file}: ${reason}`, hint, { cause: e });
}

/**
 * Reads, migrates and validates a project file. Never writes anything. The one reader of project
 * files: the app (openProject) and the CLI (train, eval) give the same file the same verdict.
 */
export async function openProjectFile(file: string, table: MigrationTable = PROJECT_MIGRATIONS): Promise<{ path: string; project: ProjectFile }> {
  const abs = path.resolve(expandHome(file));
  let text: string;
  try {
    text = (await readUserFile(abs, { maxBytes: MAX_PROJECT_BYTES, what: 'Netloom project', tooLarge: 'NL_BAD_PROJECT',
      hint: 'Choose the project file (.json / .netloom), not a dataset or checkpoint.' })).toString('utf8');
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    throw ioError('open', abs, e, 'Check the path, or choose the file again in the Open dialog.');
  }
  return { path: abs, project: parseProjectFileText(text, abs, table) };
}

/** Adds ".json" when the name has no project extension. */
export function withProjectExtension(file: string): string {
  const lower = file.toLowerCase();
  return PROJECT_EXTENSIONS.some((e) => lower.endsWith(e)) ? file : `${file}.json`;
}

/** The text a project is saved as: 2-space JSON with a final newline. */
export function serializeProject(project: ProjectFile): string {
  return `${JSON.stringify(project, null, 2)}\n`;
}

/**
 * Validates the project, then replaces the file atomically (temp file + fsync + rename), so a
 * crash leaves the old file or the new one. Returns the absolute path written.
 */
export async function saveProjectFile(file: string, project: unknown): Promise<{ path: string; project: ProjectFile }> {
  const abs = path.resolve(withProjectExtension(expandHome(file)));
  const valid = loadProjectJson(project, 'the project to save');
  let st: Awaited<ReturnType<typeof fsp.stat>> | undefined;
  try {
    st = await fsp.stat(abs);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory())
    throw new NetloomError('NL_IO', `Could not save to ${abs}: it is a folder`, 'Choose a file name inside the folder.');
  await writeFileAtomic(abs, serializeProject(valid));
  return { path: abs, project: valid };
}

// ---- the config folder ---------------------------------------------------------------------------

function nonEmpty(v: string | undefined): string | undefined {
  // Stryker disable next-line all: its callers test the result for truth, and '' is as false as undefined; this says what unset means
  return v !== undefined && v !== '' ? v : undefined;
}

/** Where per-user state lives (see the header). Not created until something is written. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = nonEmpty(env.NETLOOM_CONFIG_DIR);
  if (own) return path.resolve(own);
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  if (xdg) return path.join(path.resolve(xdg), 'netloom');
  const appData = nonEmpty(env.APPDATA);
  if (process.platform === 'win32' && appData) return path.join(appData, 'netloom');
  return path.join(os.homedir(), '.config', 'netloom');
}

async function writeConfigFile(name: string, data: string): Promise<void> {
  const dir = configDir();
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError('create the settings folder', dir, e, 'Set NETLOOM_CONFIG_DIR to a writable folder.');
  }
  await writeFileAtomic(path.join(dir, name), data);
}

/** The recovery file holds one project, saved without indentation. */
const MAX_CONFIG_BYTES = MAX_PROJECT_BYTES + 1024 * 1024;

/** The file's text, or undefined when it does not exist. */
async function readConfigFile(name: string): Promise<string | undefined> {
  const file = path.join(configDir(), name);
  try {
    return (await readUserFile(file, { maxBytes: MAX_CONFIG_BYTES, what: `Netloom ${name} file`, tooLarge: 'NL_IO',
      hint: `Delete ${file}: Netloom writes a new one.` })).toString('utf8');
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', file, e, 'Check the permissions of the Netloom settings folder, or set NETLOOM_CONFIG_DIR.');
  }
}

// ---- recent files --------------------------------------------------------------------------------

const RECENT_FILE = 'recent.json';

/** Read-modify-write of recent.json in this process happens one at a time. */
let recentQueue: Promise<unknown> = Promise.resolve();

function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = recentQueue.then(fn, fn);
  recentQueue = next.catch(() => undefined);
  return next;
}

function parseRecent(text: string): string[] | undefined {
  try {
    const json = JSON.parse(text) as unknown;
    const list = (json as { recent?: unknown })?.recent;
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p !== '')) return undefined;
    return [...new Set(list as string[])].slice(0, MAX_RECENT);
  } catch {
    return undefined;
  }
}

async function readRecentUnlocked(): Promise<string[]> {
  const text = await readConfigFile(RECENT_FILE);
  if (text === undefined) return [];
  const list = parseRecent(text);
  if (list) return list;
  // A damaged list is not worth an error: start a fresh one.
  process.stderr.write(`netloom: ${path.join(configDir(), RECENT_FILE)} was damaged; the recent files list was reset.\n`);
  await writeRecentUnlocked([]).catch(() => undefined);
  return [];
}

async function writeRecentUnlocked(list: string[]): Promise<void> {
  await writeConfigFile(RECENT_FILE, `${JSON.stringify({ version: 1, recent: list }, null, 2)}\n`);
}

/** The recent projects, most recent first (absolute paths, at most MAX_RECENT). */
export function readRecent(): Promise<string[]> {
  return serial(readRecentUnlocked);
}

/** Moves (or adds) a file to the top of the recent list; returns the new list. */
export function addRecent(file: string): Promise<string[]> {
  const abs = path.resolve(file);
  return serial(async () => {
    const list = [abs, ...(await readRecentUnlocked()).filter((p) => p !== abs)].slice(0, MAX_RECENT);
    await writeRecentUnlocked(list);
    return list;
  });
}

/** Empties the recent list (the desktop app's File > Open Recent > Clear). */
export function clearRecent(): Promise<string[]> {
  return serial(async () => {
    await writeRecentUnlocked([]);
    return [];
  });
}

// ---- crash recovery ------------------------------------------------------------------------------

const RECOVERY_FILE = 'recovery.json';

export interface RecoveryFile {
  /** the unsaved project as the app held it (may have problems the user was still fixing) */
  project: unknown;
  /** the file it was opened from or last saved to; null for a new project */
  path: string | null;
  /** ISO time of the autosave */
  savedAt: string;
}

export async function writeRecovery(project: unknown, file: string | null, now: Date = new Date()): Promise<void> {
  const data: RecoveryFile = { project, path: file, savedAt: now.toISOString() };
  await writeConfigFile(RECOVERY_FILE, JSON.stringify(data));
}

/** The autosaved state, or null when there is none or it is unreadable. */
export async function readRecovery(): Promise<RecoveryFile | null> {
  const text = await readConfigFile(RECOVERY_FILE);
  if (text === undefined) return null;
  // Nesting beyond the limit would overflow the serializer later: unreadable, like damaged JSON.
  if (scanJson(text, { maxDepth: MAX_JSON_DEPTH + 1 })) return null;
  try {
    const json = JSON.parse(text) as Partial<RecoveryFile> | null;
    if (!json || typeof json !== 'object' || typeof json.project !== 'object' || json.project === null) return null;
    if (typeof json.savedAt !== 'string' || (json.path !== null && typeof json.path !== 'string')) return null;
    return { project: json.project, path: json.path, savedAt: json.savedAt };
  } catch {
    return null;
  }
}

export async function clearRecovery(): Promise<void> {
  const file = path.join(configDir(), RECOVERY_FILE);
  try {
    await fsp.rm(file, { force: true });
  } catch (e) {
    throw ioError('delete', file, e, 'Check the permissions of the Netloom settings folder.');
  }
}

// ---- folder listings -----------------------------------------------------------------------------

export interface DirEntry {
  name: string;
  path: string;
  kind: 'dir' | 'file';
}

export interface DirListing {
  path: string;
  parent: string | null;
  entries: DirEntry[];
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(os.homedir(), p.slice(2));
  return p;
}

function hasExtension(name: string, extensions: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return extensions.some((e) => lower.endsWith(e));
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * A folder's sub-folders and project files (.json, .netloom; or the files of `extensions`: the app's in-page
 * file chooser lists checkpoints too), folders first, each sorted by name; hidden entries (dot names) are
 * left out. Default: the home folder, else the cwd.
 */
export async function listDir(dir?: string, extensions: readonly string[] = PROJECT_EXTENSIONS): Promise<DirListing> {
  const start = dir !== undefined && dir !== '' ? dir : os.homedir() || process.cwd();
  const abs = path.resolve(expandHome(start));
  let dirents: import('node:fs').Dirent[];
  try {
    const st = await fsp.stat(abs);
    if (!st.isDirectory())
      throw new NetloomError('NL_IO', `${abs} is a file, not a folder.`, 'Choose a folder to list, or open the file directly.');
    dirents = await fsp.readdir(abs, { withFileTypes: true });
  } catch (e) {
    if (e instanceof NetloomError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NetloomError('NL_IO', `The folder ${abs} does not exist.`, 'Go up to a folder that exists, or type another path.', { cause: e });
    throw ioError('list the folder', abs, e, 'Choose another folder.');
  }
  const entries: DirEntry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const full = path.join(abs, d.name);
    let kind: 'dir' | 'file' | undefined;
    if (d.isDirectory()) kind = 'dir';
    else if (d.isFile()) kind = 'file';
    else if (d.isSymbolicLink()) {
      // Follow links; a broken one is left out.
      const st = await fsp.stat(full).catch(() => undefined);
      kind = st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : undefined;
    }
    if (kind === 'dir' || (kind === 'file' && hasExtension(d.name, extensions))) entries.push({ name: d.name, path: full, kind });
  }
  entries.sort((a, b) => (a.kind === b.kind ? collator.compare(a.name, b.name) : a.kind === 'dir' ? -1 : 1));
  const up = path.dirname(abs);
  return { path: abs, parent: up === abs ? null : up, entries };
}
