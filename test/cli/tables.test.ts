/** The one table renderer: numbers right-aligned, text left, no trailing blanks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../src/cli/tables.js';

test('numeric columns are right-aligned, text columns left', () => {
  const t = table(
    ['task', 'gIoU', 'note'],
    [
      ['refer', '5.5', 'blind'],
      ['colorqa', '99.6', '-'],
      ['count', '-', 'ok'],
    ],
  ).split('\n');
  assert.deepEqual(t, [
    'task     gIoU  note',
    '-------  ----  -----',
    'refer     5.5  blind',
    'colorqa  99.6  -',
    'count       -  ok',
  ]);
  assert.match(
    table(
      ['m', 'v'],
      [
        ['a', '31.9 ± 2.0'],
        ['b', '7.0 ± 0.1'],
      ],
    ),
    /a  31\.9 ± 2\.0\nb   7\.0 ± 0\.1/,
  );
});

test('markdownTable marks numeric columns right-aligned, as the terminal table aligns them', async () => {
  const { markdownTable } = await import('../../src/report/tables.js');
  assert.equal(
    markdownTable({
      headers: ['method', 'refer gIoU', 'note'],
      rows: [
        ['base', '25.5', 'x'],
        ['visurf (3 seeds)', '31.9 ± 2.0', 'y'],
      ],
    }),
    [
      '| method | refer gIoU | note |',
      '| --- | ---: | --- |',
      '| base | 25.5 | x |',
      '| visurf (3 seeds) | 31.9 ± 2.0 | y |',
    ].join('\n'),
  );
});
