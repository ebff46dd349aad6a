/**
 * The report page: one self-contained HTML file (CSS, Chart.js and the data inlined; nothing is
 * fetched when it is viewed). All text from the logs — model responses above all — is escaped.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TaskEval } from '../eval/evaluate.js';
import type { ReportData } from './load.js';
import {
  buildCharts,
  colorFor,
  costTable,
  methodLabels,
  resultsTable,
  type ChartSpec,
} from './series.js';

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Model output for people: control characters shown as \xNN, very long text cut. */
export function showText(s: string, max = 800): string {
  // eslint-disable-next-line no-control-regex
  let t = s.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (t.length > max) t = `${t.slice(0, max)}… (${t.length - max} more characters)`;
  return escapeHtml(t);
}

/** JSON safe to put inside a <script> element (no "</script>", "<!--", or line separators). */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Chart.js's UMD bundle from node_modules, made safe to inline. */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  } catch {
    throw new Error('chart.js is not installed (run npm ci): the report embeds it');
  }
  return readFileSync(file, 'utf8')
    .replace(/<\/script/gi, '<\\/script')
    .replace(/<!--/g, '<\\!--');
}

const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(digits);

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h
    ? `${h} h ${String(m).padStart(2, '0')} min`
    : `${m} min ${String(sec).padStart(2, '0')} s`;
}

function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

function fmtMb(mb: number): string {
  if (!Number.isFinite(mb) || mb <= 0) return '—';
  return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${Math.round(mb)} MB`;
}

function resultsSection(data: ReportData): string {
  const { tasks, rows } = resultsTable(data);
  if (!rows.length || !tasks.length)
    return '<p class="note">No evaluation results (no final.json or eval.jsonl).</p>';
  const best: Record<string, number> = {};
  for (const t of tasks) {
    const vs = rows.map((r) => r.cells[t]?.value).filter((v): v is number => typeof v === 'number');
    if (vs.length > 1) best[t] = Math.max(...vs);
  }
  const metricOf = (t: string) => rows.map((r) => r.cells[t]?.metric).find((m) => m) ?? '';
  const head = `<tr><th>method</th>${tasks.map((t) => `<th>${escapeHtml(t)}<span class="sub">${escapeHtml(metricOf(t))}</span></th>`).join('')}${tasks.length > 1 ? '<th>mean<span class="sub">main metric</span></th>' : ''}</tr>`;
  const body = rows
    .map((r) => {
      const cells = tasks
        .map((t) => {
          const c = r.cells[t];
          if (!c) return '<td class="na">—</td>';
          const isBest = best[t] !== undefined && c.value !== null && c.value >= best[t]! - 1e-12;
          const spread = c.spread !== null ? `<span class="pm"> ± ${pct(c.spread)}</span>` : '';
          const sec = c.secondary.length
            ? `<span class="sub">${c.secondary.map((s) => `${escapeHtml(s.name)} ${pct(s.value)}`).join(' · ')}</span>`
            : '';
          return `<td class="${isBest ? 'best' : ''}">${pct(c.value)}${spread}${sec}</td>`;
        })
        .join('');
      const avg = tasks.length > 1 ? `<td class="avg">${pct(r.average)}</td>` : '';
      const runs = r.runs > 1 ? ` <span class="pm">(${r.runs} seeds)</span>` : '';
      return `<tr data-method="${escapeHtml(r.name)}"><th class="method">${swatch(r.name, data)}${escapeHtml(r.name)}${runs}</th>${cells}${avg}</tr>`;
    })
    .join('\n');
  return `<table id="results-table" class="results"><thead>${head}</thead><tbody>${body}</tbody></table>
<p class="caption">Main metric ×100 on held-out data of each task: gIoU for grounding tasks, accuracy for the others; cIoU, N-Acc and ROC AUC below where measured. Best per column in bold.${rows.some((r) => r.runs > 1) ? ' Mean ± sample standard deviation over seeds.' : ''}</p>`;
}

function swatch(name: string, data: ReportData): string {
  const i = data.methods.findIndex((m) => m.name === name);
  return `<span class="swatch" style="background:${escapeHtml(colorFor(name, Math.max(i, 0)))}"></span>`;
}

function costSection(data: ReportData): string {
  const rows = costTable(data);
  if (!rows.length) return '<p class="note">No training cost recorded.</p>';
  const body = rows
    .map(
      (r) =>
        `<tr data-method="${escapeHtml(r.name)}"><th class="method">${swatch(r.name, data)}${escapeHtml(r.name)}${r.runs > 1 ? ` <span class="pm">(mean of ${r.runs})</span>` : ''}</th><td>${fmtSeconds(r.cost.seconds)}</td><td>${fmtCount(r.cost.generatedTokens)}</td><td>${fmtCount(r.cost.trainedTokens)}</td><td>${fmtCount(r.cost.generatedTokens + r.cost.trainedTokens)}</td><td>${fmtMb(r.cost.peakRssMb)}</td></tr>`,
    )
    .join('\n');
  return `<table id="cost-table" class="cost"><thead><tr><th>method</th><th>training time</th><th>generated tokens</th><th>trained tokens</th><th>total tokens</th><th>peak memory (RSS)</th></tr></thead><tbody>${body}</tbody></table>
<p class="caption">Wall time, tokens sampled in rollouts, tokens run forward and backward in updates, and the process's peak resident memory.</p>`;
}

function chartBox(c: ChartSpec): string {
  const inner = c.empty
    ? `<div class="empty">${escapeHtml(c.empty)}</div>`
    : `<div class="canvas-wrap"><canvas id="${escapeHtml(c.id)}" class="chart" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>`;
  return `<figure class="chart-box${c.empty ? ' is-empty' : ''}"><figcaption><strong>${escapeHtml(c.title)}</strong><span>${escapeHtml(c.caption)}</span></figcaption>${inner}</figure>`;
}

function examplesSection(data: ReportData, perTask = 2): string {
  const labels = methodLabels(data.methods);
  const sources: Array<{ label: string; tasks: TaskEval[] }> = [];
  if (data.base?.eval) sources.push({ label: 'base', tasks: data.base.eval.tasks });
  data.methods.forEach((m, i) => {
    if (m.eval) sources.push({ label: labels[i]!, tasks: m.eval.tasks });
  });
  const tasks = [...new Set(sources.flatMap((s) => s.tasks.map((t) => t.task)))];
  if (!tasks.length) return '<p class="note">No example responses.</p>';
  return tasks
    .map((task) => {
      const blocks = sources
        .map((s) => {
          const ex = (s.tasks.find((t) => t.task === task)?.examples ?? []).slice(0, perTask);
          if (!ex.length) return '';
          const items = ex
            .map(
              (e) => `<div class="example">
<div class="kv"><span class="k">prompt</span><pre>${showText(String(e.prompt ?? ''))}</pre></div>
<div class="kv"><span class="k">response</span><pre class="response">${showText(String(e.response ?? ''))}</pre></div>
<div class="kv"><span class="k">solution</span><pre>${showText(String(e.solution ?? ''))}</pre></div>
</div>`,
            )
            .join('');
          return `<div class="ex-method"><h4>${escapeHtml(s.label)}</h4>${items}</div>`;
        })
        .join('');
      return `<details class="ex-task" open><summary>${escapeHtml(task)}</summary><div class="ex-grid">${blocks}</div></details>`;
    })
    .join('\n');
}

function detailSection(data: ReportData): string {
  const labels = methodLabels(data.methods);
  const rows: string[] = [];
  const add = (label: string, tasks: TaskEval[]) => {
    for (const t of tasks) {
      rows.push(
        `<tr><td>${escapeHtml(label)}</td><td>${escapeHtml(t.task)}</td><td>${escapeHtml(String(t.n ?? '—'))}</td><td>${typeof t.reward === 'number' ? t.reward.toFixed(2) : '—'}</td><td>${pct(t.accuracy)}</td><td>${pct(t.formatRate)}</td><td>${pct(t.gIoU)}</td><td>${pct(t.cIoU)}</td><td>${pct(t.bboxAcc)}</td><td>${pct(t.nAcc)}</td><td>${pct(t.auc)}</td></tr>`,
      );
    }
  };
  if (data.base?.eval) add('base', data.base.eval.tasks);
  data.methods.forEach((m, i) => m.eval && add(labels[i]!, m.eval.tasks));
  if (!rows.length) return '';
  return `<details class="detail"><summary>All final metrics</summary><table class="detail-table"><thead><tr><th>method</th><th>task</th><th>n</th><th>reward</th><th>acc %</th><th>format %</th><th>gIoU</th><th>cIoU</th><th>BboxAcc</th><th>N-Acc</th><th>AUC</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

const CSS = `
:root{--fg:#1d2430;--muted:#5b6678;--line:#dde2ea;--bg:#f6f7fb;--card:#fff;--accent:#2a6df4}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2430;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .meta{color:#b9c2d0;font-size:13px}
header code{color:#e6ebf2}
nav{display:flex;gap:16px;padding:8px 32px;background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
nav a{color:var(--accent);text-decoration:none;font-size:13px}
main{padding:8px 32px 48px;max-width:1400px}
section{margin-top:28px}
h2{font-size:18px;margin:0 0 10px;font-weight:600}
h4{margin:0 0 6px;font-size:13px}
table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);font-variant-numeric:tabular-nums}
th,td{padding:6px 12px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
thead th{background:#eef1f6;font-weight:600;text-align:center}
th.method,td:first-child{text-align:left}
tbody th{font-weight:600;white-space:nowrap}
td.best{font-weight:700;background:#eef7ee}
td.na{color:var(--muted)}
td.avg{background:#f4f6fa}
.sub{display:block;font-size:11px;color:var(--muted);font-weight:400}
.pm{font-size:11px;color:var(--muted);font-weight:400}
.caption{color:var(--muted);font-size:12px;margin:6px 0 0}
.note{color:var(--muted)}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:7px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
.chart-box{margin:0;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.chart-box figcaption strong{display:block;font-size:14px}
.chart-box figcaption span{display:block;color:var(--muted);font-size:12px;min-height:18px}
.canvas-wrap{position:relative;height:280px;margin-top:6px}
.empty{height:80px;display:flex;align-items:center;justify-content:center;color:var(--muted);font-style:italic;border:1px dashed var(--line);border-radius:4px;margin-top:6px;padding:8px;text-align:center}
.ex-task{background:var(--card);border:1px solid var(--line);border-radius:6px;margin-bottom:12px;padding:8px 14px}
.ex-task summary{font-weight:600;cursor:pointer}
.ex-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:12px;margin-top:8px}
.example{border-top:1px solid var(--line);padding:6px 0}
.kv{display:grid;grid-template-columns:70px 1fr;gap:6px;align-items:start}
.k{color:var(--muted);font-size:12px;padding-top:3px}
pre{margin:2px 0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;background:#f4f6fa;padding:4px 6px;border-radius:3px}
pre.response{background:#fff8e6}
.detail{margin-top:16px}
.detail summary{cursor:pointer;color:var(--accent)}
.detail-table td,.detail-table th{font-size:12px;padding:3px 8px}
footer{color:var(--muted);font-size:12px;padding:0 32px 24px}
`;

const PAGE_JS = `
(function(){
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var rendered = 0, failed = 0, made = [];
  // progress charts plot against tokens spent; the x-axis control switches them to steps
  function points(spec, d, mode) {
    return d.data.map(function(p){ return { x: spec.progress && mode === 'steps' ? p.step : p.x, y: p.y }; });
  }
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.color = '#3b4556';
  data.charts.forEach(function(spec){
    if (spec.empty) return;
    var canvas = document.getElementById(spec.id);
    try {
      var few = spec.datasets.every(function(d){ return d.data.length <= 30; });
      var chart = new Chart(canvas, {
        type: 'line',
        data: { datasets: spec.datasets.map(function(d){ return {
          label: d.label, data: points(spec, d, 'tokens'), borderColor: d.color, backgroundColor: d.color,
          borderDash: d.dashed ? [6, 4] : [], borderWidth: 2, tension: 0, spanGaps: false,
          pointRadius: (few || d.data.length === 1) ? 3 : 0, pointHoverRadius: 4
        }; }) },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, normalized: true,
          interaction: { mode: 'nearest', intersect: false },
          plugins: {
            legend: { position: 'bottom', labels: { boxWidth: 14, boxHeight: 2, usePointStyle: false } },
            tooltip: { callbacks: { title: function(items){ return items.length ? spec.xTitle + ' ' + items[0].parsed.x : ''; } } }
          },
          scales: {
            x: { type: spec.xLog ? 'logarithmic' : 'linear', title: { display: true, text: spec.xTitle },
                 ticks: spec.xLog ? { callback: function(v){ return Number.isInteger(Math.log2(v)) ? v : ''; } } : { precision: 0 } },
            y: { type: spec.yLog ? 'logarithmic' : 'linear', title: { display: true, text: spec.yTitle }, min: spec.yMin, max: spec.yMax }
          }
        }
      });
      if (spec.progress) made.push({ spec: spec, chart: chart });
      rendered++;
    } catch (e) {
      failed++;
      console.error('chart ' + spec.id + ' failed: ' + (e && e.message ? e.message : e));
    }
  });
  var toggle = document.getElementById('x-axis');
  if (toggle) toggle.addEventListener('change', function(){
    made.forEach(function(m){
      m.chart.data.datasets.forEach(function(ds, i){ ds.data = points(m.spec, m.spec.datasets[i], toggle.value); });
      m.chart.options.scales.x.title.text = toggle.value === 'steps' ? 'training step' : m.spec.xTitle;
      m.chart.update();
    });
    document.body.setAttribute('data-x-axis', toggle.value);
  });
  window.__visurfReport = { charts: rendered, failed: failed, progress: made.length };
  document.body.setAttribute('data-charts-ready', String(rendered));
})();
`;

export function renderReport(data: ReportData, chartJs: string = chartJsSource()): string {
  const charts = buildCharts(data);
  const trainingCharts = charts.filter(
    (c) => !c.id.startsWith('chart-task-') && !c.id.startsWith('chart-passk-'),
  );
  const taskCharts = charts.filter((c) => c.id.startsWith('chart-task-'));
  const passCharts = charts.filter((c) => c.id.startsWith('chart-passk-'));
  const meta = [
    `<span>directory <code>${escapeHtml(data.dir)}</code></span>`,
    data.command ? `<span>command <code>${escapeHtml(data.command)}</code></span>` : '',
    data.createdAt ? `<span>created ${escapeHtml(data.createdAt)}</span>` : '',
    data.seeds?.length ? `<span>seeds ${escapeHtml(data.seeds.join(', '))}</span>` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const nav = [
    ['results', 'Results'],
    ['cost', 'Training cost'],
    ['training', 'Training curves'],
    ...(taskCharts.length ? [['tasks', 'Per task']] : []),
    ...(passCharts.length ? [['passk', 'pass@k']] : []),
    ['examples', 'Examples'],
  ]
    .map(([id, t]) => `<a href="#${id}">${t}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}</h1><div class="meta">${meta}</div></header>
<nav>${nav}</nav>
<main>
<section id="results"><h2>Results</h2>${resultsSection(data)}${detailSection(data)}</section>
<section id="cost"><h2>Training cost</h2>${costSection(data)}</section>
<section id="training"><h2>Training curves</h2><p class="axis-control"><label>x axis <select id="x-axis"><option value="tokens">tokens spent (equal budgets line up)</option><option value="steps">training steps</option></select></label></p><div class="charts">${trainingCharts.map(chartBox).join('\n')}</div></section>
${taskCharts.length ? `<section id="tasks"><h2>Held-out main metric per task</h2><div class="charts">${taskCharts.map(chartBox).join('\n')}</div></section>` : ''}
${passCharts.length ? `<section id="passk"><h2>pass@k before and after training</h2><div class="charts">${passCharts.map(chartBox).join('\n')}</div></section>` : ''}
<section id="examples"><h2>Example responses</h2>${examplesSection(data)}</section>
</main>
<footer>Written by <code>visurf report</code>. Self-contained: charts drawn with Chart.js, embedded.</footer>
<script type="application/json" id="report-data">${scriptJson({ charts })}</script>
<script>${chartJs}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}
