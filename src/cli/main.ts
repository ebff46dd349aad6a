#!/usr/bin/env node
/** Entry point of the `visurf` binary. */
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`visurf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
