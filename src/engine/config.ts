/** Engine-wide numeric settings. */
import type { MatmulDtype } from './kernels/types.js';

let matmulDtype: MatmulDtype = 'f32';

/** Precision of matrix products: 'bf16' = bf16 inputs, f32 accumulation (like torch autocast). */
export function setMatmulDtype(dtype: MatmulDtype): void {
  matmulDtype = dtype;
}
export function getMatmulDtype(): MatmulDtype {
  return matmulDtype;
}
/** Run fn with a given matmul precision, restoring the previous one after. */
export function withMatmulDtype<T>(dtype: MatmulDtype, fn: () => T): T {
  const prev = matmulDtype;
  matmulDtype = dtype;
  try {
    return fn();
  } finally {
    matmulDtype = prev;
  }
}
