/**
 * Issue 10, item 7: the CLI and the app read a project file through one reader, so the same file
 * gets the same verdict from `netloom eval` and from the service's openProject: a UTF-8 BOM opens
 * in both; a file over the size cap, a FIFO and excessive nesting are refused by both, with the
 * same error code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';

const CLI = join(process.cwd(), 'dist', 'engine', 'host', 'cli.js');
const QUICKSTART = readFileSync(join(process.cwd(), 'assets', 'templates', 'quickstart.json'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'netloom-agree-'));
const savedEnv = { ...process.env };
const files: Record<string, string> = {};

beforeAll(() => {
  expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  process.env.NETLOOM_CONFIG_DIR = join(dir, 'config');
  files.bom = join(dir, 'bom.json');
  writeFileSync(files.bom, `\uFEFF${QUICKSTART}`);
  // valid JSON, 33 MiB: the quickstart followed by whitespace
  files.big = join(dir, 'big.json');
  writeFileSync(files.big, QUICKSTART + ' '.repeat(33 * 1024 * 1024 - Buffer.byteLength(QUICKSTART)));
  files.fifo = join(dir, 'fifo.json');
  execFileSync('mkfifo', [files.fifo]);
  const p = JSON.parse(QUICKSTART);
  p.graph.nodes[1].params.extra = '@DEEP@';
  files.deep = join(dir, 'deep.json');
  writeFileSync(files.deep, JSON.stringify(p).replace('"@DEEP@"', `${'['.repeat(5000)}${']'.repeat(5000)}`));
});

afterAll(() => {
  try {
    closeSync(openSync(files.fifo, constants.O_WRONLY | constants.O_NONBLOCK)); // releases a reader stuck in open()
  } catch {
    // nobody waits on it
  }
  process.env = { ...savedEnv };
  rmSync(dir, { recursive: true, force: true });
});

type Verdict = 'opens' | `refused ${string}`;

/** `netloom eval <file> --weights <missing>`: the project is read first; an error about --weights means it opened. */
function cliVerdict(file: string): Promise<Verdict> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'eval', file, '--weights', join(dir, 'missing.safetensors')], { env: { ...process.env } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', () => {
      const m = /error \[(NL_[A-Z_]+)\]: (.*)/.exec(err);
      if (m && m[2].startsWith('--weights')) resolve('opens');
      else resolve(m ? `refused ${m[1]}` : `refused without an error line: ${err.slice(0, 300)}`);
    });
  });
}

async function appVerdict(file: string): Promise<Verdict> {
  try {
    await new EngineService().openProject({ path: file });
    return 'opens';
  } catch (e) {
    return `refused ${(e as { code?: string }).code}`;
  }
}

describe('one verdict for one project file, from the CLI and from the app', () => {
  it.each([
    ['bom', 'opens'],
    ['big', 'refused NL_BAD_PROJECT'],
    ['fifo', 'refused NL_IO'],
    ['deep', 'refused NL_BAD_PROJECT'],
  ])('%s: %s', async (name, expected) => {
    const [cli, app] = await Promise.all([cliVerdict(files[name]), appVerdict(files[name])]);
    expect({ cli, app }).toEqual({ cli: expected, app: expected });
  }, 60_000);
});
