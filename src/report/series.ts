/**
 * From run logs to what the report shows: chart series over training steps (gaps where a
 * method logs no value), pass@k curves, and the results and cost tables.
 */
import { mainMetric, type TaskEval } from '../eval/evaluate.js';
import { mean, sampleStd } from '../metrics/index.js';
import type { EvalLog, StepLog } from '../train/trainer.js';
import type { MethodResult, PassAtK, ReportData, RunCost } from './load.js';

export interface Point {
  x: number;
  y: number | null;
  /** progress charts: x is tokens (generated + trained); this is the same point's step count */
  step?: number;
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
  yLog?: boolean;
  /** x is training progress in tokens, each point also carrying its step (the page toggles) */
  progress?: boolean;
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

/** Tokens spent (generated + trained) once a step's log line is written. */
function spentAfter(s: StepLog): number {
  return (num(s.totalGeneratedTokens) ?? 0) + (num(s.totalTrainedTokens) ?? 0);
}

/**
 * One field of the step logs against training progress: x = tokens spent after the step, and
 * the step count; absent / null / NaN values are gaps.
 */
export function progressSeries(steps: readonly StepLog[], pick: (s: StepLog) => unknown): Point[] {
  return steps.map((s) => ({ x: spentAfter(s), y: num(pick(s)), step: s.step + 1 }));
}

/** Tokens spent after `stepCount` steps of a run (0 before the first). */
function tokensAtStep(steps: readonly StepLog[]): (stepCount: number) => number {
  const at = new Map(steps.map((s) => [s.step + 1, spentAfter(s)]));
  return (n) => (n === 0 ? 0 : (at.get(n) ?? NaN));
}

export { mainMetric };

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
  return v.length ? mean(v) : null;
}

/** The spread over seeds: null for fewer than two. */
function stdOf(xs: readonly number[]): number | null {
  return xs.length < 2 ? null : sampleStd(xs);
}

/**
 * Held-out accuracy per evaluation: the mean over tasks (or one task's value); with `only`, the
 * mean over those tasks alone (the same set at every point).
 */
export function evalSeries(
  evals: readonly EvalLog[],
  pick: (t: TaskEval) => number | null,
  task?: string,
  only?: ReadonlySet<string>,
): Point[] {
  return evals.map((e) => {
    const tasks =
      task !== undefined
        ? e.tasks.filter((t) => t.task === task)
        : only
          ? e.tasks.filter((t) => only.has(t.task))
          : e.tasks;
    return { x: e.step, y: meanOf(tasks.map(pick)) };
  });
}

/** The tasks every one of these evaluations has. */
function commonTasks(evals: readonly EvalLog[]): Set<string> {
  const [first, ...rest] = evals;
  const out = new Set(first?.tasks.map((t) => t.task) ?? []);
  for (const e of rest) {
    const here = new Set(e.tasks.map((t) => t.task));
    for (const t of out) if (!here.has(t)) out.delete(t);
  }
  return out;
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
    title: 'Reward, as a fraction of its maximum',
    caption:
      'Mean of total / maximum reward of the rollouts, per task and then over tasks, so tasks whose maxima differ (7 and 4) weigh alike.',
    yTitle: 'reward / max',
    pick: (s) => s.rewardRate,
    yMin: 0,
    yMax: 1,
    emptyWhy: 'No method logs a reward (SFT samples no rollouts).',
  },
  {
    id: 'label-advantage',
    title: 'Label advantage Â_y',
    caption: 'Mean advantage of the ground-truth label within its group (ViSurf, LUFFY).',
    yTitle: 'Â_y',
    pick: (s) => s.labelAdvantageMean,
    emptyWhy: 'No method puts labels into rollout groups (ViSurf and LUFFY do).',
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
    id: 'zero-variance',
    title: 'Groups without signal',
    caption:
      'Fraction of rollout groups whose rewards are all equal: their GRPO advantages are 0, so only an injected label can teach there.',
    yTitle: 'fraction of groups',
    pick: (s) => s.zeroVarianceFraction,
    yMin: 0,
    yMax: 1,
    emptyWhy: 'No method samples rollout groups.',
  },
  {
    id: 'format',
    title: 'Reply format',
    caption: 'Fraction of rollouts with a closed <think> block and a parseable answer.',
    yTitle: 'fraction of rollouts',
    pick: (s) => s.formatRate,
    yMin: 0,
    yMax: 1,
    emptyWhy: 'No method logs the reply format of its rollouts.',
  },
  {
    id: 'label-nll',
    title: 'Label NLL',
    caption: 'Mean negative log-likelihood per label token under the policy being trained.',
    yTitle: 'nats / token',
    pick: (s) => s.labelNll,
    yMin: 0,
    emptyWhy: 'No method trains on labels.',
  },
  {
    id: 'mu',
    title: 'CHORD μ',
    caption: 'The weight of the SFT term in CHORD’s (1 − μ) · GRPO + μ · SFT.',
    yTitle: 'μ',
    pick: (s) => s.mu,
    yMin: 0,
    yMax: 1,
    emptyWhy: 'No CHORD run.',
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

const metric = (id: string) => STEP_METRICS.find((m) => m.id === id)!;

const PROGRESS_X = 'tokens spent (generated + trained)';

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
      xTitle: PROGRESS_X,
      progress: true,
      yTitle: sm.yTitle,
      datasets: [],
      ...(sm.yMin !== undefined ? { yMin: sm.yMin } : {}),
      ...(sm.yMax !== undefined ? { yMax: sm.yMax } : {}),
    };
    for (const { m, label, color } of withRun) {
      const pts = progressSeries(m.run!.steps, sm.pick);
      if (hasValue(pts)) c.datasets.push({ label, color, data: pts });
    }
    finish(c, sm.emptyWhy);
  };

  stepChart(metric('reward'));

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
      xTitle: PROGRESS_X,
      progress: true,
      yTitle,
      yMin: 0,
      yMax: 1,
      datasets: [],
    };
    for (const { m, label, color } of methods) {
      const evals = m.run?.evals.length ? m.run.evals : m.eval ? [m.eval] : [];
      const all =
        data.base?.eval && !evals.some((e) => e.step === 0) ? [data.base.eval, ...evals] : evals;
      // the mean over the tasks every point has, so no point averages other tasks than the rest
      const only = task === undefined ? commonTasks(all) : undefined;
      const tokensAt = tokensAtStep(m.run?.steps ?? []);
      const pts = evalSeries(all, pick, task, only).map((p) => ({
        x: tokensAt(p.x),
        y: Number.isFinite(tokensAt(p.x)) ? p.y : null,
        step: p.x,
      }));
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
      ? `Fraction of held-out samples answered fully correctly, mean over the tasks every evaluation of the method has (eval.jsonl${data.base?.eval ? '; the first point is the base model' : ''}).`
      : `Fraction of held-out samples answered fully correctly (eval.jsonl${data.base?.eval ? '; the first point is the base model' : ''}).`,
    'accuracy',
  );

  for (const id of ['label-advantage', 'smoothing', 'zero-variance', 'format', 'label-nll'])
    stepChart(metric(id));

  // label reward before (solid) and after (dashed) smoothing
  const lr: ChartSpec = {
    id: 'chart-label-reward',
    title: 'Label reward before and after smoothing',
    caption:
      'Mean reward of the injected label as the verifier gave it (solid) and after control 3 (dashed).',
    xTitle: PROGRESS_X,
    progress: true,
    yTitle: 'reward',
    datasets: [],
  };
  for (const { m, label, color } of withRun) {
    const before = progressSeries(m.run!.steps, (s) => s.labelRewardBefore);
    const after = progressSeries(m.run!.steps, (s) => s.labelRewardAfter);
    if (hasValue(before)) lr.datasets.push({ label: `${label} · before`, color, data: before });
    if (hasValue(after))
      lr.datasets.push({ label: `${label} · after`, color, dashed: true, data: after });
  }
  finish(lr, 'No method smooths label rewards (only ViSurf does).');

  // RL-term vs SFT-term gradient norm, one small panel per method, log scale
  for (const { m, label, color } of withRun) {
    const g: ChartSpec = {
      id: `chart-grad-norm-${slug(label)}`,
      title: `Gradient norm: ${label}`,
      caption:
        'Norm of the RL (rollout) part of the gradient — solid — and of the SFT (label) part — dashed; log scale.',
      xTitle: PROGRESS_X,
      progress: true,
      yTitle: '‖∇‖',
      yLog: true,
      datasets: [],
    };
    // log scale: a zero norm (the term absent at that step) is a gap
    const positive = (v: unknown) => (num(v) !== null && (v as number) > 0 ? v : null);
    const rl = progressSeries(m.run!.steps, (s) => positive(s.gradNormRl));
    const sft = progressSeries(m.run!.steps, (s) => positive(s.gradNormSft));
    if (hasValue(rl)) g.datasets.push({ label: 'RL', color, data: rl });
    if (hasValue(sft)) g.datasets.push({ label: 'SFT', color, dashed: true, data: sft });
    finish(g, `${label} logs no gradient norm above 0.`);
  }

  for (const id of ['mu', 'entropy', 'response-length']) {
    const sm = metric(id);
    if (sm.id === 'mu' && !withRun.some(({ m }) => m.run!.steps.some((s) => num(s.mu) !== null)))
      continue; // no CHORD run: no panel
    stepChart(sm);
  }

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
  /** cIoU, N-Acc, AUC, format where measured: mean and spread over seeds */
  secondary: Array<{ name: string; value: number; spread: number | null }>;
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
        secondary: [...sec].map(([n, v]) => ({ name: n, value: meanOf(v)!, spread: stdOf(v) })),
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
