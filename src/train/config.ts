/**
 * The training configuration: one typed, validated object (TRL-style: every field documented,
 * every default stated), read from YAML/JSON and overridden by `--set key=value` flags.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_BASE } from '../model/shipped.js';
import type { ModelConfig } from '../model/config.js';
import type { LossAggregation } from '../algorithms/index.js';

import { METHODS, scheduleOf, type Method } from './paradigms/index.js';
import { didYouMean } from './suggest.js';
import { LAYOUT_COLUMNS, columnMapProblems } from '../data/index.js';

export { METHODS, type Method };

/** The prompt template runs use unless data.template says otherwise. */
export const DEFAULT_TEMPLATE = 'compact';

const positiveInt = z.number().int().positive();
const AGGREGATIONS = [
  'seq-mean-token-mean',
  'token-mean',
  'seq-mean-token-sum',
  'seq-mean-token-sum-norm',
] as const satisfies readonly LossAggregation[];

/**
 * Most held-out samples per task: an evaluation holds its samples, their masks and replies in
 * memory (about 20 KB each at 64 px), so 10 000 per task stays near 2 GB for the whole suite.
 */
export const MAX_EVAL_SIZE = 10_000;
const nonNegInt = z.number().int().min(0);

export const TrainConfigSchema = z
  .object({
    /** the paradigm */
    method: z.enum(METHODS).default('visurf'),
    /** run directory: logs, checkpoints, results */
    runDir: z.string().min(1).default('runs/visurf'),
    seed: z.number().int().default(0),
    model: z
      .object({
        /**
         * a named config (small, small-conv, tiny, bench) or a model config .json file (the
         * format of a checkpoint's config.json) to initialise from seed, or a checkpoint directory
         */
        init: z.string().min(1).default(DEFAULT_BASE),
        /** matmul precision: bf16 inputs with f32 accumulation, or f32 */
        precision: z.enum(['f32', 'bf16']).default('f32'),
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** task families to train on (generated on the fly), ignored when `path` is set */
        tasks: z.array(z.string()).min(1).default(['refer']),
        /** a Parquet/JSONL dataset in the Seg-Zero layout instead of generated data */
        path: z.string().optional(),
        /**
         * a Parquet/JSONL validation file (either layout): evaluation scores its first eval.size
         * rows at their own resolution instead of the generated sets of `tasks`
         */
        valPath: z.string().optional(),
        /**
         * the file's names of layout columns, for data.path and data.valPath (like EasyR1's
         * prompt_key / image_key / answer_key), e.g. { problem: question, image: img }
         */
        columns: z.record(z.string(), z.string().min(1)).default({}),
        /** skip (and count) malformed rows instead of stopping */
        skipBadRows: z.boolean().default(false),
        /** generator options for every task: allowEmpty, allowDefects, emptyRate, countTrace */
        taskOptions: z.record(z.string(), z.unknown()).default({}),
        /** generator options for one task, over taskOptions, e.g. { nonobj: { allowEmpty: false } } */
        perTaskOptions: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
        /** relative sampling weight of each task (default 1 each) */
        taskWeights: z.record(z.string(), z.number().positive()).default({}),
        /** prompt template name or literal with {query} */
        template: z.string().default(DEFAULT_TEMPLATE),
        /**
         * Stages trained first, in order, each for `steps` optimizer steps with its own task mix
         * (e.g. attribute questions before grounding); then `tasks`/`taskWeights` for the rest.
         * Evaluation always uses `tasks`.
         */
        curriculum: z
          .array(
            z
              .object({
                steps: positiveInt,
                tasks: z.array(z.string()).min(1),
                taskWeights: z.record(z.string(), z.number().positive()).default({}),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    /** train and evaluate without <think> (the paper's NoThink variant) */
    noThink: z.boolean().default(false),
    /** optimizer steps in total (for sft-rlvr: SFT steps + RL steps) */
    steps: positiveInt.default(50),
    /**
     * compute budget in tokens (generated + trained, image tokens included); training stops at
     * the first step that reaches it, so methods can be compared at equal compute (0 = off).
     * For sft-rlvr the SFT stage ends at half the budget (or at sftSteps, whichever is first).
     */
    budgetTokens: nonNegInt.default(0),
    /** sft-rlvr only: how many of the steps are SFT before switching to RLVR */
    sftSteps: nonNegInt.default(0),
    /** prompts per step */
    promptsPerStep: positiveInt.default(8),
    /** sequences per forward/backward pass (memory bound); 0 = all at once */
    microBatch: nonNegInt.default(0),
    /** update epochs over each batch (PPO epochs); 1 = on-policy, ratio 1 */
    ppoEpochs: positiveInt.default(1),
    rollout: z
      .object({
        /** rollouts per prompt (G) */
        groupSize: positiveInt.default(8),
        temperature: z.number().positive().default(1),
        topP: z.number().gt(0).max(1).default(1),
        topK: nonNegInt.default(0),
        /** cap on response tokens (defaults to the model's maxResponseTokens) */
        maxNewTokens: nonNegInt.default(0),
      })
      .strict()
      .prefault({}),
    optim: z
      .object({
        lr: z.number().positive().default(1e-4),
        warmupSteps: nonNegInt.default(0),
        minLrRatio: z.number().min(0).max(1).default(1),
        weightDecay: z.number().min(0).default(0),
        maxGradNorm: z.number().min(0).default(1),
        beta1: z.number().min(0).lt(1).default(0.9),
        beta2: z.number().min(0).lt(1).default(0.999),
        /**
         * learning-rate multipliers by parameter-name prefix (the longest matching prefix wins;
         * default 1), e.g. { "vision.": 0 } freezes the vision encoder, as LLaVA's first stage
         * does with its pretrained vision tower
         */
        lrScale: z.record(z.string(), z.number().min(0)).default({}),
      })
      .strict()
      .prefault({}),
    loss: z
      .object({
        clipLow: z.number().min(0).default(0.2),
        clipHigh: z.number().min(0).default(0.2),
        /** how the policy loss averages over tokens and sequences (verl's loss_agg_mode) */
        aggregation: z.enum(AGGREGATIONS).default('seq-mean-token-mean'),
        /**
         * the same for the NLL of SFT (and of SFT->RLVR's first stage): token-mean weighs every
         * label token alike, so long answers dominate a mixed batch; seq-mean-token-mean weighs
         * every sample alike, so a one-word answer counts as much as a three-box one
         */
        sftAggregation: z.enum(AGGREGATIONS).default('token-mean'),
        /** KL penalty to the initial policy (0 = off, as in the paper) */
        klCoef: z.number().min(0).default(0),
        klKind: z.enum(['k1', 'k3']).default('k3'),
        /** entropy bonus coefficient (0 = off) */
        entropyCoef: z.number().min(0).default(0),
      })
      .strict()
      .prefault({}),
    label: z
      .object({
        /**
         * the reasoning every label method's label carries (algorithms/label-reasoning.ts):
         * `method` keeps each method's own (the teacher's trace for sft, sft-rlvr, chord and
         * luffy; none for visurf, whose control 2 decides its think block), or one of `none`,
         * `teacher`, `borrowed` for all (`borrowed` needs rollouts: not sft or sft-rlvr)
         */
        reasoning: z.enum(['method', 'none', 'teacher', 'borrowed']).default('method'),
      })
      .strict()
      .prefault({}),
    /** CHORD (method chord): loss (1 − μ)·GRPO + μ·SFT on the label, μ scheduled (algorithms/chord.ts) */
    chord: z
      .object({
        /** μ after the warm-up: its largest value */
        muPeak: z.number().min(0).max(1).default(0.5),
        /** μ once decayed */
        muValley: z.number().min(0).max(1).default(0.02),
        /** steps of linear warm-up to the peak */
        muWarmupSteps: nonNegInt.default(0),
        /** steps of cosine decay to the valley after the warm-up (0 = the rest of the run) */
        muDecaySteps: nonNegInt.default(0),
      })
      .strict()
      .prefault({}),
    /** LUFFY (method luffy): the label in the group as an off-policy member, shaped by f(p) = p/(p+γ) */
    luffy: z
      .object({
        gamma: z.number().positive().default(0.1),
      })
      .strict()
      .prefault({}),
    advantage: z
      .object({
        std: z.enum(['sample', 'population']).default('sample'),
        eps: z.number().min(0).default(1e-6),
      })
      .strict()
      .prefault({}),
    /** ViSurf's three reward controls (ablations switch them off) */
    controls: z
      .object({
        align: z.boolean().default(true),
        eliminateThinking: z.boolean().default(true),
        smooth: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    reward: z
      .object({
        /** resolution at which pixel thresholds (L1 < 10, point < 30 px) are defined */
        referenceSize: positiveInt.default(840),
        /**
         * a JavaScript module whose reward replaces the built-in total (tasks/custom-reward.ts):
         * default export (response, sample) => number | {component: number}
         */
        module: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    eval: z
      .object({
        /** evaluate every N steps (0 = only at the end) */
        every: nonNegInt.default(0),
        /** held-out samples per task (all are held in memory while evaluated) */
        size: positiveInt.max(MAX_EVAL_SIZE).default(32),
        /**
         * also evaluate each time the run passes k/points of its budget (of budgetTokens when
         * set, else of steps), k = 1..points-1: evenly spaced curves for runs compared at equal
         * tokens (0 = off)
         */
        points: nonNegInt.default(0),
        /** tasks evaluated besides data.tasks, with default generator options (forgetting) */
        extraTasks: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        /** write the prompts, replies, rewards and advantages to completions.jsonl every N steps (0 = off) */
        completionsEvery: nonNegInt.default(10),
        /** prompts per logged step */
        completionsPerStep: positiveInt.default(2),
      })
      .strict()
      .prefault({}),
    checkpoint: z
      .object({
        /** save every N steps (0 = only at the end and by `minutes`) */
        every: nonNegInt.default(0),
        /**
         * also save after the first step that ends this many minutes after the last save
         * (0 = off), so a killed run loses at most about this much work by default
         */
        minutes: z.number().min(0).default(10),
        /**
         * bf16 halves model.safetensors; the exact f32 weights go beside the optimizer's moments,
         * so a resumed run still matches an uninterrupted one bit for bit
         */
        dtype: z.enum(['f32', 'bf16']).default('f32'),
        /** how many step checkpoints to keep (oldest removed first) */
        keep: positiveInt.default(2),
      })
      .strict()
      .prefault({}),
    /** on NaN/Inf in loss or gradients: skip the step, or stop with a checkpoint */
    onNonFinite: z.enum(['skip', 'stop']).default('skip'),
    /** consecutive non-finite steps after which the run stops with a diagnosis */
    maxNonFiniteSteps: positiveInt.default(5),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The keys an object schema at `path` of `schema` accepts (through defaults and optionals). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (let k = 0; k < 8; k++) {
      const u = s as { unwrap?: () => unknown; element?: unknown };
      if (typeof u.unwrap === 'function') s = u.unwrap();
      else break;
    }
  };
  unwrap();
  for (const p of path) {
    const o = s as { shape?: Record<string, unknown>; element?: unknown };
    if (typeof p === 'number' && o.element) s = o.element;
    else if (o.shape && typeof p === 'string' && p in o.shape) s = o.shape[p];
    else return [];
    unwrap();
  }
  const shape = (s as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * The issues as lines naming where each came from: the `--set` flag that set the key when one
 * did (the user's words), else the file and the key path.
 */
function describeIssues(
  err: z.ZodError,
  source: string,
  schema: z.ZodType,
  sets: readonly string[] = [],
): string {
  const flagFor = (key: string) => sets.find((f) => f.slice(0, f.indexOf('=')) === key);
  return err.issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : '(root)';
      if (i.code === 'unrecognized_keys') {
        const known = keysAt(schema, i.path);
        const keys = (i as { keys: string[] }).keys;
        return keys
          .map((k) => {
            const flag = flagFor([...i.path, k].join('.'));
            const what = `unknown key "${k}"${didYouMean(k, known)}`;
            return flag ? `--set ${flag}: ${what}` : `${source}: ${where}: ${what}`;
          })
          .join('\n');
      }
      const flag = flagFor(i.path.join('.'));
      return flag ? `--set ${flag}: ${i.message}` : `${source}: ${where}: ${i.message}`;
    })
    .join('\n');
}

/** Validate a raw object into a full config with defaults; errors name the source and key. */
export function parseTrainConfig(
  raw: unknown,
  source = 'config',
  /** the --set flags applied to raw, so errors can name the flag the user typed */
  sets: readonly string[] = [],
): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(describeIssues(r.error, source, TrainConfigSchema, sets));
  const c = r.data;
  try {
    JSON.stringify(c); // the run directory records it; a self-referencing YAML anchor cannot be
  } catch (err) {
    throw new ConfigError(
      `${source}: not representable as JSON (${(err as Error).message.split('\n')[0]}); does a YAML anchor refer to itself?`,
    );
  }
  for (const k of Object.keys(c.data.columns))
    if (!LAYOUT_COLUMNS.includes(k))
      throw new ConfigError(
        `${source}: data.columns: "${k}" is not a layout column${didYouMean(k, LAYOUT_COLUMNS)}; expected one of ${LAYOUT_COLUMNS.join(', ')}`,
      );
  const problems = columnMapProblems(c.data.columns);
  if (problems.length) throw new ConfigError(`${source}: data.columns: ${problems.join('; ')}`);
  if (c.data.curriculum.length && c.data.path)
    throw new ConfigError(
      `${source}: data.curriculum: stages draw generated tasks; it cannot be used with data.path`,
    );
  const curriculumSteps = c.data.curriculum.reduce((a, st) => a + st.steps, 0);
  if (curriculumSteps >= c.steps)
    throw new ConfigError(
      `${source}: data.curriculum: its stages take ${curriculumSteps} steps, so none of the ${c.steps} steps would train on data.tasks`,
    );
  if (
    c.method === 'sft-rlvr' &&
    c.budgetTokens === 0 &&
    (c.sftSteps <= 0 || c.sftSteps >= c.steps)
  ) {
    throw new ConfigError(
      `${source}: sftSteps: sft-rlvr needs 0 < sftSteps < steps (got ${c.sftSteps} of ${c.steps})`,
    );
  }
  // A paradigm that learns from its rollouts alone needs two to compare: the group-normalised
  // advantage of a group of one is always 0, so it would train nothing (ViSurf adds the label).
  const rolloutsOnly = scheduleOf(c.method).paradigms.find(
    (p) => p.samplesRollouts && !p.injectsLabels,
  );
  if (rolloutsOnly && c.rollout.groupSize < 2)
    throw new ConfigError(
      `${source}: rollout.groupSize: ${c.method} needs at least 2 rollouts per prompt (got ${c.rollout.groupSize}); ` +
        `${rolloutsOnly.name}'s group-normalised advantage is 0 for a group of one, so it would train nothing`,
    );
  const labelsWithoutRollouts = scheduleOf(c.method).paradigms.find(
    (p) => p.injectsLabels && !p.samplesRollouts,
  );
  if (c.label.reasoning === 'borrowed' && labelsWithoutRollouts)
    throw new ConfigError(
      `${source}: label.reasoning: borrowed takes the reasoning of the group's best rollout, and ${c.method}'s ` +
        `${labelsWithoutRollouts.name} steps sample none (use none or teacher)`,
    );
  return c;
}

/** The most tokens a reply may have under a config: rollout.maxNewTokens, capped by the model's. */
export function responseBudget(
  cfg: TrainConfig,
  model: Pick<ModelConfig, 'maxResponseTokens'>,
): number {
  return cfg.rollout.maxNewTokens > 0
    ? Math.min(cfg.rollout.maxNewTokens, model.maxResponseTokens)
    : model.maxResponseTokens;
}

/** Read a YAML or JSON file into a raw object (not yet validated). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${path}: the top level must be a mapping of keys to values`);
  return value as Record<string, unknown>;
}

/** Parse the value of `--set key=value`: YAML scalars/lists (numbers, booleans, [a, b]) or strings. */
function parseValue(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return text;
  }
}

/** Apply `a.b.c=value` overrides to a raw config object (copying, never mutating the input). */
export function applyOverrides(
  raw: Record<string, unknown>,
  sets: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${s}: expected key=value`);
    const path = s.slice(0, eq).split('.');
    if (
      path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')
    ) {
      throw new ConfigError(`--set ${s}: invalid key`);
    }
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        throw new ConfigError(`--set ${s}: ${key} is not a section`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseValue(s.slice(eq + 1));
  }
  return out;
}
