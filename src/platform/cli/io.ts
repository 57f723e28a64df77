// What a CLI command may touch of the outside world: run() (src/app/cli/main.ts) hands one of
// these to every command, so the whole CLI can run in-process (tests) as well as on the real
// process streams (bin/mockiron.js). Types only: importing this module loads nothing.

/** Where a command writes: process.stdout / process.stderr, or a buffer in tests. */
export interface CliOutput {
  write(chunk: string | Uint8Array): unknown;
  /** true for a terminal: progress bars and help wrapping depend on it */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** All of standard input as text, for commands that accept `-` for a file. */
  readStdin(): string;
  /** The environment the commands read (MOCKIRON_DATA_DIR, MOCKIRON_P12_PASSPHRASE, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
}
