import type { Command } from 'commander';

export function registerProfilesCommands(program: Command): void {
  void program;
}
