/** export-csv: one row per step, nested keys flattened with slashes, cells quoted when needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatten, jsonlToCsv } from '../../src/cli/export-csv.js';

test('flatten and CSV', () => {
  assert.deepEqual(flatten({ a: 1, components: { accuracy: 0.5, think: null } }), {
    a: 1,
    'components/accuracy': 0.5,
    'components/think': null,
  });
  const csv = jsonlToCsv(
    '{"step":0,"components":{"accuracy":0.5},"phase":"sft"}\n{"step":1,"phase":"a,b","extra":true}\n',
    'm.jsonl',
  );
  assert.equal(csv, 'step,components/accuracy,phase,extra\n0,0.5,sft,\n1,,"a,b",true\n');
  assert.throws(() => jsonlToCsv('{"a":1}\n{bad\n', 'm.jsonl'), /m\.jsonl:2: not valid JSON/);
});
