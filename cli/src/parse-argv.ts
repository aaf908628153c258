// A command's argv through node:util parseArgs, with its errors said the way the CLI's other usage errors are.
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { type Command, type OptionValues, UsageError } from './command.js';

/**
 * `--limit -5` is a value, not a forgotten one: parseArgs refuses any value starting with a dash as ambiguous
 * ("use --limit=-XYZ"). A negative number after a string option is joined to it, so the command's own check
 * says what the flag accepts (`--limit: expected a whole number 1..10000, got "-5"`).
 */
function joinNegativeNumbers(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs' error (ERR_PARSE_ARGS_*) as a usage error naming the flag; its own text when not recognised. */
function usageError(error: Error & { code?: unknown }, command: Command): UsageError {
  const help = `\`otel-audit ${command.name} --help\` lists the options`;
  const flag = /^Option '(-[^' ]+)/.exec(error.message)?.[1];
  if (flag !== undefined) {
    if (error.message.includes('argument is ambiguous'))
      return new UsageError(
        `${flag}: missing value (the next argument starts with "-"; if it is the value, write ${flag}=VALUE)`,
      );
    if (error.message.includes('argument missing')) return new UsageError(`${flag}: missing value`);
    if (error.message.includes('does not take an argument')) return new UsageError(`${flag} takes no value`);
  }
  const unknown = /^Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (unknown !== undefined) {
    // An id may start with "-" (`actor -x`): after `--` every argument is a positional.
    const asPositional = command.allowPositionals
      ? `; an argument starting with "-" that is not an option goes after --: \`-- ${unknown}\``
      : '';
    return new UsageError(`unknown option ${unknown} (${help}${asPositional})`);
  }
  const positional = /^Unexpected argument '([^']*)'/.exec(error.message)?.[1];
  if (positional !== undefined)
    return new UsageError(
      `unexpected argument ${JSON.stringify(positional)}: ${command.name} takes only options`,
    );
  return new UsageError(error.message);
}

/** Options whose empty value means something: no password, or every interface to listen on. */
const EMPTY_ALLOWED = new Set(['password', 'host']);

/** The command's options and positionals; any mistake in the command line is a UsageError. */
export function parseCommandLine(
  command: Command,
  args: readonly string[],
): { values: OptionValues; positionals: string[] } {
  const options: ParseArgsOptionsConfig = {
    ...command.options,
    help: { type: 'boolean', short: 'h' },
  };
  let parsed: {
    values: OptionValues;
    positionals: string[];
    tokens: { kind: string; name?: string; rawName?: string; value?: string | undefined }[];
  };
  try {
    parsed = parseArgs({
      args: joinNegativeNumbers(args, options),
      options,
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw usageError(error as Error, command);
    throw error;
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    const option = options[token.name];
    if (option?.type !== 'string') continue;
    // An empty value is a mistake (an unset shell variable), never "the default".
    if (token.value === '' && !EMPTY_ALLOWED.has(token.name))
      throw new UsageError(`${token.rawName}: must not be empty`);
    // parseArgs keeps the last of a repeated option: `--tenant a --tenant b` would read tenant b without a word.
    // --cursor may come again: the `more: --cursor …` hint is meant to be appended to the previous command.
    if (option.multiple || token.name === 'cursor') continue;
    if (seen.has(token.name)) throw new UsageError(`${token.rawName} given more than once`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}
