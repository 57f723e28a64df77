// Where a JSON text first breaks RFC 8259's grammar, in JSON's own words. JSON.parse says where
// only in some Node versions' messages and in V8's phrasing; a spec author needs line and column.
// Pure: only called once JSON.parse has refused the text, so speed does not matter, but depth and
// length are bounded by the text itself (iterative, no recursion).

export interface JsonSyntaxError {
  /** UTF-16 offset into the text. */
  offset: number;
  message: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const LITERALS = ['true', 'false', 'null'];
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;

function describe(text: string, at: number): string {
  if (at >= text.length) return 'the end of the text';
  const ch = text[at]!;
  if (ch === "'") return "a single quote (JSON strings take double quotes)";
  return `'${ch}'`;
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const skip = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const fail = (expected: string): JsonSyntaxError => ({ offset: i, message: `expected ${expected}, found ${describe(text, i)}` });
  // each open container: what may come next
  const stack: Array<'object' | 'array'> = [];

  const value = (): JsonSyntaxError | 'open' | undefined => {
    skip();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      stack.push(ch === '{' ? 'object' : 'array');
      i++;
      return 'open';
    }
    if (ch === '"') return string();
    for (const word of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return undefined;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return undefined;
    }
    return fail('a value (string, number, object, array, true, false or null)');
  };
  const string = (): JsonSyntaxError | undefined => {
    i++; // the opening quote
    STRING_BODY.lastIndex = i;
    STRING_BODY.test(text);
    i = STRING_BODY.lastIndex;
    if (text[i] === '"') {
      i++;
      return undefined;
    }
    if (i >= text.length) return { offset: i, message: 'unterminated string' };
    if (text[i] === '\\') return { offset: i, message: 'invalid escape in a string' };
    return { offset: i, message: 'control character in a string (write it as an escape such as \\n)' };
  };

  // After a value (or an opening bracket), what the enclosing container allows
  let afterOpen = false;
  let first = value();
  if (first && first !== 'open') return first;
  afterOpen = first === 'open';
  for (;;) {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      skip();
      return i < text.length ? fail('the end of the text after the top-level value') : undefined;
    }
    skip();
    const close = top === 'object' ? '}' : ']';
    if (text[i] === close && afterOpen) {
      stack.pop();
      i++;
      afterOpen = false;
      continue;
    }
    if (!afterOpen) {
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ',') return fail(`',' or '${close}'`);
      i++;
      skip();
      if (text[i] === close) return { offset: i, message: `trailing comma before '${close}' (JSON allows none)` };
    }
    afterOpen = false;
    if (top === 'object') {
      skip();
      if (text[i] !== '"') return fail('a property name in double quotes');
      const err = string();
      if (err) return err;
      skip();
      if (text[i] !== ':') return fail("':' after the property name");
      i++;
    }
    first = value();
    if (first && first !== 'open') return first;
    afterOpen = first === 'open';
  }
}
