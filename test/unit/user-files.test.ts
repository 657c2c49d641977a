/**
 * Issue 10, item 4: a file a user chooses may be a FIFO, a device or a file whose size lies. Every
 * reader of such a file refuses anything but a regular file without blocking (a FIFO open must not
 * park one of libuv's four file threads), and caps what it reads by the bytes actually read.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../support/setup.js';
import { previewCsv } from '../../engine/data/csv-preview.js';
import { loadCsv } from '../../engine/data/csv.js';
import { md5File } from '../../engine/data/download.js';
import { loadImageFolder } from '../../engine/data/images.js';
import { EngineService } from '../../engine/host/service.js';
import { openProjectFile } from '../../engine/io/project.js';
import { loadSafetensors } from '../../engine/io/safetensors.js';
import { rejection } from '../support/rejection.js';

const dir = mkdtempSync(join(tmpdir(), 'netloom-user-files-'));
const fifo = join(dir, 'pipe.json');
const savedEnv = { ...process.env };
const quickstart = () => JSON.parse(readFileSync('assets/templates/quickstart.json', 'utf8'));


beforeAllOrFail(() => {
  execFileSync('mkfifo', [fifo]);
  process.env.NETLOOM_CONFIG_DIR = join(dir, 'config');
});

afterAll(() => {
  // Had a reader blocked in open() (the unfixed engine), a writer end releases it so the worker can exit.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is blocked on it, as it should be
  }
  process.env = { ...savedEnv };
  rmSync(dir, { recursive: true, force: true });
});

describe('a FIFO chosen as a file', () => {
  it('openProject refuses it at once, and five such calls leave the file threads free: a save still works', async () => {
    const service = new EngineService();
    const tries = await Promise.allSettled(Array.from({ length: 5 }, () => service.openProject({ path: fifo })));
    for (const t of tries) {
      expect(t.status).toBe('rejected');
      const e = (t as PromiseRejectedResult).reason;
      expect({ code: e.code, message: e.message }).toMatchObject({ code: 'NL_IO', message: expect.stringMatching(/pipe\.json is a named pipe \(FIFO\), not a regular file/) });
    }
    const saved = await service.saveProject({ path: join(dir, 'saved.json'), project: quickstart() });
    expect(saved.path).toBe(join(dir, 'saved.json'));
    expect((await service.listDir({ path: dir })).entries.map((e) => e.name)).toContain('saved.json');
  }, 30_000);

  it('the checkpoint, checksum, CSV, CSV preview and image readers refuse it too', async () => {
    expect(await rejection(loadSafetensors(fifo))).toMatchObject({ code: 'NL_IO', message: expect.stringMatching(/named pipe/) });
    // a dataset file's checksum (a FIFO in the data folder)
    expect(await rejection(md5File(fifo))).toMatchObject({ code: 'NL_IO', message: expect.stringMatching(/named pipe/) });
    expect(await rejection(previewCsv(fifo))).toMatchObject({ message: expect.stringMatching(/named pipe/) });
    // the reader's own refusal as it is, not wrapped as a read error
    expect(await rejection(loadCsv(fifo, { label: 'y', task: 'classification', features: 'all-but-label', standardize: false }))).toEqual({ code: 'NL_IO', message: `${fifo} is a named pipe (FIFO), not a regular file` });
    // an image folder's class holding a FIFO named like an image: the FIFO is not an image file
    const root = join(dir, 'images');
    execFileSync('mkdir', ['-p', join(root, 'a')]);
    execFileSync('mkfifo', [join(root, 'a', 'x.png')]);
    expect(await rejection(loadImageFolder(root, { mode: 'grey' }))).toMatchObject({ code: 'NL_BAD_DATASET', message: expect.stringMatching(/holds no PNG or JPEG images/) });
  }, 30_000);
});

describe('a device file', () => {
  it('/dev/zero is refused as a project before anything is read', async () => {
    expect(await rejection(openProjectFile('/dev/zero'))).toMatchObject({ code: 'NL_IO', message: '/dev/zero is a character device, not a regular file' });
  });
});
