import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { AuditStoreError, AuditStoreInputError, StoreUnreachableError } from '@otel-audit/clickhouse';
import {
  type CommandContext,
  EXIT,
  InterruptedError,
  type OptionValues,
  StdoutClosedError,
  UsageError,
} from './command.js';
import { commands } from './commands/index.js';
import { inputErrorMessage } from './input-errors.js';
import { parseCommandLine } from './parse-argv.js';
import { displayUrl } from './reader-errors.js';
import { ENV, flagOrEnv } from './store-options.js';

function overview(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length));
  const list = [...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: otel-audit <command> [options]

Commands:
${list}

Run \`otel-audit <command> --help\` (or \`otel-audit help <command>\`) for a command's options, \`otel-audit --version\` for the version.
Exit codes: 0 ok, 1 failure, 2 usage error, 3 no such event (event), 130/143/129/131 export --output interrupted
(SIGINT/SIGTERM/SIGHUP/SIGQUIT; the file was left as it was), 141 stdout closed by its reader (e.g. a pipe into head; no error
is printed).
`;
}

/** The cli package's version: package.json sits one level above src/ and dist/ alike. */
function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Whether the error (or one it wraps) says stdout's reader went away. */
function stdoutClosed(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof StdoutClosedError) return true;
  return false;
}

/** Help asked for goes to stdout, exit 0. */
async function printHelp(text: string, ctx: CommandContext): Promise<number> {
  try {
    await ctx.stdout(text);
    return EXIT.ok;
  } catch (error) {
    if (stdoutClosed(error)) return EXIT.stdoutClosed;
    ctx.stderr(`otel-audit: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

/**
 * The signal a process whose command returned `code` should die of: a command stopped by SIGINT, SIGTERM or
 * SIGHUP cleans up and returns 128 + its number, and the process then ends by that signal again (bin.ts), as a
 * program that did not catch it would. A shell waiting for it then stops too: a plain exit 130 reads as "handled
 * Ctrl-C", and a loop of exports went on with the next one. SIGQUIT stays exit 131 (its default action dumps core).
 */
export function signalToReraise(code: number): NodeJS.Signals | undefined {
  return (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).find((s) => code === 128 + constants.signals[s]);
}

/** Runs one command line; returns the exit code. Errors go to stderr, results to stdout. */
export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // A usage error like any other: the overview goes to stderr, stdout stays empty.
    ctx.stderr(`otel-audit: no command given\n\n${overview()}`);
    return EXIT.usage;
  }
  // `help <command>` is `<command> --help`, as git and npm take it; an unknown one is a usage error below.
  if (name === 'help' && rest.length > 0) return main([rest[0] as string, '--help'], ctx);
  if (name === '--help' || name === '-h' || name === 'help') return printHelp(overview(), ctx);
  if (name === '--version') return printHelp(`${cliVersion()}\n`, ctx);
  const command = commands.get(name);
  if (!command) {
    ctx.stderr(`otel-audit: unknown command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  const help = `usage: otel-audit ${command.usage}\n`;
  let values: OptionValues = {};
  try {
    const parsed = parseCommandLine(command, rest);
    values = parsed.values;
    const { positionals } = parsed;
    if (values.help) return printHelp(help, ctx);
    return await command.run(values, positionals, ctx);
  } catch (error) {
    if (stdoutClosed(error)) return EXIT.stdoutClosed;
    if (error instanceof InterruptedError) {
      ctx.stderr(`otel-audit ${name}: ${error.message}\n`);
      return 128 + constants.signals[error.signal];
    }
    if (error instanceof UsageError) {
      ctx.stderr(`otel-audit ${name}: ${error.message}\n\n${help}`);
      return EXIT.usage;
    }
    if (error instanceof AuditStoreInputError) {
      ctx.stderr(`otel-audit ${name}: ${inputErrorMessage(error, name, values, ctx.env)}\n`);
      return EXIT.usage;
    }
    let message = error instanceof AuditStoreError || error instanceof Error ? error.message : String(error);
    // A bare "connect ECONNREFUSED 127.0.0.1:8123" does not say it was the ClickHouse server.
    const server = flagOrEnv(values, 'url', ctx.env, ENV.url);
    if (server !== undefined && error instanceof StoreUnreachableError)
      message = `cannot reach the ClickHouse server at ${displayUrl(server.value)} (${server.label}): ${error.reason}`;
    ctx.stderr(`otel-audit ${name}: ${message}\n`);
    return EXIT.failure;
  }
}

function stdoutError(error: Error): Error {
  if ((error as { code?: unknown }).code === 'EPIPE') return new StdoutClosedError({ cause: error });
  return new Error(`cannot write to stdout: ${error.message}`, { cause: error });
}

/**
 * Context bound to the real process streams (stdout writes wait for drain: exports can be large). A stdout
 * whose reader went away (EPIPE) makes every later write reject with StdoutClosedError, so the command stops
 * and closes its store; without the 'error' listeners Node would crash on an unhandled 'error' event.
 */
export function processContext(): CommandContext {
  let failed: Error | undefined;
  process.stdout.on('error', (error) => {
    failed ??= error;
  });
  // A closed stderr leaves nowhere to report anything.
  process.stderr.on('error', () => undefined);
  return {
    stdout: (text) =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(stdoutError(failed));
        process.stdout.write(text, (error) => {
          if (!error) return resolve();
          failed ??= error;
          reject(stdoutError(failed));
        });
      }),
    stderr: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
  };
}
