/**
 * The training loop shared by every paradigm: take the step's prompts, (RL paradigms) sample
 * and score G rollouts per prompt, let the paradigm build members and advantages, update the
 * policy, log diagnostics, evaluate and checkpoint. State (weights, AdamW moments, RNG, step,
 * counters) is checkpointed atomically, and a run resumes exactly from its latest checkpoint.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, BufferArena, Rng, setMatmulDtype, warmupCosineLr } from '../engine/index.js';
import {
  NAMED_CONFIGS,
  VisionLanguageModel,
  checkpointDirForStep,
  listCheckpoints,
  loadModel,
  removeCheckpoint,
  removeCheckpointLeftovers,
  parseModelConfig,
  type ModelConfig,
  resolveCheckpointDir,
  resolveModelRef,
  saveModel,
  shippedModels,
  tokenizerOf,
  appendFileChecked,
  writeFileAtomicSync,
} from '../model/index.js';
import { loadCustomReward } from '../tasks/index.js';
import { countDatasetRows } from '../data/index.js';
import { ConfigError, responseBudget, type TrainConfig } from './config.js';
import { promptTokens, trainSource, type SampleSource } from './data.js';
import { scheduleOf, type PromptItem, type RewardSettings } from './paradigms/index.js';
import { sampleGroups } from './rollouts.js';
import { completionLines } from './completions.js';
import { updatePolicy, type UpdateOptions } from './update.js';
import { checkResources, trimArena } from './resources.js';
import { stepLogLine, type StepLog } from './step-log.js';
import { evalLogLine, runFile, writeFinal } from './run-files.js';
import { buildEvalSuite, evalOptionsOf, runEvalSuite, type EvalLog } from './eval-suite.js';
import { armTestFault } from './fault-injection.js';
import { loadLatestGood, resumeConfigWarning } from './resume.js';
import { lockRunDir } from './run-lock.js';
import { RunStateError, validateTrainerState, type TrainerState } from './run-state.js';

export type { StepLog } from './step-log.js';
export type { EvalLog } from './eval-suite.js';

export type { TrainerState } from './run-state.js';

export interface TrainHooks {
  onStep?: (log: StepLog, total: number) => void;
  onEval?: (log: EvalLog) => void;
  onMessage?: (text: string) => void;
  /** polled between steps; true = checkpoint now and stop (Ctrl-C) */
  shouldStop?: () => boolean;
  /** called with true when a checkpoint write starts and false when it ends */
  saving?: (active: boolean) => void;
  /** test hook: called after each step is logged (may throw to simulate a crash) */
  afterStep?: (step: number) => void;
}

export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

export class NonFiniteTrainingError extends Error {
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

/** `eval.every`: the step count is a multiple of it. */
function evalEvery(cfg: TrainConfig, step: number): boolean {
  return cfg.eval.every > 0 && (step + 1) % cfg.eval.every === 0;
}

/**
 * `eval.points`: this step carried the run past one of k/points of its budget (tokens when
 * budgetTokens is set, else steps).
 */
function evalPointPassed(
  cfg: TrainConfig,
  step: number,
  spentBefore: number,
  s: TrainerState,
): boolean {
  if (cfg.eval.points <= 0) return false;
  const [before, after] =
    cfg.budgetTokens > 0
      ? [spentBefore / cfg.budgetTokens, spentTokens(s) / cfg.budgetTokens]
      : [step / cfg.steps, (step + 1) / cfg.steps];
  return Math.floor(after * cfg.eval.points) > Math.floor(before * cfg.eval.points);
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

/**
 * The architecture behind a `model.init` value without loading weights: a named config, a model
 * config .json, or a shipped model's / checkpoint's config.json.
 */
export function modelConfigOf(ref: string): ModelConfig {
  const named = NAMED_CONFIGS[ref];
  if (named) return named;
  const path = resolveModelRef(ref);
  const file = path.endsWith('.json') ? path : join(path, 'config.json');
  if (!existsSync(file))
    throw new ConfigError(
      `model "${ref}": no ${file} (a named config: ${Object.keys(NAMED_CONFIGS).join(', ')}; a shipped model: ${shippedModels().join(', ') || 'none'}; or a checkpoint directory)`,
    );
  return parseModelConfig(JSON.parse(readFileSync(file, 'utf8')), file);
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
  return (await loadModel(await resolveCheckpointDir(path))).model;
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

/** Run (or resume) training as configured. One trainer per run directory (run-lock.ts). */
export async function train(cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const say = hooks.onMessage ?? (() => {});
  mkdirSync(cfg.runDir, { recursive: true });
  const unlock = lockRunDir(cfg.runDir, say);
  try {
    return await trainLocked(cfg, hooks, say);
  } finally {
    unlock();
  }
}

/** Where a run starts: its latest good checkpoint (validated), or step 0. */
async function startingPoint(cfg: TrainConfig, say: (text: string) => void) {
  const schedule = scheduleOf(cfg.method);
  const fresh: TrainerState = {
    step: 0,
    rng: new Rng(cfg.seed).getState(),
    totalGeneratedTokens: 0,
    totalTrainedTokens: 0,
    totalSeconds: 0,
    nonFiniteStreak: 0,
    stage: schedule.stages[0]!,
    finished: false,
  };
  const resumed = await loadLatestGood(cfg.runDir, say); // resume.ts: the newest checkpoint that loads
  if (!resumed)
    return { model: await initialModel(cfg), state: fresh, optState: null, resumed: false };
  const { ref, loaded } = resumed;
  const state = validateTrainerState(loaded.trainerState, ref.path, {
    steps: cfg.steps,
    stages: schedule.stages,
  });
  if (!loaded.optimizer)
    throw new RunStateError(
      `${join(ref.path, 'optimizer.safetensors')}: missing; without the optimizer state this checkpoint cannot resume the run exactly`,
    );
  say(`resuming from ${ref.path} (step ${state.step})`);
  const drift = resumeConfigWarning(cfg); // resume.ts: warn when the config changed since the start
  if (drift) say(drift);
  if (state.finished && state.step < cfg.steps && !budgetSpent(cfg, state)) {
    state.finished = false;
    say(`the run had finished at step ${state.step}; extending it to steps=${cfg.steps}`);
  }
  return { model: loaded.model, state, optState: loaded.optimizer, resumed: true };
}

/**
 * Saving a run's checkpoints: at a step, when one is due (every N steps or M minutes), keeping
 * the newest `checkpoint.keep`; a save is never abandoned half-way by a second interrupt
 * (hooks.saving tells the CLI).
 */
function checkpointer(
  cfg: TrainConfig,
  model: VisionLanguageModel,
  opt: AdamW,
  state: TrainerState,
  hooks: TrainHooks,
) {
  const saving = async (what: () => Promise<void>) => {
    hooks.saving?.(true);
    try {
      await what();
    } finally {
      hooks.saving?.(false);
    }
  };
  let lastSave = performance.now();
  const saveAt = (step: number) =>
    saving(async () => {
      await saveModel(checkpointDirForStep(cfg.runDir, step), model, {
        dtype: cfg.checkpoint.dtype,
        optimizer: opt,
        trainerState: { ...state },
      });
      lastSave = performance.now();
      const all = await listCheckpoints(cfg.runDir);
      for (const old of all.slice(0, Math.max(0, all.length - cfg.checkpoint.keep)))
        await removeCheckpoint(old.path);
    });
  const saveDue = (step: number) =>
    (cfg.checkpoint.every > 0 && step % cfg.checkpoint.every === 0) ||
    (cfg.checkpoint.minutes > 0 && performance.now() - lastSave >= cfg.checkpoint.minutes * 60_000);
  return { saving, saveAt, saveDue };
}

/** The policy update's settings under a config, for a paradigm's loss kind at one step. */
function updateSettings(
  cfg: TrainConfig,
  loss: UpdateOptions['loss'],
  at: Pick<UpdateOptions, 'lr' | 'normLength' | 'arena'>,
): UpdateOptions {
  return {
    loss,
    epochs: loss === 'nll' ? 1 : cfg.ppoEpochs,
    microBatch: cfg.microBatch,
    clipLow: cfg.loss.clipLow,
    clipHigh: cfg.loss.clipHigh,
    aggregation: cfg.loss.aggregation,
    sftAggregation: cfg.loss.sftAggregation,
    shapingGamma: cfg.luffy.gamma,
    klCoef: cfg.loss.klCoef,
    klKind: cfg.loss.klKind,
    entropyCoef: cfg.loss.entropyCoef,
    ...at,
  };
}

async function trainLocked(
  cfg: TrainConfig,
  hooks: TrainHooks,
  say: (text: string) => void,
): Promise<TrainResult> {
  setMatmulDtype(cfg.model.precision);
  const metricsPath = runFile(cfg.runDir, 'metrics');
  const evalPath = runFile(cfg.runDir, 'evals');
  const completionsPath = runFile(cfg.runDir, 'completions');
  const checkpointsDir = join(cfg.runDir, 'checkpoints');
  for (const left of await removeCheckpointLeftovers(checkpointsDir))
    say(`removed ${join(checkpointsDir, left)}, left by an interrupted save or prune`);

  const start = await startingPoint(cfg, say);
  const { model } = start;
  const state = start.state;
  // refuse configs that cannot fit in memory (a dataset's samples included), before any step
  const datasetRows = cfg.data.path ? await countDatasetRows(cfg.data.path) : 0;
  const suite = await buildEvalSuite(cfg, model.config); // data.valPath read and checked here
  // training on a file of one's own but evaluating on generated tasks deserves a word
  if (cfg.data.valPath) say(suite.notice);
  else if (cfg.data.path)
    say(`${suite.notice} (data.valPath evaluates on a file of yours instead)`);
  const memory = checkResources(cfg, model.config, process.env, datasetRows, suite.heldBytes);

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
  if (start.optState) opt.loadState(start.optState);
  const refModel = cfg.loss.klCoef > 0 ? (await initialModel(cfg)).frozenCopy() : null;
  const source: SampleSource = await trainSource(cfg, model.config.image.size, model.config, say);
  const rng = new Rng(0);
  rng.setState(state.rng);
  const arena = new BufferArena();
  const newTokens = responseBudget(cfg, model.config);
  const tokenizer = tokenizerOf(model.config);
  const schedule = scheduleOf(cfg.method);
  const custom = cfg.reward.module ? await loadCustomReward(cfg.reward.module) : undefined;
  const evalOptions = evalOptionsOf(cfg, model.config, custom);
  const reward: RewardSettings = {
    referenceSize: cfg.reward.referenceSize,
    noThink: cfg.noThink,
    ...(custom ? { custom } : {}),
  };
  let failuresSaid = 0;

  // Only now, with everything read back and checked, is the run directory written to: drop log
  // lines after the checkpoint we resume from (they will be written again).
  if (!start.resumed)
    writeFileAtomicSync(runFile(cfg.runDir, 'config'), `${JSON.stringify(cfg, null, 2)}\n`);
  truncateLog(metricsPath, state.step);
  truncateLog(completionsPath, state.step);
  truncateLog(evalPath, state.step === 0 ? 0 : state.finished ? state.step : state.step + 1);

  const { saving, saveAt, saveDue } = checkpointer(cfg, model, opt, state, hooks);

  for (let step = state.step; step < cfg.steps && !state.finished; step++) {
    // Let signal handlers run: the loop is synchronous between saves, so without this an
    // interrupt would only be seen at the next save.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (hooks.shouldStop?.()) {
      await saveAt(step);
      throw new InterruptedError(
        `interrupted before step ${step}; checkpoint saved in ${cfg.runDir}. Resume with the same command.`,
      );
    }
    const t0 = performance.now();
    const spentBefore = spentTokens(state);
    const { paradigm, stage } = schedule.at(
      step,
      { stage: state.stage, spentTokens: spentTokens(state) },
      cfg,
    );
    if (stage !== state.stage) {
      // A stage boundary (sft-rlvr): keep the model that ended the stage, as a separate run would.
      await saving(() =>
        saveModel(join(cfg.runDir, `${state.stage}-stage`), model, { dtype: cfg.checkpoint.dtype }),
      );
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
      ? sampleGroups(model, images, items, cfg, { rng, maxNewTokens: newTokens, tokenizer, reward })
      : { groups: [], generated: 0 };
    const generated = sampled.generated;
    const { members, stats } = paradigm.members({
      step,
      items,
      groups: sampled.groups,
      cfg,
      tokenizer,
      maxNewTokens: newTokens,
      reward,
    });
    if (custom && custom.failures > failuresSaid) {
      say(
        `step ${step}: ${custom.failures - failuresSaid} repl${custom.failures - failuresSaid === 1 ? 'y' : 'ies'} scored 0: the reward module failed (first: ${custom.firstFailure}); ${custom.failures} in all`,
      );
      failuresSaid = custom.failures;
    }
    const rolloutSeconds = (performance.now() - tRollout) / 1000;
    if (cfg.log.completionsEvery > 0 && step % cfg.log.completionsEvery === 0) {
      const lines = completionLines(
        step,
        items,
        sampled.groups,
        members,
        tokenizer,
        cfg.log.completionsPerStep,
      );
      appendFileChecked(completionsPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    }
    const tUpdate = performance.now();
    const lr = warmupCosineLr(step, {
      baseLr: cfg.optim.lr,
      warmupSteps: cfg.optim.warmupSteps,
      totalSteps: cfg.steps,
      minLrRatio: cfg.optim.minLrRatio,
    });
    armTestFault(step, opt); // no-op unless VISURF_TEST_INJECT_NAN names this step (tests)
    const settings = updateSettings(cfg, paradigm.loss, { lr, normLength: newTokens, arena });
    const diag = updatePolicy(model, opt, images, members, settings, refModel);
    const updateSeconds = (performance.now() - tUpdate) / 1000;
    trimArena(arena, memory.arenaRetained); // the arena must not grow with every new sequence length
    if (diag.skipped) {
      state.nonFiniteStreak++;
      say(`step ${step}: non-finite loss or gradient (grad norm ${diag.gradNorm}); update skipped`);
      if (cfg.onNonFinite === 'stop' || state.nonFiniteStreak >= cfg.maxNonFiniteSteps) {
        await saveAt(step);
        throw new NonFiniteTrainingError(
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
    appendFileChecked(metricsPath, stepLogLine(log)); // step-log.ts: tracker keys
    hooks.onStep?.(log, cfg.steps);
    if (budgetSpent(cfg, state)) state.finished = true;
    const last = step + 1 === cfg.steps || state.finished;
    if (last) state.finished = true;
    if (!last && (evalEvery(cfg, step) || evalPointPassed(cfg, step, spentBefore, state))) {
      const ev = runEvalSuite(model, suite, evalOptions, step + 1);
      appendFileChecked(evalPath, evalLogLine(ev));
      hooks.onEval?.(ev);
    }
    if (last || saveDue(step + 1)) await saveAt(step + 1);
    hooks.afterStep?.(step);
  }
  let finalEval: EvalLog | null = null;
  if (state.finished) {
    finalEval = runEvalSuite(model, suite, evalOptions, state.step);
    appendFileChecked(evalPath, evalLogLine(finalEval));
    hooks.onEval?.(finalEval);
    writeFinal(cfg.runDir, { state, eval: finalEval });
  }
  return { runDir: cfg.runDir, steps: state.step, finalEval, state };
}
