/**
 * The fuzzer's case groups, in the order they run. Each makes one case from a Gen (the case seed)
 * alone: the damaged files it writes and what it asks of the CLI or of serve. cli-* groups spawn one
 * `netloom` per case; serve-* groups talk to the one running `netloom serve`.
 */
import { serveApi, serveSpecial } from './cases-api.js';
import { cliCheckpoint, cliCsv, cliFlags, cliProject, cliSpecial } from './cases-cli.js';
import { serveCheckpoint, serveCsv, serveProject } from './cases-serve.js';
import type { Group } from './case-kit.js';

export type { CaseContext, Group } from './case-kit.js';

export const GROUPS: Record<string, Group> = {
  'cli-project': cliProject,
  'cli-checkpoint': cliCheckpoint,
  'cli-csv': cliCsv,
  'cli-flags': cliFlags,
  'cli-special': cliSpecial,
  'serve-project': serveProject,
  'serve-checkpoint': serveCheckpoint,
  'serve-csv': serveCsv,
  'serve-api': serveApi,
  'serve-special': serveSpecial,
};
