import type { ParseArgsOptionsConfig } from 'node:util';

/** Where a command writes and what it reads from its environment (injectable for tests). */
export interface CommandContext {
  stdout: (text: string) => void | Promise<void>;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One `otel-audit <name>` command. The registry (commands/index.ts) lists them all. */
export interface Command {
  name: string;
  summary: string;
  /** Usage lines after `otel-audit <name>`, and the option help. */
  usage: string;
  options: ParseArgsOptionsConfig;
  /** Whether positional arguments are accepted. */
  allowPositionals?: boolean;
  /** Returns the exit code. */
  run(values: OptionValues, positionals: string[], ctx: CommandContext): Promise<number>;
}

/** `stdoutClosed` is what a shell reports for a process ended by SIGPIPE (128 + 13), as `yes | head` does. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, stdoutClosed: 141 } as const;

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Whoever read stdout went away (a pipe into `head`): the command stops quietly, nothing is left to tell. */
export class StdoutClosedError extends Error {
  override name = 'StdoutClosedError';
  constructor(options?: { cause?: unknown }) {
    super('stdout was closed by its reader', options);
  }
}

/** A signal (Ctrl-C, SIGTERM) stopped the command after it cleaned up; exit code 128 + the signal's number. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super(message);
  }
}
