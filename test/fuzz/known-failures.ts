/**
 * TEMPORARY: failures the fuzzer finds on this branch whose fixes are being made on other branches
 * (issue 10, items 1-13). Each entry names its item and matches only that item's failures. The lead
 * deletes this list (and its use in fuzz.test.ts) once those branches are merged, so that any of
 * them coming back fails the test; a match is still printed in the fuzzer's report as "known".
 */
import type { Failure } from './oracle.js';

export interface KnownFailure {
  /** the issue 10 item whose fix removes it */
  item: number;
  what: string;
  matches(f: Failure): boolean;
}

export const KNOWN_FAILURES: KnownFailure[] = [
  {
    item: 4,
    what: 'a FIFO or /dev/zero as a project, checkpoint or CSV: openProject, graphCheckpointReport, startRun and `netloom train` never answer; /dev/zero is read until the heap runs out',
    matches: (f) => ['hang', 'crash', 'dead'].includes(f.type) && /FIFO|\/dev\/zero/.test(f.input),
  },
  {
    item: 5,
    what: 'params nested thousands of levels deep: openProject and analyze cannot encode their reply, writeRecovery, saveProject and startRun overflow the stack in JSON.stringify (NL_INTERNAL)',
    matches: (f) =>
      f.type === 'internal' && /^serve (analyze|openProject|writeRecovery|saveProject|startRun|checkTraining|datasetInfo)$/.test(f.target) &&
      (/nest(ed|ing) \d+ deep/.test(f.input) || /Maximum call stack size exceeded/.test(f.details ?? '')),
  },
  {
    item: 6,
    what: 'a checkpoint with a tensor named __proto__, or a name twice in its header, loads',
    matches: (f) => f.type === 'accepted' && /twice in the header|"__proto__"/.test(f.message),
  },
  {
    item: 7,
    what: 'the CLI and the app judge one project file differently (a UTF-8 BOM; an edge to a missing node is NL_BAD_PROJECT in the app, NL_BAD_GRAPH or later in the CLI)',
    matches: (f) => f.type === 'disagree',
  },
  {
    item: 9,
    what: '--lr 1e300 (or an lr that overflows float32) fails inside the program: "instruction N (step #0, adam_step): a hyper-parameter is not a finite number" (NL_INVALID_PROGRAM)',
    matches: (f) => f.code === 'NL_INVALID_PROGRAM' && /hyper-parameter is not a finite number/.test(f.message),
  },
  {
    item: 9,
    what: 'CLI values not validated where entered: --seed -1 is a native "seed must be a non-negative integer" Error, --label "" a ZodError; both end as "internal error" with a stack (exit code 2)',
    matches: (f) => f.target === 'cli train' && f.type === 'internal' && /seed must be a non-negative integer|"path": \[\s*"label"/.test(f.details ?? ''),
  },
  {
    item: 10,
    what: 'a checkpoint with a forged training position (netloom.epoch 2^53-1, ...) resumes past the run\'s end',
    matches: (f) => f.type === 'accepted' && /resumed at epoch/.test(f.message),
  },
  {
    item: 12,
    what: 'a temporary file of a save left behind (possible when serve is killed after a hang while a save was under way)',
    matches: (f) => f.type === 'files' && /\.tmp\b/.test(f.message),
  },
  {
    item: 13,
    what: 'a file that is not Netloom\'s kind (.txt, .csv, .png, .sh) overwritten when named as the target of a save',
    matches: (f) => f.type === 'files' && /not a Netloom file/.test(f.message),
  },
  {
    item: 13,
    what: 'the content of a file of another kind (a .pem key) sent back: csvPreview shows it, openProject echoes its first bytes in the refusal',
    matches: (f) => f.type === 'leak',
  },
];

export function knownItem(f: Failure): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.matches(f));
}
