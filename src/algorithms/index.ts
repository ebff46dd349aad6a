/**
 * Pure algorithm functions of visurf's post-training paradigms (SFT, RLVR,
 * SFT→RLVR, ViSurf): advantages, label injection, reward controls, label
 * alignment and token-level losses with exact gradients. No engine here:
 * everything is arrays in, arrays out.
 */
export * from './advantages.js';
export * from './aggregation.js';
export * from './label-alignment.js';
export * from './label-injection.js';
export * from './policy-loss.js';
export * from './reward-controls.js';
export * from './dense-loss.js';
export * from './chord.js';
export * from './label-reasoning.js';
