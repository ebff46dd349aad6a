import type { Kernels } from '../types.js';

/** Placeholder until the pointwise reference kernels land. */
export type PointwiseKernels = Omit<
  Kernels,
  'name' | 'matmul' | 'attentionForward' | 'attentionBackward'
>;
export const pointwiseReference = {} as PointwiseKernels;
