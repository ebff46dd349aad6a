/** `--columns problem=question,image=img`: data.columns from the command line. */
import { LAYOUT_COLUMNS, columnMapProblems, type ColumnMap } from '../data/index.js';
import { didYouMean } from '../train/suggest.js';

export const COLUMNS_FLAG_HELP =
  "the file's names of layout columns, e.g. problem=question,image=img (as data.columns)";

export function parseColumnsFlag(text: string | undefined): ColumnMap {
  if (text === undefined || text.trim() === '') return {};
  const map: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq < 1 || value === '')
      throw new Error(`--columns: expected layout=column pairs separated by commas, got "${pair}"`);
    if (!LAYOUT_COLUMNS.includes(key))
      throw new Error(
        `--columns: "${key}" is not a layout column${didYouMean(key, LAYOUT_COLUMNS)}; expected one of ${LAYOUT_COLUMNS.join(', ')}`,
      );
    map[key] = value;
  }
  const problems = columnMapProblems(map);
  if (problems.length) throw new Error(`--columns: ${problems.join('; ')}`);
  return map;
}
