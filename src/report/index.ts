/** `visurf report`: a self-contained HTML report of a run or a comparison directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderReport } from './html.js';
import { loadReportData } from './load.js';

export {
  ReportInputError,
  loadReportData,
  loadRun,
  loadCompare,
  parseJsonl,
  parseStepLogs,
  parseEvalLogs,
  runCost,
} from './load.js';
export type { ReportData, RunData, MethodResult, RunCost, PassAtK } from './load.js';
export {
  buildCharts,
  resultsTable,
  costTable,
  stepSeries,
  evalSeries,
  mainMetric,
  num,
} from './series.js';
export type { ChartSpec, Dataset, Point } from './series.js';
export { renderReport, escapeHtml, scriptJson } from './html.js';

/** Read DIR, write the report (default DIR/report.html) and return its absolute path. */
export function writeReport(dir: string, out?: string): string {
  const data = loadReportData(dir);
  const file = resolve(out ?? join(dir, 'report.html'));
  const html = renderReport(data);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
  return file;
}
