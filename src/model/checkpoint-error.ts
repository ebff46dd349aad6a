/**
 * The one error type of the checkpoint / safetensors layer.
 *
 * Every problem with a file on disk (truncated, malformed, inconsistent) is reported as a
 * CheckpointError whose message starts with the file it concerns, so that a user who sees it
 * at the end of a long run knows which file to look at without a stack trace.
 */
export class CheckpointError extends Error {
  /** The file (or in-memory source label) the problem was found in. */
  readonly file: string;
  /** The problem, without the file prefix. */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'CheckpointError';
    this.file = file;
    this.problem = problem;
  }
}

/** Short description of an unknown thrown value, for wrapping foreign errors. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
