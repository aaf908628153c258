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

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
