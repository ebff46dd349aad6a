/**
 * Control 1: the label is rendered in the policy's own answer style.
 * Formatting only, never values: parse(render(x, style)) deep-equals x for
 * random styles and objects, and any answer re-rendered in the style learned
 * from it reproduces its text exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CANONICAL_ANSWER_STYLE,
  alignLabelAnswer,
  formatNumber,
  learnAnswerStyle,
  parseAnswer,
  renderAnswer,
  type AnswerStyle,
  type JsonValue,
} from '../../src/algorithms/index.js';
import { seededRandom } from './approx.js';

const LABEL_OBJECTS: JsonValue = [{ point_2d: [20, 30], bbox_2d: [10, 20, 30, 40] }];

test('canonical style is json.dumps: bbox_2d first, ", " and ": "', () => {
  assert.equal(
    renderAnswer(LABEL_OBJECTS),
    '[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]',
  );
  assert.equal(renderAnswer([]), '[]');
});

test('compact rollouts with point_2d first: the label follows them', () => {
  const rollouts = [
    '[{"point_2d":[5,6],"bbox_2d":[1,2,3,4]}]',
    '[{"point_2d":[7,8],"bbox_2d":[0,0,9,9]},{"point_2d":[1,1],"bbox_2d":[0,0,2,2]}]',
  ];
  const { text, aligned, style, parsableRollouts } = alignLabelAnswer(
    '[{"bbox_2d": [10, 20, 30, 40], "point_2d": [20, 30]}]',
    rollouts,
  );
  assert.equal(text, '[{"point_2d":[20,30],"bbox_2d":[10,20,30,40]}]');
  assert.equal(aligned, true);
  assert.equal(parsableRollouts, 2);
  assert.deepEqual(style.keyOrder, ['point_2d', 'bbox_2d']);
  assert.equal(style.colon, ':');
  assert.equal(style.listSeparator, ',');
});

test('number format: 12.0-style rollouts give decimals, never rounding', () => {
  const { style } = learnAnswerStyle(['[{"bbox_2d": [10.0, 20.0, 30.5, 40.0]}]']);
  assert.equal(style.decimals, 1);
  assert.equal(
    renderAnswer([{ bbox_2d: [1, 2, 3, 4] }], style),
    '[{"bbox_2d": [1.0, 2.0, 3.0, 4.0]}]',
  );
  // 12.25 cannot be written with one decimal without changing it: it keeps its own digits.
  assert.equal(renderAnswer([12.25, 12.5], style), '[12.25, 12.5]');
  assert.equal(formatNumber(-0, 2), '-0.00');
  assert.equal(
    learnAnswerStyle(['[1, 2.5, 3]']).style.decimals,
    null,
    'integers and short decimals: shortest form',
  );
  assert.equal(learnAnswerStyle(['[1.50, 2.25]']).style.decimals, 2);
});

test('surrounding whitespace and newlines are learned', () => {
  const rollout = '\n[\n  {"bbox_2d": [1, 2, 3, 4]}\n]\n';
  const { style } = learnAnswerStyle([rollout]);
  assert.equal(style.leading, '\n');
  assert.equal(style.listOpen, '\n  ');
  assert.equal(style.listClose, '\n');
  assert.equal(style.trailing, '\n');
  assert.equal(renderAnswer(parseAnswer(rollout)!, style), rollout);
});

test('the majority style wins position by position; unparsable rollouts do not vote', () => {
  const compact = '[{"bbox_2d":[1,2,3,4],"point_2d":[2,3]}]';
  const spaced = '[{"bbox_2d": [1, 2, 3, 4], "point_2d": [2, 3]}]';
  const rollouts = [
    spaced,
    compact,
    'I think it is at (1, 2)',
    compact,
    spaced,
    compact,
    '[{"bbox_2d": [1, 2',
  ];
  const { style, parsable } = learnAnswerStyle(rollouts);
  assert.equal(parsable, 5);
  assert.equal(
    renderAnswer(LABEL_OBJECTS, style),
    '[{"bbox_2d":[10,20,30,40],"point_2d":[20,30]}]',
  );
  // Ties go to the style seen first.
  assert.equal(learnAnswerStyle([spaced, compact]).style.colon, ': ');
  assert.equal(learnAnswerStyle([compact, spaced]).style.colon, ':');
});

test('no parsable rollout: the configured canonical style is used', () => {
  const none = alignLabelAnswer('[{"bbox_2d":[1,2,3,4]}]', ['no idea', '']);
  assert.equal(none.parsableRollouts, 0);
  assert.equal(none.text, '[{"bbox_2d": [1, 2, 3, 4]}]');
  const custom: AnswerStyle = {
    ...CANONICAL_ANSWER_STYLE,
    arraySeparator: ',',
    keyOrder: ['point_2d', 'bbox_2d'],
  };
  assert.equal(
    alignLabelAnswer('[{"bbox_2d": [1, 2, 3, 4], "point_2d": [2, 3]}]', [], { canonical: custom })
      .text,
    '[{"point_2d": [2,3], "bbox_2d": [1,2,3,4]}]',
  );
  // Rollouts answering "none" ([]) show only the empty-list position; the rest stays canonical.
  assert.equal(
    alignLabelAnswer('[{"bbox_2d":[1,2,3,4]}]', ['[ ]', '[ ]']).text,
    '[{"bbox_2d": [1, 2, 3, 4]}]',
  );
  assert.equal(alignLabelAnswer('[]', ['[ ]', '[ ]']).text, '[ ]');
});

test('alignment off, or a label that is not JSON: the raw text is kept', () => {
  const raw = '[{"bbox_2d":[1,2,3,4]}]';
  assert.deepEqual(
    {
      ...alignLabelAnswer(raw, ['[{"bbox_2d": [0, 0, 1, 1]}]'], { enabled: false }),
      style: undefined,
    },
    { text: raw, aligned: false, style: undefined, parsableRollouts: 1 },
  );
  assert.equal(alignLabelAnswer('three', ['[1]']).text, 'three');
  assert.equal(alignLabelAnswer('three', ['[1]']).aligned, false);
});

test('parser is strict JSON and agrees with JSON.parse', () => {
  for (const bad of ['', '[1,]', '[01]', "[{'a': 1}]", '{"a" 1}', '[1] x', '[1.]', 'nul'])
    assert.equal(parseAnswer(bad), undefined, bad);
  for (const good of ['[]', ' {"a": [1, -2.5e3, true, null, "x\\"y"]} ', '3', '"s"', '[[1,2],[3]]'])
    assert.deepEqual(parseAnswer(good), JSON.parse(good));
});

// ----------------------------------------------------------- property tests

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomStyle(random: () => number): AnswerStyle {
  const ws = () => pick(random, ['', '', ' ', '  ', '\n', '\n  ', '\t', ' \n']);
  const sep = (c: string) => pick(random, ['', '', ' ']) + c + ws();
  return {
    leading: ws(),
    trailing: ws(),
    listOpen: ws(),
    listClose: ws(),
    listSeparator: sep(','),
    listEmpty: ws(),
    objectOpen: ws(),
    objectClose: ws(),
    colon: sep(':'),
    memberSeparator: sep(','),
    objectEmpty: ws(),
    arrayOpen: ws(),
    arrayClose: ws(),
    arraySeparator: sep(','),
    arrayEmpty: ws(),
    keyOrder: random() < 0.5 ? ['bbox_2d', 'point_2d', 'label'] : ['point_2d', 'label', 'bbox_2d'],
    decimals: pick(random, [null, null, 0, 1, 2, 3]),
  };
}

function randomNumber(random: () => number): number {
  const kind = Math.floor(random() * 6);
  if (kind === 0) return Math.floor(random() * 1000);
  if (kind === 1) return Math.round(random() * 10000) / 10;
  if (kind === 2) return -Math.round(random() * 1000) / 100;
  if (kind === 3) return random() * 1e6;
  if (kind === 4) return pick(random, [0, -0, 1e-7, 1e21, 123456789012]);
  return Math.round(random() * 100) / 8;
}

function randomObjects(random: () => number): JsonValue {
  const count = Math.floor(random() * 4);
  return Array.from({ length: count }, () => {
    const object: { [key: string]: JsonValue } = {};
    const keys = ['bbox_2d', 'point_2d', 'label', 'extra'].filter(() => random() < 0.7);
    if (random() < 0.5) keys.reverse();
    for (const key of keys) {
      if (key === 'bbox_2d') object[key] = Array.from({ length: 4 }, () => randomNumber(random));
      else if (key === 'point_2d')
        object[key] = Array.from({ length: 2 }, () => randomNumber(random));
      else if (key === 'label')
        object[key] = pick(random, ['cat', 'a "quoted" thing', 'ünïcode\n', '']);
      else object[key] = pick(random, [null, true, [], {}, randomNumber(random)]);
    }
    return object;
  });
}

test('property: rendering never changes values (parse(render(x, style)) deep-equals x)', () => {
  const random = seededRandom(2024);
  for (let i = 0; i < 500; i++) {
    const objects = randomObjects(random);
    const text = renderAnswer(objects, randomStyle(random));
    assert.deepEqual(JSON.parse(text), objects, text);
    assert.deepEqual(parseAnswer(text), objects, text);
  }
});

test('property: an answer re-rendered in the style learned from it reproduces its text exactly', () => {
  const random = seededRandom(99);
  for (let i = 0; i < 500; i++) {
    const text = renderAnswer(randomObjects(random), randomStyle(random));
    const { style, parsable } = learnAnswerStyle([text]);
    assert.equal(parsable, 1);
    assert.equal(renderAnswer(parseAnswer(text)!, style), text, JSON.stringify(text));
  }
});

test('property: a label aligned to rollouts of one style takes that style and keeps its values', () => {
  const random = seededRandom(5);
  for (let i = 0; i < 200; i++) {
    const style = randomStyle(random);
    const rollouts = Array.from({ length: 4 }, () => renderAnswer(randomObjects(random), style));
    const label = randomObjects(random);
    const aligned = alignLabelAnswer(renderAnswer(label), rollouts); // (JSON.stringify would lose -0)
    assert.deepEqual(JSON.parse(aligned.text), label);
    // Where the rollouts showed a position, the label uses the rollouts' text there.
    const learned = learnAnswerStyle(rollouts).style;
    for (const slot of ['colon', 'arraySeparator', 'listSeparator'] as const) {
      const shown = rollouts.some(
        (r) =>
          learnAnswerStyle([r], { ...CANONICAL_ANSWER_STYLE, [slot]: '\u0000' }).style[slot] !==
          '\u0000',
      );
      if (shown) assert.equal(learned[slot], style[slot], slot);
    }
  }
});
