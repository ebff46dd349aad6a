/**
 * Evaluation: greedy decoding on held-out samples, scored with the task's verifier and the
 * paper's metrics — gIoU / cIoU / BboxAcc / N-Acc for grounding tasks, accuracy and ROC AUC for
 * the yes/no decisions of non-object and anomaly tasks, accuracy for the rest.
 */
import { Rng } from '../engine/index.js';
import { generate, promptTokens, tokenizerOf, type VisionLanguageModel } from '../model/index.js';
import { evaluateGrounding, evaluatePresence, mean } from '../metrics/index.js';
import { MAX_ACCURACY, isWellFormed } from '../rewards/index.js';
import {
  TASKS,
  rewardForSample,
  type CustomReward,
  type Sample,
  type TaskName,
} from '../tasks/index.js';

export interface EvalOptions {
  template: string;
  noThink: boolean;
  referenceSize: number;
  maxNewTokens: number;
  /** sequences decoded together */
  batchSize?: number;
  /** a user's reward module (its total replaces the built-in one) */
  custom?: CustomReward;
}

export interface TaskEval {
  task: TaskName;
  n: number;
  /** mean total reward */
  reward: number;
  /** fraction of samples whose answer is fully correct (accuracy component at its maximum) */
  accuracy: number;
  /** fraction of responses in the expected <think>/<answer> format */
  formatRate: number;
  gIoU?: number;
  cIoU?: number;
  bboxAcc?: number;
  nAcc?: number | null;
  /** ROC AUC of the presence decision (non-object / anomaly) */
  auc?: number | null;
  /** example responses (first few) for people to read */
  examples: Array<{ prompt: string; response: string; solution: string }>;
}

const PRESENCE_TASKS: ReadonlySet<TaskName> = new Set(['nonobj', 'anomaly']);

/** Greedy responses for samples, decoded to text. */
export function respond(
  model: VisionLanguageModel,
  samples: readonly Sample[],
  o: EvalOptions,
): string[] {
  const out: string[] = [];
  const bs = o.batchSize ?? 64;
  for (let i = 0; i < samples.length; i += bs) {
    const chunk = samples.slice(i, i + bs);
    const images = model.patchify(chunk.map((s) => s.image));
    const gen = generate(
      model,
      {
        images,
        imageOf: Int32Array.from(chunk, (_, k) => k),
        prompts: chunk.map((s) => promptTokens(s, o.template, model.config)),
      },
      { maxNewTokens: o.maxNewTokens, greedy: true, rng: new Rng(0) },
    );
    const tokenizer = tokenizerOf(model.config);
    for (const t of gen.tokens) out.push(tokenizer.decode(t));
  }
  return out;
}

/** Evaluate one task's samples (all of the same task). */
export function evaluateTask(
  model: VisionLanguageModel,
  task: TaskName,
  samples: readonly Sample[],
  o: EvalOptions,
): TaskEval {
  return scoreTask(task, samples, respond(model, samples, o), o);
}

/** The metrics of one task's samples given each one's response. */
export function scoreTask(
  task: TaskName,
  samples: readonly Sample[],
  responses: readonly string[],
  o: Pick<EvalOptions, 'referenceSize' | 'noThink' | 'custom'>,
): TaskEval {
  const rewards = samples.map((s, i) =>
    rewardForSample(s, responses[i]!, {
      referenceSize: o.referenceSize,
      thinking: !o.noThink,
      ...(o.custom ? { custom: o.custom } : {}),
    }),
  );
  const accMax = MAX_ACCURACY[TASKS[task].answerKind];
  const result: TaskEval = {
    task,
    n: samples.length,
    reward: mean(rewards.map((r) => r.total)),
    accuracy: mean(rewards.map((r) => (r.accuracy >= accMax - 1e-9 ? 1 : 0))),
    formatRate: mean(rewards.map((r) => (isWellFormed(r) ? 1 : 0))),
    examples: samples
      .slice(0, 3)
      .map((s, i) => ({ prompt: s.prompt, response: responses[i]!, solution: s.solution })),
  };
  if (TASKS[task].answerKind === 'objects') {
    const g = evaluateGrounding(
      samples.map((s, i) => ({ image: s.image, objects: s.objects, response: responses[i]! })),
    );
    result.gIoU = g.gIoU;
    result.cIoU = g.cIoU;
    result.bboxAcc = g.bboxAcc;
    result.nAcc = g.nAcc;
  }
  if (PRESENCE_TASKS.has(task)) {
    const p = evaluatePresence(
      samples.map((s, i) => ({ present: s.objects.length > 0, responses: [responses[i]!] })),
    );
    result.auc = p.rocAuc;
  }
  return result;
}

/**
 * The headline metric of a task (the paper's choice per benchmark): gIoU for grounding answers,
 * accuracy otherwise; null when absent or not finite.
 */
export function mainMetric(t: TaskEval): { name: 'gIoU' | 'accuracy'; value: number | null } {
  const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
  return TASKS[t.task].answerKind === 'objects'
    ? { name: 'gIoU', value: finite(t.gIoU) }
    : { name: 'accuracy', value: finite(t.accuracy) };
}
