import type { Command } from 'commander';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure matmul, train-step and rollout speed on the BENCH.md configuration')
    .action(() => {
      throw new Error('bench: not implemented yet');
    });
}
