/**
 * Project format migrations, tldraw style: a table of steps, each taking a document from
 * `version - 1` to `version`. Opening a file runs every step above the file's version in order,
 * then validates the result with the current schema (document.ts).
 *
 * To change the format: bump PROJECT_VERSION in document.ts, append `{ version: <new>, up }`
 * here, and add a test with a file in the old format. Steps work on plain JSON (never on the
 * zod types, which only describe the newest version) and must not mutate their input.
 *
 * Version 1 is the first format, so the table is empty; the mechanism is tested with injected
 * steps (test/unit/project-io.test.ts).
 */
import { NetloomError } from '../errors.js';
import { PROJECT_VERSION } from './document.js';

export type JsonObject = Record<string, unknown>;

export interface Migration {
  /** the version this step produces; it reads `version - 1` */
  readonly version: number;
  /** one line for logs and tests: what changed */
  readonly description: string;
  up(doc: JsonObject): JsonObject;
}

/** Every format change since version 1, oldest first. */
export const MIGRATIONS: readonly Migration[] = [];

export interface MigrationTable {
  migrations: readonly Migration[];
  /** the version the table ends at (the format this build writes) */
  current: number;
}

export const PROJECT_MIGRATIONS: MigrationTable = { migrations: MIGRATIONS, current: PROJECT_VERSION };

export interface MigrationResult {
  /** the upgraded document (or the input unchanged when it is not a versioned object) */
  doc: unknown;
  /** the file's version before migration; undefined when it has none (the schema reports that) */
  from: number | undefined;
  /** descriptions of the steps that ran, oldest first (empty when the file was current) */
  applied: string[];
}

/**
 * Checks a table: consecutive versions, each one above the last, ending at `current`.
 * A programming error, so it throws NL_INTERNAL (a test runs it over the real table).
 */
export function checkMigrationTable(table: MigrationTable): void {
  const { migrations, current } = table;
  for (let i = 1; i < migrations.length; i++)
    if (migrations[i].version !== migrations[i - 1].version + 1)
      throw new NetloomError('NL_INTERNAL', `project migrations are not consecutive: ${migrations[i - 1].version} is followed by ${migrations[i].version}`);
  const last = migrations.length ? migrations[migrations.length - 1].version : current;
  if (last !== current)
    throw new NetloomError('NL_INTERNAL', `project migrations end at version ${last} but the current format is ${current}`);
}

/**
 * Brings parsed project JSON up to the current version. Anything that is not a versioned object
 * is returned unchanged for the schema to report; a file from a newer Netloom, or one older than
 * the oldest migration, is refused with NL_BAD_PROJECT.
 */
export function migrateProject(json: unknown, source: string, table: MigrationTable = PROJECT_MIGRATIONS): MigrationResult {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { doc: json, from: undefined, applied: [] };
  const version = (json as JsonObject).version;
  if (typeof version !== 'number' || !Number.isInteger(version)) return { doc: json, from: undefined, applied: [] };
  const { migrations, current } = table;
  if (version > current)
    throw new NetloomError(
      'NL_BAD_PROJECT',
      `${source} was saved by a newer Netloom (project format ${version}; this version reads up to ${current}).`,
      'Update Netloom to open it.',
    );
  if (version === current) return { doc: json as JsonObject, from: version, applied: [] };
  const oldest = migrations.length ? migrations[0].version - 1 : current;
  if (version < oldest)
    throw new NetloomError(
      'NL_BAD_PROJECT',
      `${source} has project format ${version}, which this Netloom cannot read (the oldest it reads is ${oldest}).`,
      'Check the "version" field of the file; formats below 1 never existed in a released Netloom.',
    );
  let doc = json as JsonObject;
  const applied: string[] = [];
  for (const m of migrations) {
    if (m.version <= version) continue;
    try {
      doc = { ...m.up(doc), version: m.version };
    } catch (cause) {
      throw new NetloomError(
        'NL_BAD_PROJECT',
        `${source} could not be upgraded from project format ${m.version - 1} to ${m.version} (${m.description}): ${(cause as Error)?.message ?? String(cause)}`,
        'The file may be damaged; open it in a text editor, or restore it from a backup.',
        { cause },
      );
    }
    applied.push(m.description);
  }
  return { doc, from: version, applied };
}
