/**
 * The desktop app's own settings (desktop-settings.json in its user-data folder): for now the
 * folder downloaded datasets are kept in. A damaged file is ignored, never fatal.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../engine/io/atomic.js';

export const DesktopSettings = z.object({
  version: z.literal(1).default(1),
  /** downloaded datasets (NETLOOM_DATA_DIR); absent: the engine's default cache folder */
  dataDir: z.string().refine((p) => path.isAbsolute(p), 'must be an absolute path').optional(),
});
export type DesktopSettings = z.infer<typeof DesktopSettings>;

export function readDesktopSettings(file: string): DesktopSettings {
  try {
    const r = DesktopSettings.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : { version: 1 };
  } catch {
    return { version: 1 };
  }
}

export function writeDesktopSettings(file: string, settings: DesktopSettings): void {
  writeFileAtomicSync(file, `${JSON.stringify(DesktopSettings.parse(settings), null, 2)}\n`);
}
