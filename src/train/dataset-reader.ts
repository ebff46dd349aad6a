/**
 * Reading a training dataset for a run: readDataset's per-row checks plus the ones only a run can
 * make (the label earns its task's reward, the prompt fits the model's budget), every row checked
 * before the first step.
 */
import {
  DatasetError,
  readDataset,
  type ColumnMap,
  type ReadResult,
  type RowError,
} from '../data/index.js';
import { referenceResponse, rewardForSample, type Sample, type TaskName } from '../tasks/index.js';
import { renderPrompt, type Tokenizer } from '../model/index.js';

/**
 * Read a training dataset and check, before training starts, that every row is usable: on top of
 * readDataset's per-row checks (columns, types, image decoding, objects JSON), each sample's own
 * label must be scorable by its task's reward — a solution that does not parse (invalid JSON, no
 * boxes, not a number) is reported as field "solution" instead of silently training on a reward
 * that can never be earned — and (with `prompt`) each prompt must fit the model's prompt budget,
 * instead of failing at the step that first draws the row. Without skipBad the first bad row (lowest row number) is thrown as a
 * DatasetError naming file, row and field, with the total count of bad rows; with skipBad bad rows
 * are dropped and counted in `bad` / `errors`.
 */
/** Prompts checked against the model's budget, in the model's tokenizer. */
export interface PromptCheck {
  template: string;
  maxPromptTokens: number;
  tokenizer: Tokenizer;
}

export async function readTrainingDataset(
  path: string,
  opts: {
    skipBad: boolean;
    resize?: { width: number; height: number };
    /** also check each prompt against the model's prompt budget (field problem / text) */
    prompt?: PromptCheck;
    /** task of rows without a task column (default refer) */
    task?: TaskName;
    /** read at most this many rows */
    limit?: number;
    /** the file's names of layout columns (data.columns) */
    columns?: ColumnMap;
    /** sees each good row's sample at full size, before any resize */
    onFullSize?: (s: Sample) => void;
  },
): Promise<ReadResult> {
  // Checked before resizing (readDataset runs `check` on the full-size sample): resizing rebuilds
  // the solution from the parsed objects, which would turn an unparseable solution into a
  // valid-looking "no object" label. Resizing as rows are read keeps one full-size image in
  // memory at a time.
  const r = await readDataset(path, {
    skipBad: true,
    ...(opts.task ? { task: opts.task } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.resize ? { resize: opts.resize } : {}),
    ...(opts.columns ? { columns: opts.columns } : {}),
    check: (s, layout) => {
      const self = rewardForSample(s, referenceResponse(s), {
        referenceSize: s.image.width,
        thinking: false,
      });
      if (self.error !== undefined) return { field: 'solution', message: self.error };
      if (!opts.prompt) {
        opts.onFullSize?.(s);
        return null;
      }
      const tokens =
        1 + opts.prompt.tokenizer.encode(renderPrompt(opts.prompt.template, s.prompt)).length; // <bos> + prompt
      if (tokens <= opts.prompt.maxPromptTokens) {
        opts.onFullSize?.(s);
        return null;
      }
      return {
        field: layout === 'train' ? 'problem' : 'text',
        message: `prompt is ${tokens} tokens with template "${opts.prompt.template}"; the model's budget is ${opts.prompt.maxPromptTokens}`,
      };
    },
  });
  const errors: RowError[] = [...r.errors].sort((a, b) => a.row - b.row);
  if (!opts.skipBad && errors.length > 0) {
    const first = errors[0]!;
    throw new DatasetError({
      ...first,
      message: `${first.message} (${errors.length} bad row(s) of ${r.rows}; data.skipBadRows=true skips and counts them)`,
    });
  }
  return { ...r, bad: errors.length, errors };
}
