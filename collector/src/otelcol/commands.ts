// One-shot collector commands (validate, print-config, components) run against a set of config files.
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Exit code; 0 = success. */
  code: number;
  /** stdout and stderr together, as the collector printed them. */
  output: string;
  stdout: string;
}

/** The environment a collector child gets: only PATH/HOME plus what the caller names, so tests are hermetic. */
export function collectorEnv(env: Readonly<Record<string, string>> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return { ...base, ...env };
}

export function configArgs(configs: readonly string[]): string[] {
  return configs.map((file) => `--config=file:${file}`);
}

export function runCollectorCommand(
  binary: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [...args],
      { encoding: 'utf8', env: collectorEnv(env), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`could not run ${binary} ${args.join(' ')}: ${error.message}`));
          return;
        }
        resolve({
          code: typeof error?.code === 'number' ? error.code : 0,
          output: `${stdout}${stderr}`,
          stdout,
        });
      },
    );
  });
}

/** `otelcol validate`: checks the merged configs offline (components, keys, OTTL, pipeline references). */
export function validateConfig(
  binary: string,
  configs: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CommandResult> {
  return runCollectorCommand(binary, ['validate', ...configArgs(configs)], env);
}

/** `otelcol print-config`: the effective config after merging and env expansion, as YAML (secrets redacted). */
export function printConfig(
  binary: string,
  configs: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CommandResult> {
  return runCollectorCommand(binary, ['print-config', '--mode=redacted', ...configArgs(configs)], env);
}
