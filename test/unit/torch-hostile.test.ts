/**
 * Hostile .pt/.pth files: pickles that Python's own pickle.loads (and so torch.load without
 * weights_only) would run a command from. Each one's command creates a marker file; Netloom must
 * refuse the file naming the global it asks for, and the marker must not exist afterwards. Where
 * Python is present, the same bytes given to pickle.loads create the marker, which proves the test
 * file really is hostile (and not refused for some other reason).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointFile } from '../../engine/io/checkpoint.js';
import { writeZip } from '../../engine/io/torch-zip.js';
import { PYTHON, itWithPython } from '../python-reference.js';
import { refusal } from '../support/rejection.js';

const tmp = mkdtempSync(join(tmpdir(), 'netloom-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (s: string) => Array.from(Buffer.from(s, 'utf8'));
/** BINUNICODE s */
const str = (s: string) => {
  const b = enc(s);
  return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
};
/** protocol 2: GLOBAL module name, then `args` (already a pickled tuple), REDUCE, STOP */
const call = (module: string, name: string, args: number[]) => Uint8Array.from([0x80, 2, 0x63, ...enc(`${module}\n${name}\n`), ...args, 0x52, 0x2e]);
/** protocol 4: STACK_GLOBAL of (module, dotted name), as Python resolves `torch` + `os.system` to torch.os.system */
const stackCall = (module: string, name: string, args: number[]) => Uint8Array.from([0x80, 4, ...str(module), ...str(name), 0x93, ...args, 0x52, 0x2e]);
const tuple1 = (item: number[]) => [...item, 0x85];
const list = (...items: number[][]) => [0x5d, 0x28, ...items.flat(), 0x65];

interface Case {
  name: string;
  global: string;
  /** the pickle, given the marker file its command creates */
  pickle: (marker: string) => Uint8Array;
  python: string[];
}

const CASES: Case[] = [
  { name: 'os.system', global: 'os.system', pickle: (m) => call('os', 'system', tuple1(str(`touch ${m}`))), python: ['pickle'] },
  { name: 'posix.system', global: 'posix.system', pickle: (m) => call('posix', 'system', tuple1(str(`touch ${m}`))), python: ['pickle'] },
  { name: 'builtins.eval', global: 'builtins.eval', pickle: (m) => call('builtins', 'eval', tuple1(str(`open(${JSON.stringify(m)}, "w").close()`))), python: ['pickle'] },
  { name: 'builtins.exec', global: 'builtins.exec', pickle: (m) => call('builtins', 'exec', tuple1(str(`open(${JSON.stringify(m)}, "w").close()`))), python: ['pickle'] },
  { name: 'subprocess.Popen', global: 'subprocess.Popen', pickle: (m) => call('subprocess', 'Popen', tuple1(list(str('touch'), str(m)))), python: ['pickle'] },
  { name: 'subprocess.check_output', global: 'subprocess.check_output', pickle: (m) => call('subprocess', 'check_output', tuple1(list(str('touch'), str(m)))), python: ['pickle'] },
  // an allowed-looking global: module torch, but a name that reaches os.system through torch's own imports
  { name: 'torch + os.system (STACK_GLOBAL)', global: 'torch.os.system', pickle: (m) => stackCall('torch', 'os.system', tuple1(str(`touch ${m}`))), python: ['torch'] },
  // the allowed module with a wrong name
  { name: 'torch._utils + torch.os.system', global: 'torch._utils.torch.os.system', pickle: (m) => stackCall('torch._utils', 'torch.os.system', tuple1(str(`touch ${m}`))), python: ['torch'] },
];

/** As a torch.save zip (the pickle as archive/data.pkl) and as a bare pickle (what the legacy reader gets). */
function hostileFiles(c: Case, marker: string): string[] {
  const slug = c.name.replace(/[^a-z]+/gi, '_');
  const pkl = c.pickle(marker);
  const zip = join(tmp, `${slug}.pt`);
  writeFileSync(zip, writeZip([['archive/data.pkl', pkl], ['archive/version', Buffer.from('3\n')]]));
  const bare = join(tmp, `${slug}.pth`);
  writeFileSync(bare, pkl);
  return [zip, bare];
}

describe('hostile pickles are refused by name, and nothing runs', () => {
  it.each(CASES)('$name', async (c) => {
    const marker = join(tmp, `ran-${c.name.replace(/[^a-z]+/gi, '_')}`);
    for (const f of hostileFiles(c, marker)) {
      const e = await refusal(readCheckpointFile(f));
      expect(e).toMatchObject({ code: 'NL_BAD_CHECKPOINT' });
      expect(e.message).toBe(`${f}: refusing to load: the pickle asks for ${c.global}, which a checkpoint never needs (Netloom reads tensors, dicts and lists only; loading a checkpoint never runs code)`);
      expect(e.hint).toMatch(/Do not load this file in Python either/);
    }
    // give a command that was started in the background (Popen) time to show
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(false);
  });

  it('a whole pickled model (a class in __main__ or torch.nn) is refused with the state_dict() hint', async () => {
    for (const [module, name] of [['__main__', 'NeuralNetwork'], ['torch.nn.modules.linear', 'Linear']]) {
      const f = join(tmp, `${name}.pt`);
      // torch.save(model) with protocol 2: GLOBAL class, then copyreg's NEWOBJ machinery; refused at the GLOBAL
      writeFileSync(f, writeZip([['archive/data.pkl', Uint8Array.from([0x80, 2, 0x63, ...enc(`${module}\n${name}\n`), 0x71, 0, 0x29, 0x81, 0x2e])]]));
      const e = await refusal(readCheckpointFile(f));
      expect(e.message).toContain(`the pickle asks for ${module}.${name}`);
      expect(e.hint).toMatch(/whole pickled model.*torch\.save\(model\.state_dict\(\), path\)/);
    }
  });
});

describe('the same bytes run a command in Python (so the files above are really hostile)', () => {
  for (const c of CASES) {
    itWithPython(c.python, 'hostile-pickle proofs')(`${c.name}: pickle.loads runs it`, () => {
      const marker = join(tmp, `python-${c.name.replace(/[^a-z]+/gi, '_')}`);
      const [, bare] = hostileFiles(c, marker);
      const script = `import pickle, sys\n${c.python.includes('torch') ? 'import torch\n' : ''}r = pickle.loads(open(sys.argv[1], "rb").read())\ngetattr(r, "wait", lambda: None)()`;
      const p = spawnSync(PYTHON, ['-c', script, bare], { encoding: 'utf8' });
      expect(p.status, p.stderr).toBe(0);
      expect(existsSync(marker)).toBe(true);
    }, 60_000);
  }
});
