// Runs the collector as a child process: start with configs + env, wait until its health check says ready, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectorEnv, configArgs } from './commands.js';
import { CollectorStartError } from './errors.js';

export interface StartCollectorOptions {
  binary: string;
  /** Config files, merged in order (later files win; lists replace lists). */
  configs: readonly string[];
  /** Environment of the collector (only PATH/HOME are inherited). */
  env?: Readonly<Record<string, string>>;
  /** URL of the health_check extension; the collector is ready when it answers 200. */
  healthUrl: string;
  readyTimeoutMs?: number;
  featureGates?: readonly string[];
}

export interface CollectorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningCollector {
  readonly pid: number;
  /** Everything the collector printed so far (stdout + stderr). */
  output(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<CollectorExit>;
  /** Graceful stop (SIGTERM: the collector drains what it can), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<CollectorExit>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<CollectorExit>;
}

export async function startCollector(options: StartCollectorOptions): Promise<RunningCollector> {
  const args = [...configArgs(options.configs)];
  if (options.featureGates?.length) args.push(`--feature-gates=${options.featureGates.join(',')}`);
  const child = spawn(options.binary, args, {
    env: collectorEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = exitOf(child);
  const spawnError = await Promise.race([
    once(child, 'spawn').then(() => undefined),
    once(child, 'error').then(([error]) => error as Error),
  ]);
  if (spawnError)
    throw new CollectorStartError(`could not start ${options.binary}: ${spawnError.message}`, '');
  const pid = child.pid ?? -1;

  const signal = async (sig: NodeJS.Signals, timeoutMs: number): Promise<CollectorExit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const running: RunningCollector = {
    pid,
    output: () => output,
    exited,
    stop: (timeoutMs = 15_000) => signal('SIGTERM', timeoutMs),
    kill: () => signal('SIGKILL', 5_000),
  };

  // Monotonic: a wall clock stepped forward failed a start at once, stepped back it waited for the step.
  const deadline = performance.now() + (options.readyTimeoutMs ?? 30_000);
  let exitedEarly: CollectorExit | undefined;
  void exited.then((exit) => {
    exitedEarly = exit;
  });
  while (performance.now() < deadline) {
    if (exitedEarly) {
      throw new CollectorStartError(
        `the collector exited before it was ready (code ${exitedEarly.code}, signal ${exitedEarly.signal})`,
        output,
      );
    }
    if (await isHealthy(options.healthUrl)) return running;
    await sleep(100);
  }
  await running.kill();
  throw new CollectorStartError(
    `the collector was not ready at ${options.healthUrl} within the timeout`,
    output,
  );
}

function exitOf(child: ChildProcess): Promise<CollectorExit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
