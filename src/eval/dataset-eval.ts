/**
 * Evaluating a checkpoint on a dataset file (`visurf eval MODEL --data PATH`): each image is
 * resized to the model's input for the model to answer, and the answer's coordinates are mapped
 * back to the image's own resolution, where gIoU / cIoU are measured against the file's masks
 * (through the project's segmenter from the predicted box and point, the role SAM2 plays in the
 * paper) and the reward thresholds apply at the reference resolution, as for the authors.
 */
import { resizeSample, scaleBox } from '../data/index.js';
import type { VisionLanguageModel } from '../model/index.js';
import {
  formatAnswerObjects,
  parseResponseObjects,
  splitResponse,
  type AnswerObject,
} from '../rewards/index.js';
import { TASKS, type Sample, type TaskName } from '../tasks/index.js';
import { respond, scoreTask, type EvalOptions, type TaskEval } from './evaluate.js';

/**
 * A reply's coordinates scaled by (sx, sy) — from the model's input to the image's pixels: boxes
 * as inclusive pixel ranges, points rounded; replies without a parseable object list are returned unchanged.
 */
export function scaleReply(reply: string, sx: number, sy: number): string {
  const parsed = parseResponseObjects(reply);
  if (!parsed.ok) return reply;
  const scaled: AnswerObject[] = parsed.objects.map((o) => ({
    // inclusive pixel boxes scale as the dataset's own resize scales them (data/resize.ts)
    bbox: o.bbox ? scaleBox(o.bbox, sx, sy) : null,
    point: o.point ? [Math.round(o.point[0] * sx), Math.round(o.point[1] * sy)] : null,
  }));
  const { think } = splitResponse(reply);
  const answer = `<answer>${formatAnswerObjects(scaled)}</answer>`;
  return think === null ? answer : `<think>${think}</think>${answer}`;
}

export interface Prediction {
  id: string;
  task: string;
  prompt: string;
  solution: string;
  /** the model's reply, coordinates in the model's input */
  response: string;
  /** the same in the image's own pixels (what the metrics scored) */
  scaledResponse: string;
}

/**
 * A dataset sample as evaluation holds it: at full size (what the metrics score against) and as
 * the model sees it (the image resized to the model's input; prompt and task unchanged).
 */
export interface PreparedSample {
  full: Sample;
  view: Sample;
}

/** Each sample resized once for a model whose input is `size`×`size`. */
export async function prepareSamples(
  samples: readonly Sample[],
  size: number,
): Promise<PreparedSample[]> {
  const out: PreparedSample[] = [];
  for (const s of samples) out.push({ full: s, view: await resizeSample(s, size, size) });
  return out;
}

/** Bytes prepared samples hold: both images and every object mask. */
export function preparedBytes(prepared: readonly PreparedSample[]): number {
  let bytes = 0;
  for (const { full, view } of prepared)
    for (const s of [full, view])
      bytes += s.image.data.length + s.objects.reduce((a, o) => a + o.mask.length, 0);
  return bytes;
}

/** Metrics per task of prepared samples (scored at full size), and every prediction. */
export function evaluatePrepared(
  model: VisionLanguageModel,
  prepared: readonly PreparedSample[],
  o: EvalOptions,
): { tasks: TaskEval[]; predictions: Prediction[] } {
  const size = model.config.image.size;
  const predictions: Prediction[] = [];
  const tasks: TaskEval[] = [];
  const byTask = new Map<TaskName, PreparedSample[]>();
  for (const p of prepared) byTask.set(p.full.task, [...(byTask.get(p.full.task) ?? []), p]);
  for (const [task, group] of byTask) {
    const replies = respond(
      model,
      group.map((p) => p.view),
      o,
    );
    const grounding = TASKS[task].answerKind === 'objects';
    const full = group.map((p) => p.full);
    const scaled = replies.map((r, i) =>
      grounding ? scaleReply(r, full[i]!.image.width / size, full[i]!.image.height / size) : r,
    );
    tasks.push(scoreTask(task, full, scaled, o));
    full.forEach((s, i) =>
      predictions.push({
        id: s.id,
        task,
        prompt: s.prompt,
        solution: s.solution,
        response: replies[i]!,
        scaledResponse: scaled[i]!,
      }),
    );
  }
  return { tasks, predictions };
}

/** Metrics per task of the file's samples (full size), and every prediction. */
export async function evaluateDataset(
  model: VisionLanguageModel,
  samples: readonly Sample[],
  o: EvalOptions,
): Promise<{ tasks: TaskEval[]; predictions: Prediction[] }> {
  return evaluatePrepared(model, await prepareSamples(samples, model.config.image.size), o);
}
