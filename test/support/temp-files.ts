/**
 * A temporary folder for one test file, removed after its tests, and numbered files written into it:
 * `const files = tempFiles('netloom-csv-'); const f = files.write('a,y\n1,p\n');`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

/** `last()`: the name of the file written last (for messages that quote it). */
export function tempFiles(prefix: string, ext = '.csv'): { dir: string; write(content: string | Uint8Array): string; last(): string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return {
    dir,
    write(content) {
      const file = path.join(dir, `t${++n}${ext}`);
      writeFileSync(file, content);
      return file;
    },
    last: () => `t${n}${ext}`,
  };
}
