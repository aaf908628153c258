/** Errors of the collector helpers: each says what failed and carries the collector's own output. */

export class CollectorBuildError extends Error {
  override readonly name = 'CollectorBuildError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- build output (tail) ---\n${tail(output)}`);
  }
}

export class CollectorStartError extends Error {
  override readonly name = 'CollectorStartError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- collector output (tail) ---\n${tail(output)}`);
  }
}

/** The last lines of a process's output: enough to see why it failed without flooding a test report. */
export function tail(output: string, lines = 40): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}
