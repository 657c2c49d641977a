/**
 * The layer rules of eslint.config.js, each shown a violation. ESLint lints a few lines as if they
 * were a file inside a layer (lintText with a path in the checkout; what they import is a real
 * file, since the rules look at resolved paths) and must report the rule, with its message. The
 * import cycle is a pair of real files (fixtures/lint/, which `npm run lint` skips).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'unit', 'fixtures', 'lint');
const eslint = new ESLint({ cwd: ROOT });

/** The file the renderer may import from the engine. Until the contract branch lands: then engine/contract/api.ts. */
const CONTRACT_FILE = 'engine/contract/api.ts';

interface Problem {
  rule: string | null;
  message: string;
}

/** Some file of `dir` (relative to the checkout) with one of `extensions`, so the probes import real files. */
function someFile(dir: string, extensions: string[]): string {
  const name = readdirSync(path.join(ROOT, dir)).sort().find((f) => extensions.some((e) => f.endsWith(e)) && !f.endsWith('.d.ts'));
  if (!name) throw new Error(`no ${extensions.join('/')} file in ${dir}: pick another folder for this probe`);
  return `${dir}/${name}`;
}

/** The problems ESLint reports for a file `file` (relative to the checkout) that imports `imports` and uses them. */
async function lintImports(file: string, imports: string[]): Promise<Problem[]> {
  const from = path.posix.dirname(file);
  const specifier = (target: string) => (target.includes('/') && !target.startsWith('node:') && existsSync(path.join(ROOT, target)) ? relative(from, target) : target);
  const code = imports.map((target, i) => `import * as m${i} from '${specifier(target)}';\n`).join('') + `export const all = [${imports.map((_, i) => `m${i}`).join(', ')}];\n`;
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

/** `target` as an import from the folder `from`, both relative to the checkout. */
function relative(from: string, target: string): string {
  const r = path.posix.relative(from, target);
  return r.startsWith('.') ? r : `./${r}`;
}

const restricted = (message: RegExp) => ({ rule: 'import-x/no-restricted-paths', message: expect.stringMatching(message) });
const restrictedPackage = (message: RegExp) => ({ rule: 'no-restricted-imports', message: expect.stringMatching(message) });

describe('the renderer imports from the engine only the contract', () => {
  it('an engine module outside the contract is refused, saying where it belongs', async () => {
    expect(await lintImports('renderer/panels/Probe.tsx', [someFile('engine/graph', ['.ts'])])).toEqual([restricted(/only through the contract \(engine\/contract\/\)/)]);
  });

  it('the native engine and the desktop shell are refused', async () => {
    expect(await lintImports('renderer/Probe.tsx', [someFile('native/binding', ['.cpp', '.h'])])).toEqual([restricted(/never loads the native engine/)]);
    expect(await lintImports('renderer/state/probe.ts', [someFile('electron', ['.ts'])])).toEqual([restricted(/runs in a browser too/)]);
  });

  it('the contract and the renderer\'s own modules are allowed', async () => {
    expect(existsSync(path.join(ROOT, CONTRACT_FILE)), CONTRACT_FILE).toBe(true);
    expect(await lintImports('renderer/panels/Probe.tsx', [CONTRACT_FILE, someFile('renderer/state', ['.ts']), 'react'])).toEqual([]);
  });
});

describe('the engine never imports the UI', () => {
  it('renderer/ and electron/ are refused', async () => {
    expect(await lintImports('engine/host/probe.ts', [someFile('renderer/state', ['.ts']), someFile('electron', ['.ts'])])).toEqual([
      restricted(/The engine runs without a UI/),
      restricted(/The engine runs outside Electron/),
    ]);
  });

  it('react, react-dom and electron are refused, and so are their sub-paths', async () => {
    expect(await lintImports('engine/train/probe.ts', ['react', 'electron', 'react-dom/client', 'react/jsx-runtime'])).toEqual([
      restrictedPackage(/'react' import is restricted.*React belongs to renderer/),
      restrictedPackage(/'electron' import is restricted.*runs outside Electron/),
      restrictedPackage(/'react-dom\/client' import is restricted/),
      restrictedPackage(/'react\/jsx-runtime' import is restricted/),
    ]);
  });
});

describe('engine/graph sits below engine/train', () => {
  it('graph importing train is refused; train importing graph is allowed', async () => {
    expect(await lintImports('engine/graph/probe.ts', [someFile('engine/train', ['.ts'])])).toEqual([restricted(/graph layer sits below training/)]);
    expect(await lintImports('engine/train/probe.ts', [someFile('engine/graph', ['.ts'])])).toEqual([]);
  });
});

describe('engine/contract imports only zod and itself', () => {
  it('zod is allowed', async () => {
    expect(await lintImports('engine/contract/probe.ts', ['zod'])).toEqual([]);
  });

  it('Node built-ins, other packages and the rest of the engine are refused', async () => {
    expect(await lintImports('engine/contract/probe.ts', ['node:fs', 'commander', someFile('engine/graph', ['.ts'])])).toEqual([
      restrictedPackage(/'node:fs' import is restricted.*imports only zod and itself/),
      restrictedPackage(/'commander' import is restricted.*imports only zod and itself/),
      restricted(/imports only zod and itself/),
    ]);
  });
});

describe('no import cycles', () => {
  const lintFile = async (name: string): Promise<Problem[]> => {
    // the fixtures are ignored by the project's lint (they break the rule on purpose)
    const [result] = await new ESLint({ cwd: ROOT, ignore: false }).lintFiles([path.join(FIXTURES, name)]);
    return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
  };

  it('two modules that import each other are refused', async () => {
    expect(await lintFile('cycle-a.ts')).toEqual([{ rule: 'import-x/no-cycle', message: expect.stringMatching(/^Dependency cycle detected/) }]);
  });

  it('two modules that import only each other\'s types are allowed (type imports are erased from the JavaScript)', async () => {
    expect(await lintFile('types-a.ts')).toEqual([]);
  });
});
