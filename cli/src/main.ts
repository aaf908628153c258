import { parseArgs } from 'node:util';
import { AuditStoreError, AuditStoreInputError } from '@otel-audit/clickhouse';
import { type CommandContext, EXIT, UsageError } from './command.js';
import { commands } from './commands/index.js';

function overview(): string {
  const width = Math.max(...[...commands.keys()].map((n) => n.length));
  const list = [...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: otel-audit <command> [options]

Commands:
${list}

Run \`otel-audit <command> --help\` for a command's options. Exit codes: 0 ok, 1 failure, 2 usage error.
`;
}

/** Runs one command line; returns the exit code. Errors go to stderr, results to stdout. */
export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await ctx.stdout(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands.get(name);
  if (!command) {
    ctx.stderr(`otel-audit: unknown command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  const help = `usage: otel-audit ${command.usage}\n`;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
    if (values.help) {
      await ctx.stdout(help);
      return EXIT.ok;
    }
    return await command.run(values, positionals, ctx);
  } catch (error) {
    // parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_* codes.
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      ctx.stderr(`otel-audit ${name}: ${(error as Error).message}\n\n${help}`);
      return EXIT.usage;
    }
    if (error instanceof AuditStoreInputError) {
      ctx.stderr(`otel-audit ${name}: ${error.message}\n`);
      return EXIT.usage;
    }
    const message =
      error instanceof AuditStoreError || error instanceof Error ? error.message : String(error);
    ctx.stderr(`otel-audit ${name}: ${message}\n`);
    return EXIT.failure;
  }
}

/** Context bound to the real process streams (stdout writes wait for drain: exports can be large). */
export function processContext(): CommandContext {
  return {
    stdout: (text) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
      }),
    stderr: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
  };
}
