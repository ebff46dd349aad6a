/**
 * Preloaded (`node --import`) into a `visurf train` child by the kill tests: with
 * VISURF_TEST_CRASH_RENAME=<n>:<before|after> the process SIGKILLs itself just before or just
 * after the n-th rename inside a `checkpoints` directory, i.e. at the exact moments a checkpoint
 * save publishes its directory. Without the variable it does nothing (also when the test runner
 * loads this file as a test).
 */
import fs from 'node:fs';
import { sep } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const spec = process.env['VISURF_TEST_CRASH_RENAME'];
if (spec) {
  const [n, when] = spec.split(':');
  const target = Number(n);
  let count = 0;
  const original = fs.promises.rename;
  const inCheckpoints = (p: fs.PathLike) => String(p).includes(`${sep}checkpoints${sep}`);
  const die = (): never => {
    process.kill(process.pid, 'SIGKILL');
    for (;;); // never run another instruction of the save
  };
  fs.promises.rename = async (from: fs.PathLike, to: fs.PathLike) => {
    const hit = (inCheckpoints(from) || inCheckpoints(to)) && ++count === target;
    if (hit && when === 'before') die();
    await original(from, to);
    if (hit) die();
  };
  syncBuiltinESMExports();
}
