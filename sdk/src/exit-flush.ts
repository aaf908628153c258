// One `beforeExit` and one `exit` listener for every audit logger and processor (one listener each would trip
// Node's MaxListeners warning in a service with many loggers). Each registration holds its owner weakly: a
// logger or processor the application dropped is collected (and its registration removed), not kept alive
// for the life of the process by the exit hook.

type Runner<T> = (owner: T) => void;

interface Registration {
  readonly owner: WeakRef<object>;
  readonly run: Runner<object>;
}

type ExitEvent = 'beforeExit' | 'exit';

const registrations: Record<ExitEvent, Set<Registration>> = { beforeExit: new Set(), exit: new Set() };

function runAll(event: ExitEvent): void {
  for (const registration of registrations[event]) {
    const owner = registration.owner.deref();
    if (owner !== undefined) registration.run(owner);
  }
}

const listeners: Record<ExitEvent, () => void> = {
  beforeExit: () => runAll('beforeExit'),
  exit: () => runAll('exit'),
};

function remove(event: ExitEvent, registration: Registration): void {
  const set = registrations[event];
  if (!set.delete(registration)) return;
  if (set.size === 0) process.off(event, listeners[event]);
}

// The held value names the registration, never the owner (which would keep it alive).
const collected = new FinalizationRegistry<{ event: ExitEvent; registration: Registration }>(
  ({ event, registration }) => remove(event, registration),
);

/**
 * Runs `run(owner)` on `event` while `owner` is alive; returns the function that unregisters it. `run` must not
 * hold `owner` (a module-level function, or one that reaches the owner's state through its argument):
 * anything it holds stays alive with the registration.
 */
function register<T extends object>(event: ExitEvent, owner: T, run: Runner<T>): () => void {
  if (typeof process === 'undefined' || typeof process.on !== 'function') return () => {};
  const set = registrations[event];
  const registration: Registration = { owner: new WeakRef(owner), run: run as Runner<object> };
  if (set.size === 0) process.on(event, listeners[event]);
  set.add(registration);
  collected.register(owner, { event, registration }, registration);
  return () => {
    collected.unregister(registration);
    remove(event, registration);
  };
}

/** Runs `flush(owner)` when the process is about to exit on its own (Node `beforeExit`). */
export function onProcessExit<T extends object>(owner: T, flush: Runner<T>): () => void {
  return register('beforeExit', owner, flush);
}

/**
 * Runs `handler(owner)` synchronously in Node's `exit` event (no more I/O possible: it can only report).
 */
export function onProcessExitFinal<T extends object>(owner: T, handler: Runner<T>): () => void {
  return register('exit', owner, handler);
}

/** Registrations held now (tests: a dropped owner's registration goes away). */
export function exitRegistrations(): number {
  return registrations.beforeExit.size + registrations.exit.size;
}
