/**
 * Progress display for long work: a bar with ETA on a terminal, plain lines otherwise (CI logs,
 * pipes), so output is readable in both.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, line: string): void;
  log(text: string): void;
  stop(): void;
}

export function progress(label: string, total: number): Progress {
  if (!process.stderr.isTTY) {
    const start = performance.now();
    const eta = (done: number) => {
      if (done <= 0 || done >= total) return '';
      const s = (((performance.now() - start) / done) * (total - done)) / 1000;
      return ` | ETA ${s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`}`;
    };
    return {
      update: (done, line) =>
        process.stderr.write(`${label} ${done}/${total}${eta(done)} | ${line}\n`),
      log: (text) => process.stderr.write(`${text}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted} | {line}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { line: '' });
  return {
    update: (done, line) => bar.update(done, { line }),
    log: (text) => {
      bar.stop();
      process.stderr.write(`${text}\n`);
      bar.start(total, 0, { line: '' });
    },
    stop: () => bar.stop(),
  };
}
