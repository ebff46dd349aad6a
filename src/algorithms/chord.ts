/**
 * CHORD's global weight μ (Zhang et al. 2025, "On-Policy RL Meets Off-Policy Experts:
 * Harmonizing SFT and RL via Dynamic Weighting"): the loss is (1 − μ) · L_GRPO + μ · L_SFT,
 * with μ warmed up linearly to its peak and then decayed along a cosine to its valley, so the
 * run starts close to SFT on the expert's data and ends close to pure RL.
 */
export interface ChordSchedule {
  /** μ at the end of the warm-up (its largest value) */
  peak: number;
  /** μ once the decay is over */
  valley: number;
  /** steps of linear warm-up from 0 to the peak (0 = start at the peak) */
  warmupSteps: number;
  /** steps of cosine decay from the peak to the valley, after the warm-up */
  decaySteps: number;
}

/** μ at a (0-based) step. */
export function chordMu(step: number, s: ChordSchedule): number {
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  const t = s.decaySteps > 0 ? Math.min(1, (step - s.warmupSteps) / s.decaySteps) : 1;
  return s.valley + 0.5 * (s.peak - s.valley) * (1 + Math.cos(Math.PI * t));
}
