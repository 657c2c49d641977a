/**
 * json-error.ts: the scanner that says where a text stops being JSON without quoting it. Reference:
 * JSON.parse itself, on seeded damaged copies of a real project (each case is replayable by its seed);
 * and no message ever carries the text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeJsonError, jsonSyntaxProblem } from '../../engine/io/json-error.js';
import { Rng } from '../../engine/rng.js';

const QUICKSTART = readFileSync('assets/templates/quickstart.json', 'utf8');
const PIECES = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u12', '\\x', '-', '0', '01', '1e', '.5', 'true', 'tru', 'null', ' ', '\n', '\u0001', 'é', 'SECRET'];

function damaged(seed: number): string {
  const rng = new Rng(seed);
  let t = QUICKSTART;
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    const at = rng.int(t.length + 1);
    const op = rng.int(3);
    if (op === 0) t = t.slice(0, at) + t.slice(at + 1 + rng.int(4)); // delete
    else if (op === 1) t = t.slice(0, at) + PIECES[rng.int(PIECES.length)] + t.slice(at); // insert
    else t = t.slice(0, at); // truncate
  }
  return t;
}

const parses = (t: string) => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
};

describe('jsonSyntaxProblem', () => {
  it('agrees with JSON.parse on 3000 damaged projects', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const t = damaged(seed);
      expect(jsonSyntaxProblem(t) === undefined, `seed ${seed}`).toBe(parses(t));
    }
  });

  it('agrees on small cases', () => {
    const valid = ['0', '-0.5e+3', '"a\\u00e9\\n"', '[]', '{}', ' [1, {"a": [true, false, null]}] ', '{"a":{"b":{}}}'];
    const invalid = ['', ' ', '[1,]', '{"a":1,}', '{"a"}', '{a:1}', "'a'", '01', '1.', '.5', '-', '1e', '"a', '"\u0001"', '"\\x"', '[1 2]', '{"a":1 "b":2}', '1 2', 'tru', 'nul', '[', '{"a":', 'NaN', 'Infinity'];
    for (const t of valid) expect(jsonSyntaxProblem(t), t).toBeUndefined();
    for (const t of invalid) {
      expect(parses(t), t).toBe(false);
      expect(jsonSyntaxProblem(t), t).toBeDefined();
    }
  });

  it('names the line and column of the first error', () => {
    expect(jsonSyntaxProblem('{\n  "a": 1,\n  "b": x\n}')).toMatchObject({ line: 3, column: 8, offset: 19 });
    expect(jsonSyntaxProblem('[1,\n2')).toMatchObject({ line: 2, column: 2, problem: 'the file ends inside a list' });
  });

  it('a deep nesting does not overflow the stack', () => {
    expect(jsonSyntaxProblem(`${'['.repeat(200_000)}x`)).toMatchObject({ offset: 200_000 });
  });
});

describe('describeJsonError', () => {
  it('never quotes the text', () => {
    for (const t of ['SECRET', 'SECRET and more', '{"a": SECRET}', `${'x'.repeat(100)}SECRET`, '"SECRET', '[1, 2, SECRET]', '{"SECRET"}'])
      expect(describeJsonError(t), t).not.toMatch(/SECRET|xxx/);
    for (let seed = 1; seed <= 500; seed++) {
      const t = damaged(seed);
      if (!parses(t)) expect(describeJsonError(t), `seed ${seed}`).not.toContain('SECRET');
    }
  });
});
