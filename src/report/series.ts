/**
 * From run logs to what the report shows: chart series over training steps (gaps where a
 * method logs no value), pass@k curves, and the results and cost tables.
 */
import type { TaskEval } from '../eval/evaluate.js';
import type { EvalLog, StepLog } from '../train/trainer.js';
import type { MethodResult, PassAtK, ReportData, RunCost } from './load.js';

export interface Point {
  x: number;
  y: number | null;
}

export interface Dataset {
  label: string;
  color: string;
  dashed?: boolean;
  data: Point[];
}

export interface ChartSpec {
  id: string;
  title: string;
  /** one sentence under the title saying what the chart shows */
  caption: string;
  xTitle: string;
  yTitle: string;
  xLog?: boolean;
  yMin?: number;
  yMax?: number;
  datasets: Dataset[];
  /** set when no method has any value: shown as a note instead of a chart */
  empty?: string;
}

/** A finite number, or null (absent, null in JSON, NaN, ±Infinity). */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const KNOWN_COLORS: Record<string, string> = {
  base: '#7f7f7f',
  sft: '#1f77b4',
  rlvr: '#ff7f0e',
  'sft-rlvr': '#9467bd',
  visurf: '#2ca02c',
  'visurf-no-align': '#17becf',
  'visurf-no-think-elimination': '#bcbd22',
  'visurf-no-smoothing': '#e377c2',
};
const PALETTE = [
  '#d62728',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#1f77b4',
  '#ff7f0e',
  '#9467bd',
];

/** A stable colour per method name (the same in every chart). */
export function colorFor(name: string, index: number): string {
  return KNOWN_COLORS[name] ?? PALETTE[index % PALETTE.length]!;
}

/** Label of each method entry; repeated names (seeds) get their seed or index. */
export function methodLabels(methods: readonly MethodResult[]): string[] {
  const count = new Map<string, number>();
  for (const m of methods) count.set(m.name, (count.get(m.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return methods.map((m) => {
    if ((count.get(m.name) ?? 0) < 2) return m.name;
    const k = seen.get(m.name) ?? 0;
    seen.set(m.name, k + 1);
    return `${m.name} (seed ${m.seed ?? k})`;
  });
}

/** One field of the step logs as points; absent / null / NaN values are gaps. */
export function stepSeries(steps: readonly StepLog[], pick: (s: StepLog) => unknown): Point[] {
  return steps.map((s) => ({ x: s.step, y: num(pick(s)) }));
}

const hasValue = (pts: readonly Point[]) => pts.some((p) => p.y !== null);

/** The metric a task is judged by in the results table: gIoU for grounding, else accuracy. */
export function mainMetric(t: TaskEval): { name: string; value: number | null } {
  if (t.gIoU !== undefined) return { name: 'gIoU', value: num(t.gIoU) };
  return { name: 'accuracy', value: num(t.accuracy) };
}

/** Further metrics shown small under the main one. */
export function secondaryMetrics(t: TaskEval): Array<{ name: string; value: number }> {
  const out: Array<{ name: string; value: number }> = [];
  const add = (name: string, v: unknown) => {
    const x = num(v);
    if (x !== null) out.push({ name, value: x });
  };
  add('cIoU', t.cIoU);
  add('N-Acc', t.nAcc);
  add('AUC', t.auc);
  add('format', t.formatRate);
  return out;
}

function meanOf(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

function stdOf(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Held-out accuracy per evaluation: the mean over tasks (or one task's value). */
export function evalSeries(
  evals: readonly EvalLog[],
  pick: (t: TaskEval) => number | null,
  task?: string,
): Point[] {
  return evals.map((e) => {
    const tasks = task === undefined ? e.tasks : e.tasks.filter((t) => t.task === task);
    return { x: e.step, y: meanOf(tasks.map(pick)) };
  });
}

/** Tasks in order of first appearance across the base and every method. */
export function taskNames(data: ReportData): string[] {
  const names: string[] = [];
  const add = (e: EvalLog | null | undefined) => {
    for (const t of e?.tasks ?? []) if (!names.includes(t.task)) names.push(t.task);
  };
  add(data.base?.eval);
  for (const m of data.methods) {
    add(m.eval);
    for (const e of m.run?.evals ?? []) add(e);
  }
  return names;
}

interface StepMetric {
  id: string;
  title: string;
  caption: string;
  yTitle: string;
  pick: (s: StepLog) => unknown;
  yMin?: number;
  yMax?: number;
  emptyWhy: string;
}

export const STEP_METRICS: readonly StepMetric[] = [
  {
    id: 'reward',
    title: 'Reward',
    caption: 'Mean total reward of the rollouts at each step.',
    yTitle: 'mean reward',
    pick: (s) => s.rewardMean,
    emptyWhy: 'No method logs a reward (SFT samples no rollouts).',
  },
  {
    id: 'label-advantage',
    title: 'Label advantage Â_y',
    caption: 'Mean advantage of the injected ground-truth label within its group (ViSurf only).',
    yTitle: 'Â_y',
    pick: (s) => s.labelAdvantageMean,
    emptyWhy: 'No method injects labels into rollout groups (only ViSurf does).',
  },
  {
    id: 'smoothing',
    title: 'Smoothing rate',
    caption:
      'Fraction of groups whose label reward was smoothed because a rollout already matched it.',
    yTitle: 'fraction of groups',
    pick: (s) => s.smoothingFraction,
    yMin: 0,
    yMax: 1,
    emptyWhy: 'No method smooths label rewards (only ViSurf does).',
  },
  {
    id: 'entropy',
    title: 'Entropy',
    caption: 'Mean per-token entropy of the sampled responses.',
    yTitle: 'nats / token',
    pick: (s) => s.entropy,
    emptyWhy: 'No method logs an entropy (SFT samples no rollouts).',
  },
  {
    id: 'response-length',
    title: 'Response length',
    caption: 'Mean length of the sampled responses.',
    yTitle: 'tokens',
    pick: (s) => s.responseLength,
    yMin: 0,
    emptyWhy: 'No method samples responses (SFT trains on labels only).',
  },
];

/** Every chart of the report. */
export function buildCharts(data: ReportData): ChartSpec[] {
  const labels = methodLabels(data.methods);
  const methods = data.methods.map((m, i) => ({
    m,
    label: labels[i]!,
    color: colorFor(m.name, i),
  }));
  const withRun = methods.filter((x) => x.m.run !== null);
  const charts: ChartSpec[] = [];
  const finish = (c: ChartSpec, emptyWhy: string) => {
    if (c.datasets.length === 0) c.empty = emptyWhy;
    charts.push(c);
  };

  const stepChart = (sm: StepMetric) => {
    const c: ChartSpec = {
      id: `chart-${sm.id}`,
      title: sm.title,
      caption: sm.caption,
      xTitle: 'training step',
      yTitle: sm.yTitle,
      datasets: [],
      ...(sm.yMin !== undefined ? { yMin: sm.yMin } : {}),
      ...(sm.yMax !== undefined ? { yMax: sm.yMax } : {}),
    };
    for (const { m, label, color } of withRun) {
      const pts = stepSeries(m.run!.steps, sm.pick);
      if (hasValue(pts)) c.datasets.push({ label, color, data: pts });
    }
    finish(c, sm.emptyWhy);
  };

  stepChart(STEP_METRICS[0]!);

  // held-out accuracy from eval.jsonl, with the base model's at step 0 when known
  const tasks = taskNames(data);
  const heldOut = (
    task: string | undefined,
    pick: (t: TaskEval) => number | null,
    id: string,
    title: string,
    caption: string,
    yTitle: string,
  ) => {
    const c: ChartSpec = {
      id,
      title,
      caption,
      xTitle: 'training step',
      yTitle,
      yMin: 0,
      yMax: 1,
      datasets: [],
    };
    const baseY = data.base?.eval ? evalSeries([data.base.eval], pick, task)[0]!.y : null;
    for (const { m, label, color } of methods) {
      const evals = m.run?.evals.length ? m.run.evals : m.eval ? [m.eval] : [];
      let pts = evalSeries(evals, pick, task);
      if (baseY !== null && !pts.some((p) => p.x === 0)) pts = [{ x: 0, y: baseY }, ...pts];
      if (hasValue(pts)) c.datasets.push({ label, color, data: pts });
    }
    finish(c, 'No held-out evaluation was logged (eval.every = 0 and no final evaluation).');
  };
  heldOut(
    undefined,
    (t) => num(t.accuracy),
    'chart-heldout-accuracy',
    'Held-out accuracy',
    tasks.length > 1
      ? `Fraction of held-out samples answered fully correctly, mean over ${tasks.length} tasks (eval.jsonl${data.base?.eval ? '; step 0 is the base model' : ''}).`
      : `Fraction of held-out samples answered fully correctly (eval.jsonl${data.base?.eval ? '; step 0 is the base model' : ''}).`,
    'accuracy',
  );

  stepChart(STEP_METRICS[1]!);
  stepChart(STEP_METRICS[2]!);

  // RL-term vs SFT-term gradient norm: solid = RL, dashed = SFT
  const g: ChartSpec = {
    id: 'chart-grad-norm',
    title: 'Gradient norm: RL term vs SFT term',
    caption:
      'Norm of the gradient of the RL (rollout) part of the loss — solid — and of the SFT (label) part — dashed.',
    xTitle: 'training step',
    yTitle: '‖∇‖',
    yMin: 0,
    datasets: [],
  };
  for (const { m, label, color } of withRun) {
    const rl = stepSeries(m.run!.steps, (s) => s.gradNormRl);
    const sft = stepSeries(m.run!.steps, (s) => s.gradNormSft);
    if (hasValue(rl)) g.datasets.push({ label: `${label} · RL`, color, data: rl });
    if (hasValue(sft)) g.datasets.push({ label: `${label} · SFT`, color, dashed: true, data: sft });
  }
  finish(g, 'No method logs split gradient norms.');

  stepChart(STEP_METRICS[3]!);
  stepChart(STEP_METRICS[4]!);

  // per-task held-out main metric when there are several tasks
  if (tasks.length > 1) {
    for (const task of tasks) {
      const sample = findTaskEval(data, task);
      const metric = sample ? mainMetric(sample).name : 'accuracy';
      heldOut(
        task,
        (t) => mainMetric(t).value,
        `chart-task-${slug(task)}`,
        `${task}: held-out ${metric}`,
        `Held-out ${metric} on ${task} over training.`,
        metric,
      );
    }
  }

  // pass@k before (base) and after (each method)
  const passTasks: string[] = [];
  const addTasks = (p?: PassAtK) => {
    for (const t of Object.keys(p ?? {})) if (!passTasks.includes(t)) passTasks.push(t);
  };
  addTasks(data.base?.passAtK);
  for (const m of data.methods) addTasks(m.passAtK);
  for (const task of passTasks) {
    const c: ChartSpec = {
      id: `chart-passk-${slug(task)}`,
      title: `pass@k: ${task}`,
      caption:
        'Fraction of prompts with at least one correct answer among k samples: base model (before, dashed) and each method (after).',
      xTitle: 'k (samples per prompt)',
      yTitle: 'pass@k',
      yMin: 0,
      yMax: 1,
      datasets: [],
    };
    const curve = (p: Record<string, number> | undefined): Point[] =>
      Object.entries(p ?? {})
        .map(([k, v]) => ({ x: Number(k), y: num(v) }))
        .sort((a, b) => a.x - b.x);
    const basePts = curve(data.base?.passAtK?.[task]);
    if (hasValue(basePts))
      c.datasets.push({
        label: 'base (before)',
        color: KNOWN_COLORS['base']!,
        dashed: true,
        data: basePts,
      });
    for (const { m, label, color } of methods) {
      const pts = curve(m.passAtK?.[task]);
      if (hasValue(pts)) c.datasets.push({ label: `${label} (after)`, color, data: pts });
    }
    const ks = c.datasets.flatMap((d) => d.data.map((p) => p.x)).filter((k) => k > 0);
    if (ks.length && Math.max(...ks) / Math.min(...ks) >= 8) c.xLog = true;
    finish(c, 'No pass@k values for this task.');
  }
  return charts;
}

export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_');
}

function findTaskEval(data: ReportData, task: string): TaskEval | undefined {
  const evals = [
    data.base?.eval,
    ...data.methods.map((m) => m.eval),
    ...data.methods.flatMap((m) => m.run?.evals ?? []),
  ];
  for (const e of evals) {
    const t = e?.tasks.find((x) => x.task === task);
    if (t) return t;
  }
  return undefined;
}

export interface Cell {
  metric: string;
  /** mean over seeds; null when not measured */
  value: number | null;
  /** sample standard deviation over seeds (when several) */
  spread: number | null;
  secondary: Array<{ name: string; value: number }>;
}

export interface ResultsRow {
  name: string;
  /** entries (seeds) averaged into this row */
  runs: number;
  cells: Record<string, Cell>;
  average: number | null;
}

/** The paper's Table 1 shape: rows = base and methods (seeds averaged), columns = tasks. */
export function resultsTable(data: ReportData): { tasks: string[]; rows: ResultsRow[] } {
  const tasks = taskNames(data);
  const groups: Array<{ name: string; evals: EvalLog[] }> = [];
  if (data.base?.eval) groups.push({ name: 'base', evals: [data.base.eval] });
  for (const m of data.methods) {
    let g = groups.find((x) => x.name === m.name && x.name !== 'base');
    if (!g) {
      g = { name: m.name, evals: [] };
      groups.push(g);
    }
    if (m.eval) g.evals.push(m.eval);
  }
  const rows = groups.map(({ name, evals }) => {
    const cells: Record<string, Cell> = {};
    for (const task of tasks) {
      const ts = evals
        .map((e) => e.tasks.find((t) => t.task === task))
        .filter((t): t is TaskEval => t !== undefined);
      if (!ts.length) continue;
      const main = ts.map(mainMetric);
      const vals = main.map((x) => x.value).filter((v): v is number => v !== null);
      const sec = new Map<string, number[]>();
      for (const t of ts)
        for (const s of secondaryMetrics(t)) sec.set(s.name, [...(sec.get(s.name) ?? []), s.value]);
      cells[task] = {
        metric: main[0]!.name,
        value: meanOf(vals),
        spread: stdOf(vals),
        secondary: [...sec].map(([n, v]) => ({ name: n, value: meanOf(v)! })),
      };
    }
    const present = tasks.map((t) => cells[t]?.value ?? null);
    return {
      name,
      runs: evals.length,
      cells,
      average: present.every((v) => v !== null) && present.length ? meanOf(present) : null,
    };
  });
  return { tasks, rows };
}

export interface CostRow {
  name: string;
  runs: number;
  cost: RunCost;
}

/** The paper's Table 6 shape: training time, tokens and peak memory per method (seeds averaged). */
export function costTable(data: ReportData): CostRow[] {
  const groups: Array<{ name: string; costs: RunCost[] }> = [];
  for (const m of data.methods) {
    if (!m.cost) continue;
    let g = groups.find((x) => x.name === m.name);
    if (!g) {
      g = { name: m.name, costs: [] };
      groups.push(g);
    }
    g.costs.push(m.cost);
  }
  const avg = (cs: RunCost[], k: keyof RunCost) => meanOf(cs.map((c) => num(c[k]))) ?? NaN;
  return groups.map(({ name, costs }) => ({
    name,
    runs: costs.length,
    cost: {
      seconds: avg(costs, 'seconds'),
      generatedTokens: avg(costs, 'generatedTokens'),
      trainedTokens: avg(costs, 'trainedTokens'),
      peakRssMb: avg(costs, 'peakRssMb'),
    },
  }));
}
