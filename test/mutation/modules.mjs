/**
 * The modules under mutation testing (`npm run test:mutation`): those where a bug is a security
 * or data-loss bug. Each group names its source files and the test files that prove them; Stryker
 * runs only those tests (and, per mutant, only the tests that reach it), so a run stays short.
 * `NETLOOM_MUTATE=io,csv npm run test:mutation` runs some groups only.
 */
export const MODULES = {
  host: {
    mutate: ['engine/host/serve.ts', 'engine/host/loopback.ts', 'engine/host/request-path.ts'],
    tests: [
      'test/unit/loopback.test.ts', 'test/unit/request-path.test.ts', 'test/integration/serve.test.ts', 'test/integration/serve-guards.test.ts',
      'test/integration/serve-responses.test.ts', 'test/integration/serve-connections.test.ts', 'test/integration/token-property.test.ts', 'test/unit/json-depth.test.ts',
    ],
  },
  io: {
    mutate: ['engine/io/atomic.ts', 'engine/io/project.ts', 'engine/io/safetensors.ts', 'engine/io/read-file.ts', 'engine/io/file-kinds.ts', 'engine/io/json-limits.ts', 'engine/io/json-error.ts'],
    tests: [
      'test/unit/atomic.test.ts', 'test/unit/project-io.test.ts', 'test/unit/safetensors.test.ts', 'test/unit/safetensors-keys.test.ts',
      'test/unit/read-file.test.ts', 'test/unit/file-kinds.test.ts', 'test/unit/json-depth.test.ts', 'test/unit/json-error.test.ts',
      'test/unit/json-limits.test.ts', 'test/unit/user-files.test.ts', 'test/integration/file-guards.test.ts',
    ],
  },
  csv: {
    mutate: ['engine/data/csv-parse.ts', 'engine/data/csv-table.ts', 'engine/data/csv.ts'],
    tests: ['test/unit/csv.test.ts', 'test/unit/csv-property.test.ts', 'test/unit/csv-table.test.ts', 'test/unit/csv-options.test.ts', 'test/unit/csv-preview.test.ts', 'test/unit/user-files.test.ts'],
  },
  images: {
    mutate: ['engine/data/images.ts'],
    tests: ['test/unit/images.test.ts', 'test/unit/playground-input.test.ts', 'test/unit/user-files.test.ts', 'test/integration/image-bomb.test.ts'],
  },
  // the restricted unpickler and the zip reader: a bug there runs a stranger's code or reads past a buffer
  torch: {
    mutate: ['engine/io/pickle-read.ts', 'engine/io/torch-zip.ts', 'engine/io/torch-pickle.ts', 'engine/io/torch-legacy.ts'],
    tests: ['test/unit/torch-pickle.test.ts', 'test/unit/torch-legacy.test.ts', 'test/unit/torch-file.test.ts'],
  },
  // a group's path is every state-dict key under it: a bug renames weights, and checkpoints stop loading
  groups: {
    mutate: ['engine/graph/groups.ts'],
    tests: ['test/unit/groups.test.ts', 'test/unit/groups-analysis.test.ts', 'test/integration/groups.test.ts'],
  },
  // what serve sends: a bug there corrupts the app's code on its way to the browser
  serve: {
    mutate: ['engine/host/compression.ts'],
    tests: ['test/unit/compression.test.ts', 'test/integration/serve-compression.test.ts'],
  },
  checkpoints: {
    mutate: ['engine/train/checkpoints.ts', 'engine/io/checkpoint.ts', 'engine/io/checkpoint-formats.ts'],
    tests: ['test/addon/checkpoints.test.ts', 'test/unit/checkpoint-format.test.ts', 'test/unit/checkpoint-sniff.test.ts', 'test/integration/resume-metadata.test.ts'],
  },
};

/** The groups picked by NETLOOM_MUTATE (comma-separated), all by default. */
export function pickedModules(env = process.env) {
  const names = env.NETLOOM_MUTATE ? env.NETLOOM_MUTATE.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(MODULES);
  const unknown = names.filter((n) => !(n in MODULES));
  if (unknown.length > 0) throw new Error(`NETLOOM_MUTATE names no module group: ${unknown.join(', ')} (groups: ${Object.keys(MODULES).join(', ')})`);
  return names.map((n) => MODULES[n]);
}
