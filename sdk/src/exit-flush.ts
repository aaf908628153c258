// One `beforeExit` listener for every audit logger that flushes on exit (one listener per logger would trip
// Node's MaxListeners warning in a service with many loggers).

type ExitFlush = () => void;
const flushes = new Set<ExitFlush>();

function onBeforeExit(): void {
  for (const flush of flushes) flush();
}

/** Runs `flush` when the process is about to exit on its own; returns the function that unregisters it. */
export function onProcessExit(flush: ExitFlush): () => void {
  if (typeof process === 'undefined' || typeof process.on !== 'function') return () => {};
  if (flushes.size === 0) process.on('beforeExit', onBeforeExit);
  flushes.add(flush);
  return () => {
    flushes.delete(flush);
    if (flushes.size === 0) process.off('beforeExit', onBeforeExit);
  };
}
