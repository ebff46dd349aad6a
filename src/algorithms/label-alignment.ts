/**
 * Control 1 of ViSurf: render the label's answer in the textual style the
 * policy itself produces, so the label is not penalised (nor its tokens made
 * unlikely) for formatting quirks such as `[10,20]` vs `[10, 20]` or `12` vs
 * `12.0`. Only formatting changes, never values: parsing the rendered text
 * gives back exactly the label's values.
 *
 * A style records the whitespace at every structural position of a JSON
 * answer, the preferred key order and the number format. It is learned by
 * majority over the policy's parsable rollouts, position by position, with a
 * configured canonical style for whatever no rollout shows.
 */

/** A JSON value as found in answers. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Whitespace and separators of a JSON answer. Separator fields hold the full
 * text between two items, comma or colon included (e.g. `", "`, `" ,\n"`);
 * the others hold whitespace only. The root array (the list of objects) has
 * its own `list*` fields; arrays nested deeper use the `array*` fields.
 */
export interface AnswerStyle {
  /** Whitespace before and after the whole answer. */
  leading: string;
  trailing: string;
  /** Root array: after `[`, before `]`, between elements, inside `[]`. */
  listOpen: string;
  listClose: string;
  listSeparator: string;
  listEmpty: string;
  /** Objects: after `{`, before `}`, between key and value, between members, inside `{}`. */
  objectOpen: string;
  objectClose: string;
  colon: string;
  memberSeparator: string;
  objectEmpty: string;
  /** Nested arrays (e.g. the numbers of `bbox_2d`). */
  arrayOpen: string;
  arrayClose: string;
  arraySeparator: string;
  arrayEmpty: string;
  /** Preferred key order; keys not listed follow the listed ones in their own order. */
  keyOrder: string[];
  /**
   * Number format: `null` writes the shortest round-trip form (`12`, `12.5`);
   * `d` writes d decimals (`12.0` for d = 1) whenever that is lossless, and
   * the shortest form otherwise — a value is never rounded.
   */
  decimals: number | null;
}

type SlotName = Exclude<keyof AnswerStyle, 'keyOrder' | 'decimals'>;

const SLOT_NAMES: readonly SlotName[] = [
  'leading',
  'trailing',
  'listOpen',
  'listClose',
  'listSeparator',
  'listEmpty',
  'objectOpen',
  'objectClose',
  'colon',
  'memberSeparator',
  'objectEmpty',
  'arrayOpen',
  'arrayClose',
  'arraySeparator',
  'arrayEmpty',
];

/** Python `json.dumps` style, as in VisionReasoner / Seg-Zero labels. */
export const CANONICAL_ANSWER_STYLE: Readonly<AnswerStyle> = Object.freeze({
  leading: '',
  trailing: '',
  listOpen: '',
  listClose: '',
  listSeparator: ', ',
  listEmpty: '',
  objectOpen: '',
  objectClose: '',
  colon: ': ',
  memberSeparator: ', ',
  objectEmpty: '',
  arrayOpen: '',
  arrayClose: '',
  arraySeparator: ', ',
  arrayEmpty: '',
  keyOrder: Object.freeze(['bbox_2d', 'point_2d']) as string[],
  decimals: null,
});

// ---------------------------------------------------------------- rendering

/** Writes one number in the given format without ever changing its value. */
export function formatNumber(value: number, decimals: number | null): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} has no JSON form`);
  if (Object.is(value, -0)) return '-' + formatNumber(0, decimals);
  if (decimals === null) return String(value);
  const fixed = value.toFixed(decimals);
  return Number(fixed) === value ? fixed : String(value);
}

function orderedKeys(object: { [key: string]: JsonValue }, keyOrder: readonly string[]): string[] {
  const rank = (key: string): number => {
    const i = keyOrder.indexOf(key);
    return i < 0 ? keyOrder.length : i;
  };
  return Object.keys(object)
    .map((key, position) => ({ key, position }))
    .sort((a, b) => rank(a.key) - rank(b.key) || a.position - b.position)
    .map((entry) => entry.key);
}

function renderValue(value: JsonValue, style: AnswerStyle, isRoot: boolean): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return formatNumber(value, style.decimals);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const [open, close, separator, empty] = isRoot
      ? [style.listOpen, style.listClose, style.listSeparator, style.listEmpty]
      : [style.arrayOpen, style.arrayClose, style.arraySeparator, style.arrayEmpty];
    if (value.length === 0) return `[${empty}]`;
    return `[${open}${value.map((v) => renderValue(v, style, false)).join(separator)}${close}]`;
  }
  const keys = orderedKeys(value, style.keyOrder);
  if (keys.length === 0) return `{${style.objectEmpty}}`;
  const members = keys.map(
    (k) => `${JSON.stringify(k)}${style.colon}${renderValue(value[k]!, style, false)}`,
  );
  return `{${style.objectOpen}${members.join(style.memberSeparator)}${style.objectClose}}`;
}

/** Renders an answer (usually the list of objects) in the given style. */
export function renderAnswer(
  objects: JsonValue,
  style: AnswerStyle = CANONICAL_ANSWER_STYLE,
): string {
  return style.leading + renderValue(objects, style, true) + style.trailing;
}

// ------------------------------------------------------------------ parsing

/** What one answer text shows of its style. */
interface StyleObservations {
  slots: Map<SlotName, string[]>;
  numbers: { text: string; value: number }[];
  /** Key sequence of every non-empty object. */
  keySequences: string[][];
}

class ParseError extends Error {}

/** Strict JSON parser that also records the text at every structural position. */
class ObservingParser {
  private position = 0;
  readonly observed: StyleObservations = { slots: new Map(), numbers: [], keySequences: [] };

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.note('leading', this.whitespace());
    const value = this.value(true);
    this.note('trailing', this.whitespace());
    if (this.position !== this.text.length) this.fail('text after the answer');
    return value;
  }

  private fail(why: string): never {
    throw new ParseError(`${why} at ${this.position}`);
  }

  private note(slot: SlotName, text: string): void {
    const seen = this.observed.slots.get(slot);
    if (seen) seen.push(text);
    else this.observed.slots.set(slot, [text]);
  }

  private whitespace(): string {
    const start = this.position;
    while (/[ \t\n\r]/.test(this.text[this.position] ?? '')) this.position++;
    return this.text.slice(start, this.position);
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) this.fail(`expected ${char}`);
    this.position++;
  }

  /** Whitespace, the separator character, whitespace — or null at the closing bracket. */
  private separatorOrClose(
    separator: string,
    closing: string,
  ): { separator: string } | { close: string } {
    const before = this.whitespace();
    const next = this.text[this.position];
    if (next === closing) {
      this.position++;
      return { close: before };
    }
    if (next !== separator) this.fail(`expected ${separator} or ${closing}`);
    this.position++;
    return { separator: before + separator + this.whitespace() };
  }

  private value(isRoot: boolean): JsonValue {
    const c = this.text[this.position];
    if (c === '[') return this.array(isRoot);
    if (c === '{') return this.object();
    if (c === '"') return this.string();
    for (const [literal, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return value;
      }
    }
    return this.number();
  }

  private array(isRoot: boolean): JsonValue[] {
    const [open, close, separator, empty]: SlotName[] = isRoot
      ? ['listOpen', 'listClose', 'listSeparator', 'listEmpty']
      : ['arrayOpen', 'arrayClose', 'arraySeparator', 'arrayEmpty'];
    this.expect('[');
    const first = this.whitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      this.note(empty, first);
      return [];
    }
    this.note(open, first);
    const items: JsonValue[] = [];
    for (;;) {
      items.push(this.value(false));
      const next = this.separatorOrClose(',', ']');
      if ('close' in next) {
        this.note(close, next.close);
        return items;
      }
      this.note(separator, next.separator);
    }
  }

  private object(): { [key: string]: JsonValue } {
    this.expect('{');
    const result: { [key: string]: JsonValue } = {};
    const first = this.whitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      this.note('objectEmpty', first);
      return result;
    }
    this.note('objectOpen', first);
    const keys: string[] = [];
    for (;;) {
      if (this.text[this.position] !== '"') this.fail('expected a key');
      const key = this.string();
      const beforeColon = this.whitespace();
      this.expect(':');
      this.note('colon', beforeColon + ':' + this.whitespace());
      // defineProperty keeps keys such as "__proto__" as plain data, like JSON.parse.
      Object.defineProperty(result, key, {
        value: this.value(false),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      keys.push(key);
      const next = this.separatorOrClose(',', '}');
      if ('close' in next) {
        this.note('objectClose', next.close);
        this.observed.keySequences.push(keys);
        return result;
      }
      this.note('memberSeparator', next.separator);
    }
  }

  private string(): string {
    const match = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (!found) this.fail('bad string');
    this.position += found[0].length;
    return JSON.parse(found[0]) as string;
  }

  private number(): number {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (!found) this.fail('unexpected character');
    this.position += found[0].length;
    const value = Number(found[0]);
    this.observed.numbers.push({ text: found[0], value });
    return value;
  }
}

/** Parses a JSON answer strictly; undefined when it is not valid JSON. */
export function parseAnswer(text: string): JsonValue | undefined {
  return observeAnswer(text)?.value;
}

function observeAnswer(
  text: string,
): { value: JsonValue; observed: StyleObservations } | undefined {
  const parser = new ObservingParser(text);
  try {
    return { value: parser.parseDocument(), observed: parser.observed };
  } catch (error) {
    if (error instanceof ParseError) return undefined;
    throw error;
  }
}

// ----------------------------------------------------------------- learning

/** The most frequent item; ties go to the one that appears first. */
function majority<T>(items: readonly T[], keyOf: (item: T) => string): T | undefined {
  const counts = new Map<string, { item: T; count: number }>();
  for (const item of items) {
    const entry = counts.get(keyOf(item));
    if (entry) entry.count++;
    else counts.set(keyOf(item), { item, count: 1 });
  }
  let best: { item: T; count: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.count > best.count) best = entry;
  return best?.item;
}

/**
 * The number format that reproduces every number text of one answer:
 * shortest first, then 0, 1, 2… decimals; undefined when none does (or no numbers).
 */
function numberFormatOf(numbers: StyleObservations['numbers']): number | null | undefined {
  if (numbers.length === 0) return undefined;
  let maxDecimals = 0;
  for (const { text } of numbers)
    maxDecimals = Math.max(maxDecimals, /\.(\d+)/.exec(text)?.[1]?.length ?? 0);
  const candidates: (number | null)[] = [null];
  for (let d = 0; d <= maxDecimals; d++) candidates.push(d);
  return candidates.find((d) =>
    numbers.every(({ text, value }) => formatNumber(value, d) === text),
  );
}

/** Each answer's precedence votes: `a` before `b` for every pair in its first object holding both. */
function keyPrecedences(keySequences: readonly string[][]): Set<string> {
  const decided = new Set<string>();
  const precedes = new Set<string>();
  for (const keys of keySequences)
    for (let i = 0; i < keys.length; i++)
      for (let j = i + 1; j < keys.length; j++) {
        const pair = [keys[i]!, keys[j]!].sort().join('\u0000');
        if (decided.has(pair)) continue;
        decided.add(pair);
        precedes.add(`${keys[i]}\u0000${keys[j]}`);
      }
  return precedes;
}

/**
 * A total key order honouring every pairwise majority among the answers
 * (topological order; ties, unseen pairs and cycles fall back to the
 * canonical order, then to first appearance).
 */
function learnKeyOrder(perAnswer: readonly string[][][], canonical: readonly string[]): string[] {
  const universe = [...canonical];
  for (const sequences of perAnswer)
    for (const keys of sequences)
      for (const key of keys) if (!universe.includes(key)) universe.push(key);
  const votes = new Map<string, number>();
  for (const sequences of perAnswer)
    for (const edge of keyPrecedences(sequences)) votes.set(edge, (votes.get(edge) ?? 0) + 1);
  const beats = (a: string, b: string): boolean =>
    (votes.get(`${a}\u0000${b}`) ?? 0) > (votes.get(`${b}\u0000${a}`) ?? 0);
  const order: string[] = [];
  const remaining = [...universe];
  while (remaining.length > 0) {
    const free = remaining.find((k) => !remaining.some((other) => other !== k && beats(other, k)));
    const next = free ?? remaining[0]!;
    order.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return order;
}

export interface LearnedStyle {
  style: AnswerStyle;
  /** How many of the given answers parsed and were used. */
  parsable: number;
}

/**
 * Learns the answer style from the policy's own answers (the text inside
 * `<answer>…</answer>` of each rollout). Each parsable answer votes, per
 * position, for the text it uses there most often; the majority wins (ties:
 * the earliest answer). Positions no answer shows keep the canonical style;
 * with no parsable answer the canonical style is returned as is.
 */
export function learnAnswerStyle(
  answerTexts: readonly string[],
  canonical: AnswerStyle = CANONICAL_ANSWER_STYLE,
): LearnedStyle {
  const observations = answerTexts.flatMap((text) => observeAnswer(text)?.observed ?? []);
  const style: AnswerStyle = { ...canonical, keyOrder: [...canonical.keyOrder] };
  for (const slot of SLOT_NAMES) {
    const votes = observations.flatMap((o) => {
      const seen = o.slots.get(slot);
      return seen ? [majority(seen, (s) => s)!] : [];
    });
    style[slot] = majority(votes, (s) => s) ?? canonical[slot];
  }
  const formats = observations.flatMap((o) => {
    const format = numberFormatOf(o.numbers);
    return format === undefined ? [] : [format];
  });
  const decimals = majority(formats, String);
  if (decimals !== undefined) style.decimals = decimals;
  style.keyOrder = learnKeyOrder(
    observations.map((o) => o.keySequences),
    canonical.keyOrder,
  );
  return { style, parsable: observations.length };
}

export interface AlignedLabel {
  /** The label's answer text to use (aligned, or raw when alignment is off or impossible). */
  text: string;
  /** True when the text was re-rendered in a learned or canonical style. */
  aligned: boolean;
  style: AnswerStyle;
  /** Rollout answers that parsed and voted. */
  parsableRollouts: number;
}

/**
 * Control 1 for one group: the label's answer re-rendered in the style of
 * the group's rollouts. Off (`enabled: false`), or a label answer that is not
 * JSON: the raw text is returned unchanged.
 */
export function alignLabelAnswer(
  labelAnswerText: string,
  rolloutAnswerTexts: readonly string[],
  options: { enabled?: boolean; canonical?: AnswerStyle } = {},
): AlignedLabel {
  const { style, parsable } = learnAnswerStyle(rolloutAnswerTexts, options.canonical);
  const label = options.enabled === false ? undefined : parseAnswer(labelAnswerText);
  if (label === undefined)
    return { text: labelAnswerText, aligned: false, style, parsableRollouts: parsable };
  return { text: renderAnswer(label, style), aligned: true, style, parsableRollouts: parsable };
}
