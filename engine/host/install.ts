/**
 * Where this installation of Netloom is (its package.json, found by walking up from the engine's
 * own file) and which version it is: for the templates folder and the API's hello.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetloomError } from '../errors.js';

/** The nearest folder upwards holding Netloom's package.json (sources: 2 up; dist/: 3 up). */
export function netloomRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'netloom') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new NetloomError('NL_INTERNAL', 'cannot find the Netloom installation folder (no package.json named "netloom" above the engine)', 'Reinstall Netloom.');
    dir = up;
  }
}

export function netloomVersion(root: string): string {
  try {
    const v = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
