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

describe('jsonSyntaxProblem: each problem, where it is', () => {
  it('accepts every escape, number form and whitespace of RFC 8259', () => {
    const valid = [
      '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u00E9\\u00e9\\uABCD"', '"\\u12345"', '1e5', '1E+5', '1e-5', '1e10', '-0', '9', '0.25', '19',
      ' \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ "a" \t\r\n: \t\r\n2 } ] \t\r\n', 'true', 'false', 'null', '[[], {}, [{}]]',
    ];
    for (const t of valid) {
      expect(() => JSON.parse(t), t).not.toThrow();
      expect(jsonSyntaxProblem(t), t).toBeUndefined();
    }
  });

  it('names the first problem and its offset', () => {
    const VALUE = 'a value was expected (an object, a list, a string, a number, true, false or null)';
    const cases: [string, number, string][] = [
      ['', 0, 'the file ends where a value should be'],
      [' \t\r\n', 4, 'the file ends where a value should be'],
      ['"abc', 4, 'the file ends inside a string (a closing " is missing)'],
      ['"a\u0001"', 2, 'a control character (such as a line break) inside a string'],
      ['"a\nb"', 2, 'a control character (such as a line break) inside a string'],
      ['"\\x"', 1, 'an invalid escape sequence in a string'],
      ['"\\', 1, 'an invalid escape sequence in a string'],
      ['"\\u12"', 1, 'an invalid escape sequence in a string'],
      ['"\\u00g0"', 1, 'an invalid escape sequence in a string'],
      ['{', 1, 'the file ends where a property name should be'],
      ['{"a":1,', 7, 'the file ends where a property name should be'],
      ['{1:2}', 1, 'a property name in double quotes was expected'],
      ['{"a"', 4, 'the file ends where a ":" should be'],
      ['{"a" 1}', 5, 'a ":" was expected after the property name'],
      ['{"a":', 5, 'the file ends where a value should be'],
      ['-', 0, 'an invalid number'],
      ['[1, -x]', 4, 'an invalid number'],
      ['x', 0, VALUE],
      ['[1,]', 3, VALUE],
      ['1 2', 2, 'more text follows the end of the JSON value'],
      ['{} x', 3, 'more text follows the end of the JSON value'],
      ['[1', 2, 'the file ends inside a list'],
      ['{"a":1', 6, 'the file ends inside an object'],
      ['[1 2]', 3, 'a "," or "]" was expected'],
      ['{"a":1 2}', 7, 'a "," or "}" was expected'],
      ['[1}', 2, 'a "," or "]" was expected'],
    ];
    for (const [t, offset, problem] of cases) {
      expect(() => JSON.parse(t), JSON.stringify(t)).toThrow();
      expect(jsonSyntaxProblem(t), JSON.stringify(t)).toMatchObject({ offset, problem });
    }
  });

  it('counts lines by "\\n" and columns from 1', () => {
    expect(jsonSyntaxProblem('x')).toMatchObject({ line: 1, column: 1 });
    expect(jsonSyntaxProblem('\n\n  x')).toMatchObject({ offset: 4, line: 3, column: 3 });
    expect(jsonSyntaxProblem('[1,\r\n x')).toMatchObject({ line: 2, column: 2 });
  });

  it('describeJsonError: the problem, its line and column', () => {
    expect(describeJsonError('\n [1 2]')).toBe('a "," or "]" was expected, at line 2, column 5');
    // what JSON.parse refuses only for its own limits
    expect(describeJsonError('1')).toBe('the parser refused it');
  });
});
