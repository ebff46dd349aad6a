import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job on the built-in default')
    .action(() => {
      throw new Error('demo: not implemented yet');
    });
}
