/**
 * Bad config files and overrides: clear ConfigErrors naming the file and key, and a fuzz of the
 * whole loading path (readConfigFile → applyOverrides → parseTrainConfig) over mutated YAML/JSON
 * texts and --set flags: only ConfigError ever escapes, every accepted config is valid and
 * JSON-serialisable, and every case finishes in bounded time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError,
  applyOverrides,
  parseTrainConfig,
  readConfigFile,
} from '../../src/train/config.js';
import { MAIN, rng, withTemp } from './helpers.js';
import { spawnSync } from 'node:child_process';

function load(path: string, sets: string[] = []) {
  return parseTrainConfig(applyOverrides(readConfigFile(path), sets), path);
}

test('malformed, unknown and mistyped config files and --set flags are ConfigErrors naming file and key', async () => {
  await withTemp(async (dir) => {
    const cases: [string, string, string[], RegExp][] = [
      ['broken.yaml', 'steps: [1, 2\nseed: 3', [], /broken\.yaml: not valid YAML\/JSON/],
      ['broken.json', '{"steps": 3,', [], /broken\.json: not valid YAML\/JSON/],
      [
        'dup.yaml',
        'steps: 3\nsteps: 4',
        [],
        /dup\.yaml: not valid YAML\/JSON: Map keys must be unique/,
      ],
      ['list.yaml', '- steps\n- 3', [], /list\.yaml: the top level must be a mapping/],
      ['scalar.json', '42', [], /scalar\.json: the top level must be a mapping/],
      [
        'unknown.yaml',
        'stepz: 3',
        [],
        /unknown\.yaml: \(root\): unknown key "stepz" \(did you mean "steps"\?\)/,
      ],
      [
        'nested.yaml',
        'rollout:\n  groupsize: 4',
        [],
        /nested\.yaml: rollout: unknown key "groupsize" \(did you mean "groupSize"\?\)/,
      ],
      [
        'type.yaml',
        'steps: ten',
        [],
        /type\.yaml: steps: Invalid input: expected number, received string/,
      ],
      ['neg.yaml', 'rollout: {groupSize: -1}', [], /neg\.yaml: rollout\.groupSize: Too small/],
      ['enum.yaml', 'method: dpo', [], /enum\.yaml: method: Invalid option/],
      ['inf.yaml', 'optim: {lr: .inf}', [], /inf\.yaml: optim\.lr: .*Infinity/],
      ['huge.yaml', 'steps: 1e400', [], /huge\.yaml: steps: .*Infinity/],
      [
        'bomb.yaml',
        'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
        [],
        /bomb\.yaml: not valid YAML\/JSON: Excessive alias count/,
      ],
      ['cycle.yaml', 'data: &a\n  taskOptions: *a', [], /cycle\.yaml: not representable as JSON/],
      [
        'proto.yaml',
        '__proto__:\n  steps: 999',
        [],
        /proto\.yaml: \(root\): unknown key "__proto__"/,
      ],
      [
        'sftrlvr.yaml',
        'method: sft-rlvr\nsteps: 4\nsftSteps: 4',
        [],
        /sftrlvr\.yaml: sftSteps: sft-rlvr needs 0 < sftSteps < steps/,
      ],
      ['ok.yaml', 'steps: 3', ['noequals'], /--set noequals: expected key=value/],
      ['ok.yaml', 'steps: 3', ['=3'], /--set =3: expected key=value/],
      ['ok.yaml', 'steps: 3', ['__proto__.polluted=1'], /--set __proto__\.polluted=1: invalid key/],
      ['ok.yaml', 'steps: 3', ['a..b=1'], /--set a\.\.b=1: invalid key/],
      ['ok.yaml', 'steps: 3', ['steps.x=1'], /--set steps\.x=1: steps is not a section/],
      ['ok.yaml', 'steps: 3', ['rollout.nope=3'], /ok\.yaml: rollout: unknown key "nope"/],
      ['ok.yaml', 'steps: 3', ['steps=abc'], /ok\.yaml: steps: Invalid input: expected number/],
    ];
    for (const [name, text, sets, re] of cases) {
      const path = join(dir, name);
      writeFileSync(path, text);
      assert.throws(
        () => load(path, sets),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
        `${name} ${sets}`,
      );
    }
    assert.throws(
      () => readConfigFile(join(dir, 'missing.yaml')),
      /missing\.yaml: cannot read \(ENOENT\)/,
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
  });
});

test('CLI: a bad config file is one clear line on stderr and exit 1, no stack trace', async () => {
  await withTemp(async (dir) => {
    const path = join(dir, 'cfg.yaml');
    writeFileSync(path, 'rollout:\n  groupsize: 4\n');
    const r = spawnSync(
      process.execPath,
      [MAIN, 'train', '--config', path, '--run-dir', join(dir, 'run')],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      `visurf: ${path}: rollout: unknown key "groupsize" (did you mean "groupSize"?)`,
    );
  });
});

const SEEDS = [
  `method: visurf
runDir: runs/x
seed: 3
model:
  init: tiny
  precision: f32
data:
  tasks: [refer, count]
  skipBadRows: false
  taskOptions: {emptyRate: 0.2}
steps: 20
promptsPerStep: 4
rollout: {groupSize: 4, temperature: 1.0, topP: 0.9}
optim:
  lr: 1.0e-4
  warmupSteps: 2
checkpoint: {every: 5, keep: 2, dtype: bf16}
onNonFinite: skip
`,
  `{"method": "sft-rlvr", "steps": 10, "sftSteps": 4, "loss": {"klCoef": 0.01, "klKind": "k1"}, "eval": {"every": 2, "size": 8}}`,
  `# comment\nmethod: rlvr\nadvantage:\n  std: population\n  eps: 1e-6\ncontrols: {align: true, eliminateThinking: false, smooth: true}\nreward: {referenceSize: 840}\n`,
  `rollout: &d {groupSize: 2}\noptim: {lr: 0.001}\n`,
];
const PIECES = [
  ':',
  ': ',
  '- ',
  '-',
  '&a ',
  '*a',
  '<<: *a\n',
  '!!binary ',
  '!!str ',
  '!!js/function ',
  '!custom ',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '\t',
  '\n',
  '  ',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  '? ',
  '|\n',
  '>\n',
  '#',
  '__proto__: ',
  'constructor: ',
  'prototype: ',
  '1e309',
  '-1e309',
  '.nan',
  '.inf',
  '~',
  'null',
  'true',
  'no',
  '0x1F',
  '0o17',
  '1_000',
  '99999999999999999999',
  '-0',
  '1e-400',
  '\u0000',
  '\ufeff',
  '\ud800',
  '😀',
  '\\',
  ',',
  '[[[[[[[[[[',
  ']]]]]]]]]]',
  '{a: {b: {c: {d: ',
  'steps',
  'rollout',
  'groupSize',
  'model',
  'init',
  'data',
  'tasks',
  'method',
  'sft-rlvr',
];
const KEYS = [
  'steps',
  'seed',
  'method',
  'rollout.groupSize',
  'rollout.topP',
  'data.tasks',
  'data.taskOptions.x',
  'optim.lr',
  'model.init',
  'checkpoint',
  'eval.size',
  'x.y.z',
  'loss',
  'sftSteps',
];
const GOOD_SETS = [
  'steps=5',
  'seed=2',
  'rollout.groupSize=3',
  'data.tasks=[count]',
  'optim.lr=0.001',
  'model.init=tiny',
  'eval.size=4',
  'noThink=true',
];
const VALUES = [
  '3',
  '-1',
  '0',
  '1e309',
  'abc',
  '[a, b]',
  '{a: 1}',
  'true',
  'null',
  '',
  '=',
  '[',
  '"x',
  '&a [*a]',
  '0.5',
  'visurf',
  'sft-rlvr',
  'tiny',
];

test('fuzz: 3000 mutated config texts with random --set flags; only ConfigError escapes, bounded time', async () => {
  await withTemp(async (dir) => {
    const r = rng(424242);
    const ri = (n: number) => Math.floor(r() * n);
    const path = join(dir, 'fuzz.yaml');
    const N = 3000;
    let accepted = 0;
    let rejected = 0;
    let worstMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      let text = SEEDS[ri(SEEDS.length)]!;
      const edits = ri(4); // 0: only the --set flags are fuzzed
      for (let e = 0; e < edits; e++) {
        const at = ri(text.length + 1);
        switch (ri(6)) {
          case 0:
          case 1:
            text = text.slice(0, at) + PIECES[ri(PIECES.length)]! + text.slice(at);
            break;
          case 2:
            text = text.slice(0, at) + text.slice(at + 1 + ri(8));
            break;
          case 3:
            text = text.slice(0, at) + String.fromCharCode(ri(0x10000)) + text.slice(at);
            break;
          case 4: {
            const lines = text.split('\n');
            const k = ri(lines.length);
            lines.splice(ri(lines.length + 1), 0, lines[k]!); // duplicate a line elsewhere
            text = lines.join('\n');
            break;
          }
          default:
            if (ri(2) === 0)
              text = text.slice(0, at); // truncation
            else text = text.slice(0, at) + (ri(2) ? '[' : '{a: ').repeat(ri(200)) + text.slice(at); // nesting
        }
      }
      const sets = Array.from({ length: ri(3) }, () =>
        ri(2)
          ? GOOD_SETS[ri(GOOD_SETS.length)]!
          : ri(8) === 0
            ? PIECES[ri(PIECES.length)]!
            : `${KEYS[ri(KEYS.length)]}=${VALUES[ri(VALUES.length)]}`,
      );
      writeFileSync(path, text);
      const c0 = performance.now();
      try {
        const cfg = load(path, sets);
        accepted++;
        // An accepted config is valid and can be recorded.
        assert.ok(Number.isInteger(cfg.steps) && cfg.steps > 0);
        assert.ok(cfg.rollout.groupSize >= 1 && cfg.optim.lr > 0 && Number.isFinite(cfg.optim.lr));
        JSON.stringify(cfg);
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          assert.fail(
            `case ${i}: ${(e as Error)?.name}: ${(e as Error)?.message}\n--- text ---\n${JSON.stringify(text)}\n--- sets --- ${JSON.stringify(sets)}`,
          );
        }
        rejected++;
      }
      worstMs = Math.max(worstMs, performance.now() - c0);
    }
    // A few very deep documents (stack depth, not just size).
    for (const depth of [1_000, 3_000, 20_000]) {
      for (const open of ['[', '{a: ', '- ']) {
        writeFileSync(path, `data:\n  taskOptions:\n    x: ${open.repeat(depth)}`);
        const c0 = performance.now();
        try {
          load(path);
          accepted++;
        } catch (e) {
          assert.ok(
            e instanceof ConfigError,
            `depth ${depth} ${open}: ${(e as Error)?.name}: ${(e as Error)?.message}`,
          );
          rejected++;
        }
        worstMs = Math.max(worstMs, performance.now() - c0);
      }
    }
    const total = performance.now() - t0;
    console.log(
      `config fuzz: ${N} mutated + 9 deep cases, ${accepted} accepted, ${rejected} ConfigError, worst ${worstMs.toFixed(1)} ms, total ${(total / 1000).toFixed(1)} s`,
    );
    assert.equal(accepted + rejected, N + 9);
    assert.ok(accepted > 300 && rejected > 1000, 'the mutations exercise both outcomes');
    assert.ok(worstMs < 3000, `a case took ${worstMs} ms`);
  });
});
