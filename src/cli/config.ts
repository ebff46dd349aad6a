/** `visurf config show`: the effective training config, every default filled in, as YAML. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { METHODS, applyOverrides, parseTrainConfig, readConfigFile } from '../train/config.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect training configs');
  config
    .command('show')
    .description(
      'print the effective config of a train command (the file, the --set overrides and every default) as YAML',
    )
    .option('--method <method>', `paradigm: ${METHODS.join(' | ')}`)
    .option('--config <file>', 'YAML or JSON config')
    .option(
      '--set <key=value>',
      'override a config key (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { method?: string; config?: string; set: string[]; json?: boolean }) => {
      const sets = [...opts.set, ...(opts.method ? [`method=${opts.method}`] : [])];
      const raw = applyOverrides(opts.config ? readConfigFile(opts.config) : {}, sets);
      const cfg = parseTrainConfig(raw, opts.config ?? 'config', sets);
      process.stdout.write(opts.json ? `${JSON.stringify(cfg, null, 2)}\n` : stringify(cfg));
    });
}
