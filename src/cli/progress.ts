/**
 * Progress display for long work: a bar with ETA on a terminal, plain lines otherwise (CI logs,
 * pipes), so output is readable in both.
 */
import cliProgress from 'cli-progress';
import type { StepLog } from '../train/trainer.js';
import { stepLine } from './tables.js';

export interface Progress {
  update(done: number, line: string): void;
  log(text: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** how a count is shown (default: as is), e.g. `412k` for token counts */
  formatCount?: (n: number) => string;
  /** appended to `done/total`, e.g. ` tokens` */
  unit?: string;
  /** where to draw (default process.stderr); a bar when it is a TTY, plain lines otherwise */
  stream?: NodeJS.WriteStream;
}

/**
 * Time left from the rate since the first update (a resumed run starts part-way: its earlier
 * work took no time here); '' until there is a rate, so no bar ever shows a made-up ETA.
 */
export function etaEstimator(total: number): (done: number) => string {
  let first: { done: number; at: number } | null = null;
  return (done) => {
    const now = performance.now();
    if (first === null) {
      first = { done, at: now };
      return '';
    }
    const rate = (done - first.done) / (now - first.at);
    if (!(rate > 0) || done >= total) return '';
    const s = (total - done) / rate / 1000;
    return `ETA ${s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`}`;
  };
}

export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const fmt = opts.formatCount ?? String;
  const unit = opts.unit ?? '';
  const out = opts.stream ?? process.stderr;
  const eta = etaEstimator(total);
  if (!out.isTTY) {
    return {
      update: (done, line) => {
        const e = eta(done);
        out.write(`${label} ${fmt(done)}/${fmt(total)}${unit}${e ? ` | ${e}` : ''} | ${line}\n`);
      },
      log: (text) => out.write(`${text}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total}${unit} | {eta} | {line}`,
      stream: out,
      hideCursor: true,
      etaBuffer: 20,
      clearOnComplete: false,
      formatValue: (v: number, _o: unknown, type: string) =>
        type === 'value' || type === 'total' ? fmt(v) : String(v),
    },
    cliProgress.Presets.shades_classic,
  );
  let last = 0;
  let lastLine = '';
  let lastEta = 'ETA –';
  let active = true;
  bar.start(total, 0, { line: '', eta: lastEta });
  return {
    update: (done, line) => {
      last = done;
      lastLine = line;
      lastEta = eta(done) || 'ETA –';
      if (active) bar.update(done, { line, eta: lastEta });
    },
    log: (text) => {
      if (!active) return void out.write(`${text}\n`);
      // stop, print, and redraw the bar where it was (not from zero)
      bar.stop();
      out.write(`${text}\n`);
      bar.start(total, last, { line: lastLine, eta: lastEta });
    },
    stop: () => {
      // a stopped bar stays stopped: a later log line must not restart its redraw timer
      active = false;
      bar.stop();
    },
  };
}

/** `412k`, `1.2M`: token counts short enough for a progress line. */
export function formatTokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(n);
}

/** What a training progress display needs to know about the run. */
export interface TrainExtent {
  steps: number;
  budgetTokens: number;
}

export interface TrainProgress {
  step(log: StepLog): void;
  log(text: string): void;
  stop(): void;
}

/**
 * Progress of a training run. Under a token budget the run ends when the budget is spent, long
 * before its step limit, so progress (and the ETA) counts tokens spent; otherwise steps.
 */
export function trainProgress(
  label: string,
  run: TrainExtent,
  stream?: NodeJS.WriteStream,
): TrainProgress {
  const byTokens = run.budgetTokens > 0;
  const bar = byTokens
    ? progress(label, run.budgetTokens, { formatCount: formatTokens, unit: ' tokens', stream })
    : progress(label, run.steps, { stream });
  let stopped = false;
  return {
    step: (l) => {
      if (stopped) return;
      const spent = l.totalGeneratedTokens + l.totalTrainedTokens;
      const done = byTokens ? Math.min(spent, run.budgetTokens) : l.step + 1;
      // tokens run per second of the step (generated + forward/backward)
      const rate = l.seconds > 0 ? (l.generatedTokens + l.backwardTokens) / l.seconds : 0;
      const line = `${stepLine(l)} · ${formatTokens(Math.round(rate))} tok/s`;
      bar.update(done, byTokens ? `step ${l.step + 1} · ${line}` : line);
      if ((byTokens && spent >= run.budgetTokens) || l.step + 1 >= run.steps) {
        stopped = true;
        bar.stop();
      }
    },
    log: (text) => bar.log(text),
    stop: () => {
      stopped = true;
      bar.stop();
    },
  };
}
