/**
 * The training loop shared by every paradigm: take the step's prompts, (RL paradigms) sample
 * and score G rollouts per prompt, let the paradigm build members and advantages, update the
 * policy, log diagnostics, evaluate and checkpoint. State (weights, AdamW moments, RNG, step,
 * counters) is checkpointed atomically, and a run resumes exactly from its latest checkpoint.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { AdamW, BufferArena, Rng, setMatmulDtype, warmupCosineLr } from '../engine/index.js';
import {
  NAMED_CONFIGS,
  VisionLanguageModel,
  checkpointDirForStep,
  latestCheckpoint,
  listCheckpoints,
  loadModel,
  parseModelConfig,
  resolveModelRef,
  saveModel,
  shippedModels,
  tokenizerOf,
  writeFileAtomicSync,
} from '../model/index.js';
import { evaluateTask, type TaskEval } from '../eval/evaluate.js';
import type { Sample } from '../tasks/index.js';
import { ConfigError, type TrainConfig } from './config.js';
import { checkTasks, evalSamples, promptTokens, trainSource, type SampleSource } from './data.js';
import { scheduleOf, type PromptItem, type StepStats } from './paradigms/index.js';
import { sampleGroups } from './rollouts.js';
import { updatePolicy, type UpdateDiagnostics } from './update.js';
import { checkResources } from './resources.js';
import { armTestFault, loadLatestGood, resumeConfigWarning, trimArena } from './guard.js';

/** Everything logged for one step (one line of metrics.jsonl). */
export interface StepLog extends Partial<StepStats>, UpdateDiagnostics {
  step: number;
  /** the paradigm the step ran (its registered name) */
  phase: string;
  lr: number;
  generatedTokens: number;
  /** wall time of sampling + scoring the rollouts, and of the policy update */
  rolloutSeconds: number;
  updateSeconds: number;
  /** cumulative counters since the run began */
  totalGeneratedTokens: number;
  totalTrainedTokens: number;
  seconds: number;
  totalSeconds: number;
  peakRssMb: number;
}

export interface EvalLog {
  step: number;
  tasks: TaskEval[];
}

export interface TrainerState {
  step: number;
  rng: number;
  totalGeneratedTokens: number;
  totalTrainedTokens: number;
  totalSeconds: number;
  nonFiniteStreak: number;
  /** the stage the run is in (a staged method's, e.g. sft-rlvr's 'sft' / 'rl'; see paradigms/schedules.ts) */
  stage: string;
  /** set when training ended (step limit or budget) */
  finished: boolean;
}

export interface TrainHooks {
  onStep?: (log: StepLog, total: number) => void;
  onEval?: (log: EvalLog) => void;
  onMessage?: (text: string) => void;
  /** polled between steps; true = checkpoint now and stop (Ctrl-C) */
  shouldStop?: () => boolean;
  /** test hook: called after each step is logged (may throw to simulate a crash) */
  afterStep?: (step: number) => void;
}

export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

export class NonFiniteError extends Error {
  override name = 'NonFiniteTrainingError';
}

export interface TrainResult {
  runDir: string;
  steps: number;
  finalEval: EvalLog | null;
  state: TrainerState;
}

function spentTokens(s: TrainerState): number {
  return s.totalGeneratedTokens + s.totalTrainedTokens;
}

/** True once the token budget is spent. */
function budgetSpent(cfg: TrainConfig, s: TrainerState): boolean {
  return cfg.budgetTokens > 0 && spentTokens(s) >= cfg.budgetTokens;
}

/** The learning-rate multiplier of a parameter: its longest matching prefix's, else 1. */
export function lrScaleOf(scales: Readonly<Record<string, number>>, name: string): number {
  let best = -1;
  let scale = 1;
  for (const [prefix, s] of Object.entries(scales))
    if (name.startsWith(prefix) && prefix.length > best) {
      best = prefix.length;
      scale = s;
    }
  return scale;
}

/** The model a run starts from: a named config or model config file (fresh, by seed) or a checkpoint. */
export async function initialModel(cfg: TrainConfig): Promise<VisionLanguageModel> {
  const named = NAMED_CONFIGS[cfg.model.init];
  if (named) return VisionLanguageModel.create(named, cfg.seed);
  const path = resolveModelRef(cfg.model.init);
  if (!existsSync(path)) {
    throw new ConfigError(
      `model.init: "${cfg.model.init}" is neither a named config (${Object.keys(NAMED_CONFIGS).join(', ')}), ` +
        `a shipped model (${shippedModels().join(', ') || 'none'}), a model config .json file nor a checkpoint directory`,
    );
  }
  if (path.endsWith('.json') && statSync(path).isFile()) {
    // a model architecture (the config.json format of a checkpoint), initialised from the seed
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`model.init: ${path}: not valid JSON (${(err as Error).message})`);
    }
    return VisionLanguageModel.create(parseModelConfig(raw, path), cfg.seed);
  }
  return (await loadModel(path)).model;
}

/** Rewrite a JSONL log keeping only lines whose step is below `step` (exact resume). */
function truncateLog(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => {
      if (!l.trim()) return false;
      try {
        return (JSON.parse(l) as { step: number }).step < step;
      } catch {
        return false; // a torn last line from a crash
      }
    });
  writeFileAtomicSync(path, kept.length ? `${kept.join('\n')}\n` : '');
}

function maxNewTokens(cfg: TrainConfig, model: VisionLanguageModel): number {
  return cfg.rollout.maxNewTokens > 0
    ? Math.min(cfg.rollout.maxNewTokens, model.config.maxResponseTokens)
    : model.config.maxResponseTokens;
}

export function evalSets(cfg: TrainConfig, imageSize: number): Map<string, Sample[]> {
  const sets = new Map<string, Sample[]>();
  for (const t of checkTasks(cfg.data.tasks, 'config: data.tasks')) {
    sets.set(
      t,
      evalSamples(t, cfg.eval.size, {
        ...(cfg.data.taskOptions as object),
        ...cfg.data.perTaskOptions[t],
        width: imageSize,
        height: imageSize,
      }),
    );
  }
  return sets;
}

export function runEval(
  model: VisionLanguageModel,
  cfg: TrainConfig,
  sets: Map<string, Sample[]>,
  step: number,
): EvalLog {
  const tasks = [...sets].map(([task, samples]) =>
    evaluateTask(model, task as TaskEval['task'], samples, {
      template: cfg.data.template,
      noThink: cfg.noThink,
      referenceSize: cfg.reward.referenceSize,
      maxNewTokens: maxNewTokens(cfg, model),
    }),
  );
  return { step, tasks };
}

/** Run (or resume) training as configured. */
export async function train(cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const say = hooks.onMessage ?? (() => {});
  setMatmulDtype(cfg.model.precision);
  mkdirSync(cfg.runDir, { recursive: true });
  const metricsPath = join(cfg.runDir, 'metrics.jsonl');
  const evalPath = join(cfg.runDir, 'eval.jsonl');

  // Resume from the latest complete checkpoint if there is one.
  const resumed = await loadLatestGood(cfg.runDir, say); // guard.ts: the newest checkpoint that loads
  const latest = resumed?.ref;
  let model: VisionLanguageModel;
  let state: TrainerState = {
    step: 0,
    rng: new Rng(cfg.seed).getState(),
    totalGeneratedTokens: 0,
    totalTrainedTokens: 0,
    totalSeconds: 0,
    nonFiniteStreak: 0,
    stage: scheduleOf(cfg.method).firstStage,
    finished: false,
  };
  let optState = null;
  if (latest) {
    const loaded = resumed!.loaded;
    model = loaded.model;
    optState = loaded.optimizer ?? null;
    state = { ...state, ...(loaded.trainerState as TrainerState) };
    say(`resuming from ${latest.path} (step ${state.step})`);
    const drift = resumeConfigWarning(cfg); // guard.ts: warn when the config changed since the start
    if (drift) say(drift);
  } else {
    model = await initialModel(cfg);
    writeFileAtomicSync(join(cfg.runDir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  }
  const memory = checkResources(cfg, model.config); // refuse configs that cannot fit in memory, before any step
  // Drop log lines written after the checkpoint we resume from (they will be written again).
  truncateLog(metricsPath, state.step);
  truncateLog(evalPath, state.step === 0 ? 0 : state.finished ? state.step : state.step + 1);

  // Parameters with learning rate 0 are frozen: no graph is recorded through them, so a frozen
  // vision encoder costs one forward pass and no backward.
  for (const [name, p] of model.params) p.setTrainable(lrScaleOf(cfg.optim.lrScale, name) > 0);
  const opt = new AdamW(model.parameterList(), {
    lr: cfg.optim.lr,
    beta1: cfg.optim.beta1,
    beta2: cfg.optim.beta2,
    weightDecay: cfg.optim.weightDecay,
    maxGradNorm: cfg.optim.maxGradNorm,
    lrScale: (p) => lrScaleOf(cfg.optim.lrScale, p.name ?? ''),
  });
  if (optState) opt.loadState(optState);
  const refModel = cfg.loss.klCoef > 0 ? (await initialModel(cfg)).frozenCopy() : null;
  const source: SampleSource = await trainSource(cfg, model.config.image.size, model.config);
  const sets = evalSets(cfg, model.config.image.size);
  const rng = new Rng(0);
  rng.setState(state.rng);
  const arena = new BufferArena();
  const newTokens = maxNewTokens(cfg, model);
  const tokenizer = tokenizerOf(model.config);
  const schedule = scheduleOf(cfg.method);

  const saveAt = async (step: number) => {
    const dir = checkpointDirForStep(cfg.runDir, step);
    await saveModel(dir, model, {
      dtype: cfg.checkpoint.dtype,
      optimizer: opt,
      trainerState: { ...state },
    });
    const all = await listCheckpoints(cfg.runDir);
    for (const old of all.slice(0, Math.max(0, all.length - cfg.checkpoint.keep)))
      rmSync(old.path, { recursive: true, force: true });
  };

  for (let step = state.step; step < cfg.steps && !state.finished; step++) {
    if (hooks.shouldStop?.()) {
      await saveAt(step);
      throw new InterruptedError(
        `interrupted before step ${step}; checkpoint saved in ${cfg.runDir}. Resume with the same command.`,
      );
    }
    const t0 = performance.now();
    const { paradigm, stage } = schedule.at(
      step,
      { stage: state.stage, spentTokens: spentTokens(state) },
      cfg,
    );
    if (stage !== state.stage) {
      // A stage boundary (sft-rlvr): keep the model that ended the stage, as a separate run would.
      await saveModel(join(cfg.runDir, `${state.stage}-stage`), model, {
        dtype: cfg.checkpoint.dtype,
      });
      say(
        `${state.stage.toUpperCase()} stage done at step ${step}; continuing with ${paradigm.name.toUpperCase()} from it`,
      );
      state.stage = stage;
    }
    const samples = Array.from({ length: cfg.promptsPerStep }, (_, i) =>
      source.get(step * cfg.promptsPerStep + i),
    );
    const images = model.patchify(samples.map((s) => s.image));
    const items: PromptItem[] = samples.map((s, i) => ({
      sample: s,
      image: i,
      prompt: promptTokens(s, cfg.data.template, model.config),
    }));
    const tRollout = performance.now();
    const sampled = paradigm.samplesRollouts
      ? sampleGroups(model, images, items, cfg, { rng, maxNewTokens: newTokens, tokenizer })
      : { groups: [], generated: 0 };
    const generated = sampled.generated;
    const { members, stats } = paradigm.members({
      items,
      groups: sampled.groups,
      cfg,
      tokenizer,
      maxNewTokens: newTokens,
    });
    const rolloutSeconds = (performance.now() - tRollout) / 1000;
    const tUpdate = performance.now();
    const lr = warmupCosineLr(step, {
      baseLr: cfg.optim.lr,
      warmupSteps: cfg.optim.warmupSteps,
      totalSteps: cfg.steps,
      minLrRatio: cfg.optim.minLrRatio,
    });
    armTestFault(step, opt); // no-op unless VISURF_TEST_INJECT_NAN names this step (tests)
    const diag = updatePolicy(
      model,
      opt,
      images,
      members,
      {
        loss: paradigm.loss,
        epochs: paradigm.loss === 'nll' ? 1 : cfg.ppoEpochs,
        microBatch: cfg.microBatch,
        clipLow: cfg.loss.clipLow,
        clipHigh: cfg.loss.clipHigh,
        aggregation: cfg.loss.aggregation,
        normLength: newTokens,
        klCoef: cfg.loss.klCoef,
        klKind: cfg.loss.klKind,
        entropyCoef: cfg.loss.entropyCoef,
        lr,
        arena,
      },
      refModel,
    );
    const updateSeconds = (performance.now() - tUpdate) / 1000;
    trimArena(arena, memory.arenaRetained); // the arena must not grow with every new sequence length
    if (diag.skipped) {
      state.nonFiniteStreak++;
      say(`step ${step}: non-finite loss or gradient (grad norm ${diag.gradNorm}); update skipped`);
      if (cfg.onNonFinite === 'stop' || state.nonFiniteStreak >= cfg.maxNonFiniteSteps) {
        await saveAt(step);
        throw new NonFiniteError(
          `step ${step}: ${state.nonFiniteStreak} consecutive step(s) with NaN/Inf in the loss or gradients; ` +
            `stopped with the last good weights saved in ${cfg.runDir}. Lower optim.lr or check the data.`,
        );
      }
    } else state.nonFiniteStreak = 0;
    const seconds = (performance.now() - t0) / 1000;
    state.step = step + 1;
    state.rng = rng.getState();
    state.totalGeneratedTokens += generated;
    state.totalTrainedTokens += diag.backwardTokens;
    state.totalSeconds += seconds;
    const log: StepLog = {
      step,
      phase: paradigm.name,
      lr,
      ...stats,
      ...diag,
      generatedTokens: generated,
      rolloutSeconds,
      updateSeconds,
      totalGeneratedTokens: state.totalGeneratedTokens,
      totalTrainedTokens: state.totalTrainedTokens,
      seconds,
      totalSeconds: state.totalSeconds,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    appendFileSync(metricsPath, `${JSON.stringify(log)}\n`);
    hooks.onStep?.(log, cfg.steps);
    if (budgetSpent(cfg, state)) state.finished = true;
    const last = step + 1 === cfg.steps || state.finished;
    if (last) state.finished = true;
    if (cfg.eval.every > 0 && (step + 1) % cfg.eval.every === 0 && !last) {
      const ev = runEval(model, cfg, sets, step + 1);
      appendFileSync(evalPath, `${JSON.stringify(ev)}\n`);
      hooks.onEval?.(ev);
    }
    if ((cfg.checkpoint.every > 0 && (step + 1) % cfg.checkpoint.every === 0) || last)
      await saveAt(step + 1);
    hooks.afterStep?.(step);
  }
  let finalEval: EvalLog | null = null;
  if (state.finished) {
    finalEval = runEval(model, cfg, sets, state.step);
    appendFileSync(evalPath, `${JSON.stringify(finalEval)}\n`);
    hooks.onEval?.(finalEval);
    writeFileSync(
      join(cfg.runDir, 'final.json'),
      `${JSON.stringify({ state, eval: finalEval }, null, 2)}\n`,
    );
  }
  return { runDir: cfg.runDir, steps: state.step, finalEval, state };
}
