// How a process running serve stops: the first SIGTERM, SIGINT or SIGHUP drains; a later one means "now".
// A terminal's Ctrl-C signals the whole foreground process group and npm forwards it to its child too, so
// serve under `npm start` gets two SIGINTs for one press: they are one stop, not a drain cut short.

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Signals this soon after the first are the same press (npm's forwarded copy), not a second request. */
export const SAME_STOP_MS = 500;

export interface StopSignals {
  /** The first stop signal. */
  readonly first: Promise<NodeJS.Signals>;
  /** What a later signal (past SAME_STOP_MS) does: e.g. exit without draining. */
  onSecond(handler: (signal: NodeJS.Signals) => void): void;
}

/**
 * Listens for the stop signals for the rest of the process's life: a listener removed before the process ends
 * (the earlier `process.once`) left a window in which a signal took Node's default action and killed serve
 * mid-drain, leaving serve.json behind.
 */
export function listenForStop(): StopSignals {
  let firstAt: number | undefined;
  let second: ((signal: NodeJS.Signals) => void) | undefined;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => {
    resolveFirst = resolve;
  });
  const listener = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstAt === undefined) {
      firstAt = now;
      resolveFirst(signal);
    } else if (now - firstAt >= SAME_STOP_MS) second?.(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return {
    first,
    onSecond(handler) {
      second = handler;
    },
  };
}
