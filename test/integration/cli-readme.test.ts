/**
 * The README as a newcomer follows it: its command block lists what `netloom --help` lists, its sample
 * output is what the CLI prints, it names no file the repository lacks, it says where Netloom keeps its
 * files, and its way of using `netloom` from any folder works.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDir } from '../../engine/data/datasets.js';
import { REGISTRY } from '../../engine/data/registry.js';
import { configDir } from '../../engine/io/project.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'engine', 'host', 'cli.js');
const QUICKSTART = join(ROOT, 'assets', 'templates', 'quickstart.json');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'netloom-readme-'));

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The README section under `## <title>` (or `### <title>`), up to the next heading of the same or a higher level. */
function section(title: string): string {
  const lines = README.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '').trim() === title);
  expect(start, `README has no section "${title}"`).toBeGreaterThanOrEqual(0);
  const level = lines[start].match(/^#+/)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.match(/^#+/)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The fenced code blocks of some README text. */
function codeBlocks(text: string): string[] {
  return [...text.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

const flagsIn = (text: string) => new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));

/** `netloom <command> --help`'s flags (without --help), per command; '' is the program's own. */
function helpFlags(): Map<string, Set<string>> {
  const top = netloom('--help');
  expect(top.code, top.err).toBe(0);
  const sectionOf = (help: string, name: string) => help.split(/\n(?=\S)/).find((s) => s.startsWith(`${name}:`)) ?? '';
  // option lines: "  -V, --version      text" / "  --batch-size <n>   text": the flag part ends at two spaces
  const options = (help: string) => {
    const flags = new Set<string>();
    for (const line of sectionOf(help, 'Options').split('\n').slice(1)) {
      const head = line.trim().split(/\s{2,}/)[0];
      for (const f of flagsIn(head)) if (f !== '--help') flags.add(f);
    }
    return flags;
  };
  const commands = sectionOf(top.out, 'Commands')
    .split('\n')
    .slice(1)
    .map((l) => /^ {2}([a-z]+)\b/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && c !== 'help');
  const out = new Map<string, Set<string>>([['', options(top.out)]]);
  for (const c of commands) {
    const r = netloom(c, '--help');
    expect(r.code, r.err).toBe(0);
    out.set(c, options(r.out));
  }
  return out;
}

/** The README's "Command line" block: `netloom <command> ...` lines (with their indented continuations) -> flags. */
function readmeFlags(): Map<string, Set<string>> {
  const block = codeBlocks(section('Command line'))[0];
  expect(block, 'the Command line section has a code block').toBeDefined();
  const out = new Map<string, Set<string>>();
  let current: string | undefined;
  for (const line of block.split('\n')) {
    const m = /^netloom(?:\s+([a-z]+))?/.exec(line);
    if (m) {
      current = m[1] ?? '';
      if (!out.has(current)) out.set(current, new Set());
    } else if (!/^\s/.test(line)) current = undefined;
    if (current !== undefined) for (const f of flagsIn(line)) out.get(current)!.add(f);
  }
  return out;
}

describe('the README and the command line agree', () => {
  it('the "Command line" block lists the same commands and the same flags as `netloom --help`', () => {
    const help = helpFlags();
    const readme = readmeFlags();
    const asObject = (m: Map<string, Set<string>>) => Object.fromEntries([...m].map(([k, v]) => [k || '(netloom)', [...v].sort()]));
    expect(asObject(readme)).toEqual(asObject(help));
  });

  it("the sample `train` output has the lines the CLI prints (a train accuracy column, the test line, the save line)", () => {
    const intro = README.indexOf('`train` prints what the PyTorch quickstart prints');
    expect(intro).toBeGreaterThan(0);
    const sample = codeBlocks(README.slice(intro))[0];
    // the shape of a line: numbers, the device's description, paths left out
    const shape = (l: string) =>
      l.trim()
        .replace(/\(.*\)/, '(…)')
        .replace(/from \S+$/, 'from …')
        .replace(/to \S+$/, 'to …')
        .replace(/\d[\d,.]*/g, 'N');
    const save = join(tmp, 'sample.safetensors');
    const r = netloom('train', QUICKSTART, '--epochs', '2', '--limit-train', '512', '--limit-test', '256', '--save', save);
    expect(r.code, r.err).toBe(0);
    const printed = new Set(r.out.split('\n').map(shape));
    const shown = sample.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '...');
    expect(shown.length).toBeGreaterThan(5);
    for (const l of shown) expect(printed, `README line "${l}" is not what netloom train prints:\n${r.out}`).toContain(shape(l));
  });
});

describe('the README is complete', () => {
  it('the project-format example names every kind of dataset a project can train on', () => {
    const example = codeBlocks(section('Project files')).find((b) => b.includes('"format": "netloom-project"'));
    expect(example).toBeDefined();
    for (const name of Object.keys(REGISTRY)) expect(example, `built-in dataset ${name}`).toContain(`"${name}"`);
    for (const type of ['torchvision', 'image-folder', 'csv']) expect(example, `dataset type ${type}`).toContain(`"type": "${type}"`);
  });

  it('names no repository file that does not exist', () => {
    // backticked `engine/x.ts`, `assets/templates/`, `NAME.md`: paths in the repository's own folders (not a
    // user's `data/` or a dataset's `MNIST/raw/`), and any document; no placeholders or globs
    const top = new Set(readdirSync(ROOT));
    const paths = [...README.matchAll(/`([^`\s]+)`/g)]
      .map((m) => m[1])
      .filter((p) => /^[\w.-]+(\/[\w.-]+)*\/?$/.test(p) && (/\.md$/.test(p) || (p.includes('/') && top.has(p.split('/')[0]))));
    expect(paths.length).toBeGreaterThan(10);
    // build/ and assets/datasets/ are made by npm install, which the tests run after; a folder that a
    // package.json script writes (build:bundle's build/datasets, made by `npm run package`) may be absent
    const scripts = Object.values((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const scriptOutput = (p: string) => scripts.some((s) => s.split(/\s+/).includes(p.replace(/\/$/, '')));
    const missing = paths.filter((p) => !existsSync(join(ROOT, p)) && !scriptOutput(p));
    expect(missing).toEqual([]);
  });

  it('the test requirements name the Chromium the browser tests launch', () => {
    const config = readFileSync(join(ROOT, 'playwright.config.ts'), 'utf8');
    const browser = /executablePath: [^'"]*['"]([^'"]+)['"]/.exec(config)?.[1];
    expect(browser).toBeDefined();
    const install = section('Run from source');
    expect(install).toMatch(/Chromium/);
    expect(install).toContain(browser!);
    expect(install).toContain('CHROMIUM_PATH');
  });

  it('says where Netloom keeps its files, how to move them and how to remove them', () => {
    const files = section('Where Netloom keeps its files');
    const tilde = (p: string) => p.replace(homedir(), '~');
    const env = { HOME: homedir() };
    expect(files).toContain(tilde(dataDir(env)));
    expect(files).toContain(tilde(configDir(env)));
    expect(files).toContain('assets/datasets');
    for (const f of ['recent.json', 'recovery.json']) expect(files).toContain(f);
    // every NETLOOM_* variable the engine reads
    const vars = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/env\.(NETLOOM_[A-Z_]+)/g)) vars.add(m[1]);
      }
    };
    walk(join(ROOT, 'engine'));
    expect(vars.size).toBeGreaterThanOrEqual(3);
    for (const v of vars) expect(files, `${v} (read in engine/)`).toContain(v);
    expect(files).toMatch(/memory/i);
    expect(files).toMatch(/64 GiB/);
    expect(files).toMatch(/rm -rf/);
  });

  it('every error code the troubleshooting names is one the CLI prints', () => {
    const codes = [...section('Troubleshooting').matchAll(/\bNL_[A-Z_]+\b/g)].map((m) => m[0]);
    expect(codes.length).toBeGreaterThanOrEqual(4);
    const known = readFileSync(join(ROOT, 'engine', 'errors.ts'), 'utf8');
    for (const c of codes) expect(known, c).toContain(`'${c}'`);
  });
});

describe("the README's way to use netloom from any folder works", () => {
  it('`npm link` (into a scratch prefix) gives a `netloom` command that runs anywhere and saves where it runs', () => {
    const link = codeBlocks(README).flatMap((b) => b.split('\n')).find((l) => /^npm link\b/.test(l.trim()));
    expect(link, 'the README shows `npm link`').toBeDefined();
    const prefix = mkdtempSync(join(tmp, 'prefix-'));
    // the same npm settings as the user's, but the global folder is a scratch one (and nothing is fetched)
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    env.NPM_CONFIG_PREFIX = prefix;
    const r = spawnSync('npm', ['link', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const bin = join(prefix, 'bin');
    const elsewhere = mkdtempSync(join(tmp, 'elsewhere-'));
    const run = (...args: string[]) =>
      spawnSync('netloom', args, { cwd: elsewhere, env: { ...env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 120_000 });
    const v = run('--version');
    expect(v.status, v.stderr).toBe(0);
    const project = relative(elsewhere, QUICKSTART);
    const t = run('train', project, '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--save', 'model.safetensors');
    expect(t.status, t.stderr).toBe(0);
    expect(existsSync(join(elsewhere, 'model.safetensors'))).toBe(true);
  });
});

describe('the quickstart leaves the checkout clean', () => {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const inCheckout = git('rev-parse', '--is-inside-work-tree').stdout?.trim() === 'true';
  it.skipIf(!inCheckout)("the README's `--save model.safetensors` is ignored by git", () => {
    const saves = [...README.matchAll(/--save (\S+\.safetensors)/g)].map((m) => m[1]);
    expect(saves).toContain('model.safetensors');
    for (const f of new Set(saves)) expect(git('check-ignore', '-q', f).status, `${f} is not git-ignored`).toBe(0);
    // the committed golden files stay tracked
    expect(git('ls-files', 'test/parity/golden').stdout).toMatch(/\.safetensors/);
  });
});
