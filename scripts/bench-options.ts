// The command line of every benchmark (`npm run bench -- <name> …`): --help, bad input as one line plus the usage
// on stderr (exit 2), whole numbers in a range, and a kept --dir that must be new or empty.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

type StringOptions = Record<string, { type: 'string'; default?: string }>;

export function benchOptions<O extends StringOptions>(bench: string, usage: string, options: O) {
  /** Bad input: one line saying what is wrong, then the usage, on stderr; exit 2. */
  const usageError = (message: string): never => {
    process.stderr.write(`bench ${bench}: ${message}\n${usage}\n`);
    process.exit(2);
  };
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (parsed.help) {
    console.log(usage);
    process.exit(0);
  }
  const values = parsed as { [K in keyof O]: string | undefined };
  /** A whole number in [min, max] (no signs, decimals or exponents: "1e6" is refused, not read as 1000000). */
  const whole = (name: keyof O & string, min: number, max: number): number => {
    const text = values[name] ?? '';
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && n <= max))
      usageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    return n;
  };
  /** A kept --dir must start empty: a previous run's rows would count in this run's figures. */
  const requireEmptyDir = (dir: string | undefined): void => {
    if (dir === undefined) return;
    if (dir === '') usageError('--dir must not be empty');
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') usageError(`--dir ${dir} is not a directory`);
      if (code !== 'ENOENT') usageError(`--dir ${dir}: cannot read it (${code ?? String(error)})`);
    }
    if (entries.length > 0)
      usageError(
        `--dir ${dir} is not empty (${entries.length} entries, e.g. a previous run's data): remove it or name a new directory`,
      );
  };
  return { values, usageError, whole, requireEmptyDir };
}
