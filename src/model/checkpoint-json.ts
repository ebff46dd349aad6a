/**
 * JSON files of a checkpoint (config.json, tokenizer.json, ...): strict parsing with errors that
 * name the file and the line/column of the problem.
 *
 * V8's JSON.parse messages only sometimes carry a position ("Unexpected token '}', ... is not
 * valid JSON" does not), so on failure a small scanner re-reads the text to locate the first
 * syntax error. It runs only on the error path, iteratively (no recursion on nesting depth).
 */
import { CheckpointError, describeError } from './checkpoint-error.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decode bytes as UTF-8 (strict) and parse as JSON; errors are CheckpointErrors for `source`. */
export function parseJsonBytes(bytes: Uint8Array, source: string): unknown {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    throw new CheckpointError(source, 'not valid UTF-8 text');
  }
  return parseJsonText(text, source);
}

export function parseJsonText(text: string, source: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // tolerate a BOM from editors
  try {
    return JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new CheckpointError(source, 'empty file, expected JSON');
    const offset = findJsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset);
    const near = text.slice(offset, offset + 20).replace(/\s+/g, ' ');
    const where = offset >= text.length ? 'at end of input' : `near ${JSON.stringify(near)}`;
    throw new CheckpointError(
      source,
      `invalid JSON at line ${line}, column ${column} (offset ${offset}) ${where}: ${describeError(e).replace(/\s+/g, ' ').slice(0, 160)}`,
      { cause: e },
    );
  }
}

/** Serialise a JSON value for a checkpoint file; non-serialisable values are CheckpointErrors. */
export function stringifyJson(value: unknown, source: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value, null, 2);
  } catch (e) {
    throw new CheckpointError(source, `value is not JSON-serialisable (${describeError(e)})`, {
      cause: e,
    });
  }
  if (s === undefined)
    throw new CheckpointError(source, `value is not JSON-serialisable (got ${typeof value})`);
  return `${s}\n`;
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Offset of the first JSON syntax error in `s` (s.length if the input ends early), or -1 if
 * `s` is valid JSON.
 */
export function findJsonErrorOffset(s: string): number {
  let i = 0;
  const stack: ('o' | 'a')[] = [];
  type State = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'after';
  let state: State = 'value';
  const skipWs = () => {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const scanString = (): boolean => {
    i++; // opening quote
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const n = s[i + 1];
        if (n !== undefined && '"\\/bfnrt'.includes(n)) i += 2;
        else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  for (;;) {
    skipWs();
    const c = s[i];
    // An empty container may close right after it opens.
    if ((state === 'valueOrClose' && c === ']') || (state === 'keyOrClose' && c === '}')) {
      i++;
      stack.pop();
      state = 'after';
      continue;
    }
    if (state === 'value' || state === 'valueOrClose') {
      if (c === '{') {
        stack.push('o');
        i++;
        state = 'keyOrClose';
      } else if (c === '[') {
        stack.push('a');
        i++;
        state = 'valueOrClose';
      } else if (c === '"') {
        if (!scanString()) return i;
        state = 'after';
      } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(s)) return i;
        i = NUMBER.lastIndex;
        state = 'after';
      } else {
        const lit = ['true', 'false', 'null'].find((l) => s.startsWith(l, i));
        if (!lit) return i;
        i += lit.length;
        state = 'after';
      }
    } else if (state === 'key' || state === 'keyOrClose') {
      if (c !== '"' || !scanString()) return i;
      skipWs();
      if (s[i] !== ':') return i;
      i++;
      state = 'value';
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return i < s.length ? i : -1;
      if (c === ',') {
        i++;
        state = top === 'o' ? 'key' : 'value';
      } else if ((top === 'o' && c === '}') || (top === 'a' && c === ']')) {
        i++;
        stack.pop();
      } else return i;
    }
  }
}
