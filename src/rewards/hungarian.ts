/**
 * Minimum-cost assignment (Hungarian algorithm with potentials, O(n^2 m)) for a rectangular
 * cost matrix. Written out here rather than pulled in: it is short and the rewards depend on it
 * being exact.
 */

/**
 * Assign each row to a distinct column (or each column to a distinct row, whichever is fewer)
 * minimising the total cost. `cost[i][j]` must be finite.
 * Returns `rowToCol[i]` = the column assigned to row i, or -1 when row i is left unassigned.
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0]!.length;
  if (rows === 0 || cols === 0) return new Array<number>(rows).fill(-1);
  if (rows > cols) {
    // The potential method needs rows <= cols: solve the transpose and invert the answer.
    const t: number[][] = [];
    for (let j = 0; j < cols; j++) {
      const r: number[] = [];
      for (let i = 0; i < rows; i++) r.push(cost[i]![j]!);
      t.push(r);
    }
    const colToRow = hungarian(t);
    const rowToCol = new Array<number>(rows).fill(-1);
    colToRow.forEach((i, j) => {
      if (i >= 0) rowToCol[i] = j;
    });
    return rowToCol;
  }
  const n = rows;
  const m = cols;
  // 1-based arrays: u/v are row/column potentials, p[j] is the row matched to column j.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) rowToCol[p[j]! - 1] = j - 1;
  return rowToCol;
}
