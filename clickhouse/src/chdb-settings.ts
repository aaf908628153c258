// chDB keeps every setting a call sends (as `SET k = v` statements before its SQL) on the connection, and each
// of those statements costs time (~5 ms for the store's settings on every query). This wrapper sends only the
// settings whose value differs from what the connection already holds. Calls are serialized here so that what
// the connection holds is known exactly (chDB runs one statement at a time per connection anyway).

type Settings = Record<string, unknown>;
type Call = (params: { clickhouse_settings?: Settings }) => Promise<unknown>;

const STATEFUL_METHODS = ['query', 'exec', 'command', 'insert'] as const;

export function sendChangedSettingsOnly<C extends object>(connection: C): C {
  const held = new Map<string, unknown>();
  let queue: Promise<unknown> = Promise.resolve();

  const wrap =
    (call: Call): Call =>
    (params) => {
      const run = queue.then(async () => {
        const changed: Settings = {};
        for (const [key, value] of Object.entries(params.clickhouse_settings ?? {})) {
          if (value !== undefined && held.get(key) !== value) changed[key] = value;
        }
        try {
          const result = await call({ ...params, clickhouse_settings: changed });
          for (const [key, value] of Object.entries(changed)) held.set(key, value);
          return result;
        } catch (error) {
          // Which of the SETs ran before the failure is unknown: send everything again next time.
          held.clear();
          throw error;
        }
      });
      queue = run.catch(() => undefined);
      return run;
    };

  return new Proxy(connection, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return (STATEFUL_METHODS as readonly (string | symbol)[]).includes(property)
        ? wrap(bound as Call)
        : bound;
    },
  });
}
