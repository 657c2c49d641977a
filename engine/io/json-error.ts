/**
 * Where and why a text is not JSON, in words that quote none of it. V8's own JSON.parse messages
 * quote the text ("Unexpected token 'h', "hello world" is not valid JSON"), which turns every reader
 * that passes them on into a way to read the first bytes of any file; this scanner finds the first
 * error itself and names it by line, column and what was expected.
 *
 * Iterative (an explicit stack), so a deeply nested text cannot overflow the call stack here.
 */

export interface JsonSyntaxProblem {
  /** UTF-16 offset of the first character that makes the text invalid */
  offset: number;
  /** 1-based line and column of `offset` */
  line: number;
  column: number;
  /** what is wrong there, quoting nothing of the text */
  problem: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

class Invalid {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

/** The first syntax error of `text` as JSON (RFC 8259), or undefined when it is valid JSON. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let pos = 0;
  const skip = () => {
    while (pos < text.length && WS.has(text[pos])) pos++;
  };
  const string = () => {
    pos++; // the opening quote
    for (;;) {
      if (pos >= text.length) throw new Invalid(pos, 'the file ends inside a string (a closing " is missing)');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return;
      }
      if (c < 0x20) throw new Invalid(pos, 'a control character (such as a line break) inside a string');
      if (c === 0x5c) {
        const e = text[pos + 1];
        if (e === 'u' && HEX4.test(text.slice(pos + 2, pos + 6))) pos += 6;
        else if (e !== undefined && ESCAPES.has(e)) pos += 2;
        else throw new Invalid(pos, 'an invalid escape sequence in a string');
      } else pos++;
    }
  };
  const key = () => {
    skip();
    if (text[pos] !== '"') throw new Invalid(pos, pos >= text.length ? 'the file ends where a property name should be' : 'a property name in double quotes was expected');
    string();
    skip();
    if (text[pos] !== ':') throw new Invalid(pos, pos >= text.length ? 'the file ends where a ":" should be' : 'a ":" was expected after the property name');
    pos++;
  };

  const stack: ('{' | '[')[] = [];
  try {
    for (;;) {
      // a value
      skip();
      if (pos >= text.length) throw new Invalid(pos, 'the file ends where a value should be');
      const c = text[pos];
      let opened = false;
      if (c === '{' || c === '[') {
        pos++;
        skip();
        if (text[pos] === (c === '{' ? '}' : ']')) pos++;
        else {
          stack.push(c);
          if (c === '{') key();
          opened = true;
        }
      } else if (c === '"') string();
      else if (c === '-' || (c >= '0' && c <= '9')) {
        NUMBER.lastIndex = pos;
        if (!NUMBER.test(text)) throw new Invalid(pos, 'an invalid number');
        pos = NUMBER.lastIndex;
      } else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, pos));
        if (!word) throw new Invalid(pos, 'a value was expected (an object, a list, a string, a number, true, false or null)');
        pos += word.length;
      }
      if (opened) continue;
      // after a value: close containers or go on to the next element
      for (;;) {
        skip();
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (pos < text.length) throw new Invalid(pos, 'more text follows the end of the JSON value');
          return undefined;
        }
        const close = top === '{' ? '}' : ']';
        if (text[pos] === close) {
          pos++;
          stack.pop();
          continue;
        }
        if (text[pos] === ',') {
          pos++;
          if (top === '{') key();
          break;
        }
        throw new Invalid(pos, pos >= text.length ? `the file ends inside ${top === '{' ? 'an object' : 'a list'}` : `a "," or "${close}" was expected`);
      }
    }
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    const before = text.slice(0, e.offset);
    const line = before.split('\n').length;
    return { offset: e.offset, line, column: e.offset - before.lastIndexOf('\n'), problem: e.problem };
  }
}

/**
 * Why `text` is not JSON, for a message ("… is not valid JSON: <this>"): the problem at its line and
 * column, never the text itself. `text` is the one JSON.parse refused.
 */
export function describeJsonError(text: string): string {
  const p = jsonSyntaxProblem(text);
  // JSON.parse refused what this scanner accepts only for limits it has and this one does not
  return p ? `${p.problem}, at line ${p.line}, column ${p.column}` : 'the parser refused it';
}
