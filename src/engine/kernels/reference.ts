/** The plain-TypeScript kernels: the specification every native kernel is tested against. */
import type { Kernels } from './types.js';
import { linalgReference } from './reference/linalg.js';
import { pointwiseReference } from './reference/pointwise.js';
import { convReference } from './reference/conv.js';
import { decodeReference } from './reference/decode.js';

export const referenceKernels: Kernels = {
  name: 'reference',
  ...linalgReference,
  ...pointwiseReference,
  ...convReference,
  ...decodeReference,
};
