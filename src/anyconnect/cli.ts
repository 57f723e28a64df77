import type { Command } from 'commander';

export function registerAnyconnectCommands(program: Command): void {
  void program;
}
