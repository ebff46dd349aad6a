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

/** Metrics per task of the file's samples (full size), and every prediction. */
export async function evaluateDataset(
  model: VisionLanguageModel,
  samples: readonly Sample[],
  o: EvalOptions,
): Promise<{ tasks: TaskEval[]; predictions: Prediction[] }> {
  const size = model.config.image.size;
  const predictions: Prediction[] = [];
  const tasks: TaskEval[] = [];
  const byTask = new Map<TaskName, Sample[]>();
  for (const s of samples) byTask.set(s.task, [...(byTask.get(s.task) ?? []), s]);
  for (const [task, group] of byTask) {
    const small: Sample[] = [];
    for (const s of group) small.push(await resizeSample(s, size, size));
    const replies = respond(model, small, o);
    const grounding = TASKS[task].answerKind === 'objects';
    const scaled = replies.map((r, i) =>
      grounding ? scaleReply(r, group[i]!.image.width / size, group[i]!.image.height / size) : r,
    );
    tasks.push(scoreTask(task, group, scaled, o));
    group.forEach((s, i) =>
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
