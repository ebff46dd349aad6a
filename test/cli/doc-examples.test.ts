/**
 * Every command example in README.md and docs/*.md (the ```sh blocks) names a real command, only
 * options that command has, and only config keys that exist (`--set` checked against the train
 * or compare schema, a pretrain's visionStage keys against the vision stage's), and the configs/
 * files they name exist — as written, before doc-examples-run.test.ts runs them shrunk (where
 * appended overrides would hide a wrong key).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { DOC_FILES, ROOT, examplesOf, type Example } from './doc-examples-lib.js';
import { applyOverrides, parseTrainConfig } from '../../src/train/config.js';
import { parseCompareConfig } from '../../src/experiment/compare.js';
import { VisionStageSchema } from '../../src/train/vision-stage.js';

function optionNames(c: Command): Set<string> {
  const names = new Set<string>(['--help', '-h']);
  for (const o of c.options) {
    if (o.long) names.add(o.long);
    if (o.short) names.add(o.short);
    if (o.long?.startsWith('--no-')) names.add(`--${o.long.slice(5)}`);
  }
  return names;
}

/** Problems of one example: unknown command, unknown option, unknown config key. */
function check(program: Command, ex: Example): string[] {
  let cmd = program;
  let i = 0;
  for (; i < ex.argv.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === ex.argv[i]);
    if (!sub) break;
    cmd = sub;
  }
  if (cmd === program) return [`no command "${ex.argv[0]}"`];
  const known = new Set([...optionNames(cmd), ...optionNames(program)]);
  const problems: string[] = [];
  const sets: string[] = [];
  for (let k = i; k < ex.argv.length; k++) {
    const a = ex.argv[k]!;
    if (!a.startsWith('-')) continue;
    const flag = a.split('=')[0]!;
    if (!known.has(flag)) problems.push(`${cmd.name()} has no option ${flag}`);
    if (flag === '--set' && ex.argv[k + 1]) sets.push(ex.argv[k + 1]!);
  }
  // the repository's own files an example names (configs) exist
  for (const a of ex.argv) {
    const path = /(?:^|=)(configs\/[\w./-]+)/.exec(a)?.[1];
    if (path && !existsSync(join(ROOT, path))) problems.push(`no file ${path}`);
  }
  if (!sets.length) return problems;
  // Values may name files that exist only on the reader's machine: only the keys are checked.
  const keyOnly = (s: string) => s.slice(0, s.indexOf('='));
  const known404 = /unknown key|Unrecognized key/;
  try {
    if (cmd.name() === 'compare' || cmd.name() === 'demo') {
      parseCompareConfig(applyOverrides({}, sets), 'example');
    } else {
      const stage = sets.filter((s) => keyOnly(s).startsWith('visionStage.'));
      const rest = sets.filter((s) => !keyOnly(s).startsWith('visionStage.'));
      const raw = applyOverrides({}, stage) as { visionStage?: unknown };
      const r = VisionStageSchema.safeParse(raw.visionStage ?? {});
      if (!r.success) problems.push(`visionStage: ${r.error.issues[0]!.message}`);
      parseTrainConfig(applyOverrides({}, rest), 'example', rest);
    }
  } catch (e) {
    const msg = (e as Error).message;
    if (known404.test(msg) || !/expected|must|invalid|Invalid/.test(msg)) problems.push(msg);
  }
  return problems;
}

test('every command example in README.md and docs/ uses real commands, options and config keys', () => {
  const examples = DOC_FILES.flatMap(examplesOf);
  assert.ok(examples.length >= 40, `found ${examples.length} examples`);
  const program = buildProgram();
  const bad = examples.flatMap((ex) =>
    check(program, ex).map((p) => `${ex.file}: ${ex.line}\n  → ${p}`),
  );
  assert.deepEqual(bad, []);
});

test('the example checker catches a wrong option and a wrong config key', () => {
  const program = buildProgram();
  const ex = (line: string) => ({
    file: 'x.md',
    line,
    argv: line.split(' ').slice(1),
    stdin: null,
  });
  assert.deepEqual(check(program, ex('visurf eval base --tasks all')), []);
  assert.match(
    check(program, ex('visurf eval base --taks all')).join(),
    /eval has no option --taks/,
  );
  assert.match(
    check(program, ex('visurf train --set rollout.groupsize=8')).join(),
    /unknown key "groupsize"/,
  );
  assert.match(check(program, ex('visurf evaluate base')).join(), /no command "evaluate"/);
  assert.match(
    check(program, ex('visurf pretrain --config configs/nope.yaml')).join(),
    /no file configs\/nope\.yaml/,
  );
});
