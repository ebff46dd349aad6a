import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ReportInputError,
  buildCharts,
  costTable,
  escapeHtml,
  evalSeries,
  loadReportData,
  parseJsonl,
  parseStepLogs,
  renderReport,
  resultsTable,
  scriptJson,
  stepSeries,
  writeReport,
} from '../../src/report/index.js';
import { INJECTION, TASKS, writeCompareDir, writeRunDir } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
/** VISURF_CHROMIUM only to check the skip path; the browser is Debian's. */
const CHROMIUM = process.env['VISURF_CHROMIUM'] ?? '/usr/bin/chromium';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'visurf-report-'));
}

test('parseJsonl: blank lines skipped; a bad line is an error naming file and line', () => {
  assert.deepEqual(parseJsonl('{"a":1}\n\n{"a":2}\n', 'f.jsonl'), [{ a: 1 }, { a: 2 }]);
  assert.throws(
    () => parseJsonl('{"a":1}\n\n{"a":\n', 'm.jsonl'),
    (e: Error) => e instanceof ReportInputError && /^m\.jsonl:3: not valid JSON/.test(e.message),
  );
  assert.throws(
    () => parseJsonl('[1,2]\n', 'm.jsonl'),
    /m\.jsonl:1: expected a JSON object, got an array/,
  );
  assert.throws(
    () => parseStepLogs('{"phase":"sft"}\n', 'm.jsonl'),
    /m\.jsonl: record 1: "step" must be a number/,
  );
});

test('series: null / NaN / absent values are gaps; eval series average over tasks', () => {
  const steps = parseStepLogs(
    [
      '{"step":0,"phase":"sft","entropy":null}',
      '{"step":1,"phase":"rlvr","entropy":2.5,"rewardMean":3}',
      '{"step":2,"phase":"rlvr","entropy":1.5}',
    ].join('\n'),
    'm.jsonl',
  );
  assert.deepEqual(
    stepSeries(steps, (s) => s.entropy),
    [
      { x: 0, y: null },
      { x: 1, y: 2.5 },
      { x: 2, y: 1.5 },
    ],
  );
  assert.deepEqual(
    stepSeries(steps, (s) => s.rewardMean).map((p) => p.y),
    [null, 3, null],
  );
  const ev = [
    {
      step: 4,
      tasks: [
        { task: 'refer', accuracy: 0.5 },
        { task: 'colorqa', accuracy: 1 },
      ],
    },
  ] as never;
  assert.deepEqual(
    evalSeries(ev, (t) => t.accuracy),
    [{ x: 4, y: 0.75 }],
  );
  assert.deepEqual(
    evalSeries(ev, (t) => t.accuracy, 'refer'),
    [{ x: 4, y: 0.5 }],
  );
});

test('run directory: one method, SFT charts without reward are notes, not blank canvases', () => {
  const dir = tmp();
  try {
    writeRunDir(dir, 'sft', { steps: 6, evalEvery: 2, tasks: ['colorqa'] });
    const data = loadReportData(dir);
    assert.equal(data.kind, 'run');
    assert.equal(data.methods.length, 1);
    assert.equal(data.methods[0]!.name, 'sft');
    const charts = buildCharts(data);
    const byId = new Map(charts.map((c) => [c.id, c]));
    assert.match(byId.get('chart-reward')!.empty ?? '', /SFT/);
    assert.equal(byId.get('chart-heldout-accuracy')!.datasets.length, 1);
    // against tokens spent (1000 trained per step), each point also carrying its step
    const heldOut = byId.get('chart-heldout-accuracy')!.datasets[0]!.data;
    assert.deepEqual(
      heldOut.map((p) => p.step),
      [2, 4, 6],
    );
    assert.deepEqual(
      heldOut.map((p) => p.x),
      [2000, 4000, 6000],
    );
    // SFT has an SFT-term gradient but no RL-term one (0 is a gap on the log scale)
    assert.deepEqual(
      byId.get('chart-grad-norm-sft')!.datasets.map((d) => d.label),
      ['SFT'],
    );
    assert.ok(byId.get('chart-grad-norm-sft')!.yLog);
    const { rows } = resultsTable(data);
    assert.deepEqual(
      rows.map((r) => r.name),
      ['sft'],
    );
    assert.equal(costTable(data)[0]!.cost.trainedTokens, 6000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare directory: results and cost tables, seeds averaged, base at step 0', () => {
  const dir = tmp();
  try {
    writeCompareDir(dir, { seeds: [0, 1], methods: ['sft', 'visurf'], steps: 6 });
    const data = loadReportData(dir);
    assert.equal(data.kind, 'compare');
    assert.equal(data.methods.length, 4);
    const { tasks, rows } = resultsTable(data);
    assert.deepEqual(tasks, TASKS);
    assert.deepEqual(
      rows.map((r) => [r.name, r.runs]),
      [
        ['base', 1],
        ['sft', 2],
        ['visurf', 2],
      ],
    );
    assert.equal(rows[1]!.cells['refer']!.metric, 'gIoU');
    assert.equal(rows[1]!.cells['colorqa']!.metric, 'accuracy');
    assert.ok(rows[1]!.cells['refer']!.spread! > 0);
    assert.deepEqual(
      rows[2]!.cells['nonobj']!.secondary.map((s) => s.name),
      ['cIoU', 'N-Acc', 'AUC', 'format'],
    );
    const cost = costTable(data);
    assert.deepEqual(
      cost.map((c) => c.name),
      ['sft', 'visurf'],
    );
    assert.equal(cost[0]!.cost.seconds, 12.5); // seeds 0 and 1 add 0 and 1 s
    const held = buildCharts(data).find((c) => c.id === 'chart-heldout-accuracy')!;
    assert.deepEqual(
      held.datasets.map((d) => d.label),
      ['sft (seed 0)', 'visurf (seed 0)', 'sft (seed 1)', 'visurf (seed 1)'],
    );
    assert.equal(held.datasets[0]!.data[0]!.x, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('escaping: text cannot open tags, JSON in a script cannot close it', () => {
  assert.equal(escapeHtml('<b a="1">&\''), '&lt;b a=&quot;1&quot;&gt;&amp;&#39;');
  const j = scriptJson({ s: '</script><!-- \u2028' });
  assert.ok(!j.includes('<') && !j.includes('\u2028'));
  assert.deepEqual(JSON.parse(j), { s: '</script><!-- \u2028' });
  const dir = tmp();
  try {
    writeCompareDir(dir, { injection: true, steps: 4 });
    const html = renderReport(loadReportData(dir));
    assert.ok(!html.includes(INJECTION));
    assert.ok(html.includes(escapeHtml('<script>window.__pwned = 1</script>')));
    assert.equal((html.match(/<script/g) ?? []).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('visurf report CLI: prints the path; bad input names the file and line', () => {
  const dir = tmp();
  try {
    const run = join(dir, 'run');
    writeRunDir(run, 'visurf', { steps: 4 });
    let r = spawnSync(process.execPath, [MAIN, 'report', run], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(run, 'report.html'));
    assert.ok(existsSync(join(run, 'report.html')));
    const out = join(dir, 'sub', 'r.html');
    r = spawnSync(process.execPath, [MAIN, 'report', run, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), out);

    r = spawnSync(process.execPath, [MAIN, 'report', join(dir, 'missing')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing: no such directory/);

    mkdirSync(join(dir, 'empty'));
    r = spawnSync(process.execPath, [MAIN, 'report', join(dir, 'empty')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /neither a comparison directory \(no results\.json\) nor a run directory \(no metrics\.jsonl\)/,
    );

    const metrics = join(run, 'metrics.jsonl');
    writeFileSync(metrics, readFileSync(metrics, 'utf8') + '{"step": 4, "phase":\n');
    r = spawnSync(process.execPath, [MAIN, 'report', run], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /metrics\.jsonl:5: not valid JSON/);

    const cmp = join(dir, 'cmp');
    mkdirSync(cmp);
    writeFileSync(join(cmp, 'results.json'), '{"version":1,"methods":[{"runDir":"runs/x"}]}');
    r = spawnSync(process.execPath, [MAIN, 'report', cmp], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /results\.json: methods\[0\]: "name" must be a non-empty string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface PageCheck {
  charts: Array<{
    id: string;
    width: number;
    height: number;
    painted: number;
    colors: number;
    /** points with a value, per drawn dataset */
    points: number[];
  }>;
  ready: string | null;
  pwned: unknown;
  injectedText: boolean;
  resultsRows: string[];
  costRows: string[];
  empties: number;
}

/** Runs in the page (plain JS: the project compiles without DOM types). */
const IN_PAGE_CHECK = `(() => {
  const charts = [...document.querySelectorAll('canvas.chart')].map((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    const colors = new Set();
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0) {
        painted++;
        if (colors.size < 64) colors.add(px[i] + ',' + px[i + 1] + ',' + px[i + 2]);
      }
    }
    const chart = window.Chart.getChart(c);
    const points = chart.data.datasets.map((d) => d.data.filter((p) => p.y !== null).length);
    return { id: c.id, width: c.width, height: c.height, painted, colors: colors.size, points };
  });
  const rows = (sel) => [...document.querySelectorAll(sel + ' tbody tr')].map((r) => r.getAttribute('data-method') || '');
  return {
    charts,
    ready: document.body.getAttribute('data-charts-ready'),
    pwned: window.__pwned,
    injectedText: [...document.querySelectorAll('pre.response')].some((p) => p.textContent.includes('<script>window.__pwned = 1</script>')),
    resultsRows: rows('#results-table'),
    costRows: rows('#cost-table'),
    empties: document.querySelectorAll('.chart-box.is-empty').length,
  };
})()`;

test(
  'the report renders in headless Chromium: every chart drawn, tables, escaped responses',
  { timeout: 60_000 },
  async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(
        `${CHROMIUM} not found: install Debian's chromium (make system-deps does) to run the browser test`,
      );
      return;
    }
    const { chromium } = await import('playwright-core');
    const dir = tmp();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const cmp = join(dir, 'cmp');
      writeCompareDir(cmp, { injection: true, methods: ['sft', 'rlvr', 'sft-rlvr', 'visurf'] });
      const run = join(dir, 'run');
      writeRunDir(run, 'sft', { steps: 5, evalEvery: 2, tasks: ['colorqa'] });
      const pages: Array<{ file: string; shot?: string }> = [
        { file: writeReport(cmp), shot: join(ARTIFACTS, 'report.png') },
        { file: writeReport(run), shot: join(ARTIFACTS, 'report-run.png') },
      ];
      for (const { file, shot } of pages) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning')
            problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('request', (r) => {
          if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
        });
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('body[data-charts-ready]', { timeout: 15_000 });
        let check = (await page.evaluate(IN_PAGE_CHECK)) as PageCheck;
        if (shot) {
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: shot, fullPage: true });
        }
        // the x-axis control switches every progress chart to steps and back; every curve
        // keeps its points
        const before = check.charts.map((c) => c.points);
        await page.selectOption('#x-axis', 'steps');
        await page.waitForSelector('body[data-x-axis="steps"]');
        check = (await page.evaluate(IN_PAGE_CHECK)) as PageCheck;
        assert.deepEqual(
          check.charts.map((c) => c.points),
          before,
          'the same points against steps',
        );
        for (const c of check.charts)
          assert.ok(
            c.points.length > 0 && c.points.every((n) => n > 0),
            `${c.id}: a curve without points`,
          );
        await page.close();
        // (Chromium's hint about repeated getImageData is about this test's pixel check)
        assert.deepEqual(
          problems.filter((m) => !/willReadFrequently/.test(m)),
          [],
          `console errors in ${file}`,
        );
        assert.deepEqual(requests, [], 'the report fetches nothing');
        assert.ok(check.charts.length > 0, 'no chart canvas');
        assert.equal(Number(check.ready), check.charts.length, 'every canvas got a chart');
        for (const c of check.charts) {
          assert.ok(c.width > 100 && c.height > 100, `${c.id}: canvas ${c.width}x${c.height}`);
          // axes, grid, labels and lines: a real chart paints a good share in several colours
          assert.ok(
            c.painted > 0.02 * c.width * c.height,
            `${c.id}: only ${c.painted} painted pixels`,
          );
          assert.ok(c.colors >= 3, `${c.id}: ${c.colors} colours`);
        }
        if (file.startsWith(cmp)) {
          const ids = check.charts.map((c) => c.id);
          for (const id of [
            'chart-reward',
            'chart-heldout-accuracy',
            'chart-label-advantage',
            'chart-smoothing',
            'chart-zero-variance',
            'chart-format',
            'chart-label-nll',
            'chart-label-reward',
            'chart-grad-norm-sft',
            'chart-grad-norm-visurf',
            'chart-entropy',
            'chart-response-length',
            'chart-passk-refer',
            'chart-passk-nonobj',
            'chart-task-refer',
          ]) {
            assert.ok(ids.includes(id), `missing chart ${id}`);
          }
          assert.deepEqual(check.resultsRows, ['base', 'sft', 'rlvr', 'sft-rlvr', 'visurf']);
          assert.deepEqual(check.costRows, ['sft', 'rlvr', 'sft-rlvr', 'visurf']);
          assert.equal(check.empties, 0);
          assert.equal(check.pwned, undefined, 'a response ran as script');
          assert.ok(check.injectedText, 'the injected <script> is shown as text');
        } else {
          // a single SFT run: reward, Â_y, smoothing, groups, format, label reward, entropy
          // and length have no values
          assert.deepEqual(check.resultsRows, ['sft']);
          assert.equal(check.empties, 8);
          assert.deepEqual(check.charts.map((c) => c.id).sort(), [
            'chart-grad-norm-sft',
            'chart-heldout-accuracy',
            'chart-label-nll',
          ]);
        }
      }
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
