// One `beforeExit` and one `exit` listener for every audit logger and processor (one listener each would trip
// Node's MaxListeners warning in a service with many loggers).

type ExitHandler = () => void;
const flushes = new Set<ExitHandler>();
const finals = new Set<ExitHandler>();

function onBeforeExit(): void {
  for (const flush of flushes) flush();
}

function onExit(): void {
  for (const handler of finals) handler();
}

function register(set: Set<ExitHandler>, event: 'beforeExit' | 'exit', listener: ExitHandler) {
  return (handler: ExitHandler): (() => void) => {
    if (typeof process === 'undefined' || typeof process.on !== 'function') return () => {};
    if (set.size === 0) process.on(event, listener);
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) process.off(event, listener);
    };
  };
}

/** Runs `flush` when the process is about to exit on its own; returns the function that unregisters it. */
export const onProcessExit: (flush: ExitHandler) => () => void = register(
  flushes,
  'beforeExit',
  onBeforeExit,
);

/**
 * Runs `handler` synchronously in Node's `exit` event (no more I/O possible: it can only report); returns the
 * function that unregisters it.
 */
export const onProcessExitFinal: (handler: ExitHandler) => () => void = register(finals, 'exit', onExit);
