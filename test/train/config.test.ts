import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  applyOverrides,
  parseTrainConfig,
  readConfigFile,
} from '../../src/train/config.js';

const dir = mkdtempSync(join(tmpdir(), 'visurf-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('defaults: ViSurf with all three reward controls on, KL off, GRPO aggregation', () => {
  const c = parseTrainConfig({});
  assert.equal(c.method, 'visurf');
  assert.deepEqual(c.controls, { align: true, eliminateThinking: true, smooth: true });
  assert.equal(c.loss.klCoef, 0);
  assert.equal(c.loss.aggregation, 'seq-mean-token-mean');
  assert.equal(c.advantage.std, 'sample');
});

test('YAML file plus --set overrides (numbers, booleans, lists, nested keys)', () => {
  const raw = readConfigFile(
    file('a.yaml', 'method: rlvr\nrollout:\n  groupSize: 4\ndata:\n  tasks: [refer]\n'),
  );
  const c = parseTrainConfig(
    applyOverrides(raw, [
      'rollout.temperature=0.7',
      'controls.smooth=false',
      'data.tasks=[nonobj, count]',
      'steps=7',
    ]),
    'a.yaml',
  );
  assert.equal(c.method, 'rlvr');
  assert.equal(c.rollout.groupSize, 4);
  assert.equal(c.rollout.temperature, 0.7);
  assert.equal(c.controls.smooth, false);
  assert.deepEqual(c.data.tasks, ['nonobj', 'count']);
  assert.equal(c.steps, 7);
  assert.equal(raw.steps, undefined, 'overrides do not mutate the file contents');
});

test('errors name the file and the key', () => {
  assert.throws(
    () => parseTrainConfig({ rollout: { groupSize: 0 } }, 'b.yaml'),
    (e: Error) => e instanceof ConfigError && /b\.yaml: rollout\.groupSize/.test(e.message),
  );
  assert.throws(
    () => parseTrainConfig({ rollout: { gropuSize: 4 } }, 'b.yaml'),
    (e: Error) =>
      e instanceof ConfigError && /b\.yaml: rollout/.test(e.message) && /gropuSize/.test(e.message),
  );
  assert.throws(() => parseTrainConfig({ method: 'ppo' }, 'b.yaml'), /b\.yaml: method/);
  assert.throws(
    () => parseTrainConfig({ method: 'sft-rlvr', steps: 10, sftSteps: 10 }, 'c.yaml'),
    /c\.yaml: sftSteps/,
  );
  assert.throws(
    () => readConfigFile(file('bad.yaml', 'a: [1, 2\n')),
    (e: Error) => e instanceof ConfigError && /bad\.yaml: not valid YAML/.test(e.message),
  );
  assert.throws(
    () => readConfigFile(file('list.yaml', '- 1\n- 2\n')),
    /list\.yaml: the top level must be a mapping/,
  );
  assert.throws(
    () => readConfigFile(join(dir, 'missing.yaml')),
    /missing\.yaml: cannot read \(ENOENT\)/,
  );
  assert.throws(() => applyOverrides({}, ['steps']), /--set steps: expected key=value/);
  assert.throws(() => applyOverrides({}, ['__proto__.x=1']), /invalid key/);
  assert.throws(() => applyOverrides({ steps: 3 }, ['steps.x=1']), /steps is not a section/);
});
