/** label.reasoning through the paradigms: what each label method trains on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BYTE_TOKENIZER, BOS } from '../../src/model/index.js';
import { generateSample } from '../../src/tasks/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { METHOD_REGISTRY } from '../../src/train/paradigms/index.js';
import { scoreText } from '../../src/train/paradigms/common.js';

const sample = generateSample('count', 3, { width: 64, height: 64 });
const items = [{ sample, image: 0, prompt: [BOS, 65] }];
const texts = [
  '<think>three shapes</think><answer>2</answer>',
  '<think>I see</think><answer>3</answer>',
];
const groups = [
  texts.map((text) => ({
    tokens: [...BYTE_TOKENIZER.encode(text)],
    text,
    reward: scoreText(sample, text, { referenceSize: 840, noThink: false }),
  })),
];

function labelOf(method: 'visurf' | 'chord' | 'luffy' | 'sft', reasoning: string) {
  const cfg = parseTrainConfig({ method, label: { reasoning } }, 'test');
  const paradigm = METHOD_REGISTRY[method].paradigms[0]!;
  const { members } = paradigm.members({
    step: 0,
    items,
    groups: paradigm.samplesRollouts ? groups : [],
    cfg,
    tokenizer: BYTE_TOKENIZER,
    maxNewTokens: 64,
    reward: { referenceSize: 840, noThink: false },
  });
  const label = members.find((m) => m.kind === 'label')!;
  return {
    text: BYTE_TOKENIZER.decode(label.response.slice(0, -1)),
    lossFrom: label.lossFrom ?? 0,
  };
}

test('borrowed: the best rollout reasoning, then the true answer; the reasoning is context', () => {
  const best = groups[0]!.reduce((a, b) => (b.reward.total > a.reward.total ? b : a));
  const think = /<think>(.*?)<\/think>/.exec(best.text)![1]!;
  for (const method of ['visurf', 'chord', 'luffy'] as const) {
    const l = labelOf(method, 'borrowed');
    assert.equal(l.text, `<think>${think}</think><answer>${sample.answer}</answer>`, method);
    assert.equal(l.lossFrom, BYTE_TOKENIZER.encode(`<think>${think}</think>`).length, method);
  }
});

test('teacher and none give every label method the same label; the method default differs', () => {
  for (const method of ['visurf', 'chord', 'luffy', 'sft'] as const) {
    assert.equal(
      labelOf(method, 'teacher').text,
      `<think>${sample.think}</think><answer>${sample.answer}</answer>`,
    );
    assert.equal(labelOf(method, 'none').text, `<answer>${sample.answer}</answer>`);
  }
  assert.equal(labelOf('visurf', 'method').text, `<answer>${sample.answer}</answer>`);
  assert.match(labelOf('sft', 'method').text, /^<think>/);
});

test('borrowed is refused for methods whose label steps sample no rollouts', () => {
  for (const method of ['sft', 'sft-rlvr'])
    assert.throws(
      () =>
        parseTrainConfig(
          { method, sftSteps: 1, steps: 2, label: { reasoning: 'borrowed' } },
          'cfg',
        ),
      /cfg: label\.reasoning: borrowed takes the reasoning of the group's best rollout/,
    );
});
