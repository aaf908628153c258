// chDB keeps every setting a call sends (as `SET k = v` statements before its SQL) on the connection, and each
// of those statements costs time (~5 ms for the store's settings on every query). This wrapper sends only the
// settings whose value differs from what the connection already holds, and resets (`SET k = DEFAULT`) a
// setting an earlier call sent that this call does not mention, so no call inherits another's extras. Calls
// are serialized here so that what the connection holds is known exactly (chDB runs one statement at a time
// per connection anyway).

type Settings = Record<string, unknown>;
type Call = (params: { query?: unknown; clickhouse_settings?: Settings }) => Promise<unknown>;

const STATEFUL_METHODS = ['query', 'exec', 'command', 'insert'] as const;
const SKIPPABLE_METHODS: readonly string[] = ['exec', 'insert'];
const UNKNOWN = Symbol('unknown');

export function sendChangedSettingsOnly<C extends object>(connection: C): C {
  // What the connection holds; UNKNOWN after a call that may not have run its SETs (equals no value, so the
  // setting is sent again, or reset when not wanted).
  const held = new Map<string, unknown>();
  let queue: Promise<unknown> = Promise.resolve();

  const wrap =
    (call: Call, method: string): Call =>
    (params) => {
      const run = queue.then(async () => {
        const wanted = params.clickhouse_settings ?? {};
        const changed: Settings = {};
        for (const [key, value] of Object.entries(wanted)) {
          if (value !== undefined && held.get(key) !== value) changed[key] = value;
        }
        // Names come from earlier calls' settings, which the connection checked as identifiers.
        const reset =
          typeof params.query === 'string' ? [...held.keys()].filter((key) => wanted[key] === undefined) : [];
        const query =
          reset.length > 0
            ? `${reset.map((key) => `SET ${key} = DEFAULT`).join('; ')}; ${params.query}`
            : params.query;
        try {
          const result = await call({ ...params, query, clickhouse_settings: changed });
          // exec/insert with an empty body return without running any SQL, SETs included.
          const maybeSkipped = SKIPPABLE_METHODS.includes(method);
          for (const key of reset) maybeSkipped ? held.set(key, UNKNOWN) : held.delete(key);
          for (const [key, value] of Object.entries(changed)) held.set(key, maybeSkipped ? UNKNOWN : value);
          return result;
        } catch (error) {
          // Which of the SETs ran before the failure is unknown.
          for (const key of [...held.keys(), ...Object.keys(changed)]) held.set(key, UNKNOWN);
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
        ? wrap(bound as Call, property as string)
        : bound;
    },
  });
}
