// The receiver's own logs: one JSON object per line on stderr (or any sink), easy to grep and to ship.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A JSON-lines logger writing `{"time","level","msg",...fields}` for `level` and above. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  level: LogLevel = 'info',
): Logger {
  return {
    log(at, msg, fields = {}) {
      if (ORDER[at] < ORDER[level]) return;
      const entry = { time: new Date().toISOString(), level: at, msg, ...fields };
      write(`${JSON.stringify(entry, errorReplacer)}\n`);
    },
  };
}

// With the stack: an unexpected error (a 500) is a defect, found from where it was thrown.
function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
