// Messages that name what the user typed. The store names a bad value by its own field (`retentionDays`,
// `actions[0]`); the CLI says which flag set it, or which variable when the value came from the environment.
import type { AuditStoreInputError } from '@otel-audit/clickhouse';
import type { OptionValues } from './command.js';
import { ENV, flagOrEnv } from './store-options.js';

/** Store fields set by one flag, and the variable read when the flag is absent. */
const FIELD_FLAGS: Readonly<Record<string, { flag: string; variable?: string }>> = {
  database: { flag: 'database', variable: ENV.database },
  tenant: { flag: 'tenant', variable: ENV.tenant },
  actions: { flag: 'action' },
  crud: { flag: 'crud' },
  outcome: { flag: 'outcome' },
  from: { flag: 'from' },
  to: { flag: 'to' },
  limit: { flag: 'limit' },
  cursor: { flag: 'cursor' },
  cluster: { flag: 'cluster' },
  logsEngine: { flag: 'logs-engine' },
  retentionDays: { flag: 'retention-days' },
  rawLogsRetentionDays: { flag: 'raw-logs-retention-days' },
};

/** The flag, argument or variable behind a store field in `command`; undefined when none set it. */
export function fieldLabel(
  field: string,
  command: string,
  values: OptionValues,
  env: Record<string, string | undefined>,
): string | undefined {
  const name = field.replace(/\[\d+\]$/, '');
  // The actor and target commands take their subject as arguments; elsewhere it is a filter flag.
  if (name === 'actor.id') return command === 'actor' ? '<actor-id>' : '--actor';
  if (name === 'actor.type')
    return command === 'actor' && values['actor-type'] === undefined ? '--type' : '--actor-type';
  if (name === 'target.type' || name === 'target.id')
    return command === 'target' ? '<type> <id>' : '--target';
  if (name === 'id' && command === 'event') return '<event-id>';
  const known = FIELD_FLAGS[name];
  if (!known) return undefined;
  if (known.variable === undefined) return `--${known.flag}`;
  return flagOrEnv(values, known.flag, env, known.variable)?.label ?? `--${known.flag}`;
}

/** The store's message with its field replaced by what the user typed. */
export function inputErrorMessage(
  error: AuditStoreInputError,
  command: string,
  values: OptionValues,
  env: Record<string, string | undefined>,
): string {
  const label = fieldLabel(error.field, command, values, env);
  const prefix = `${error.field}: `;
  if (label === undefined || !error.message.startsWith(prefix)) return error.message;
  return `${label}: ${error.message.slice(prefix.length)}`;
}
