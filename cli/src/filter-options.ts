import type { ParseArgsOptionsConfig } from 'node:util';
import type { EventFilter } from '@otel-audit/clickhouse';
import { CRUD_VALUES, type Crud, OUTCOME_VALUES, type Outcome } from '@otel-audit/sdk/conventions';
import { type OptionValues, UsageError } from './command.js';
import { str } from './store-options.js';

export const FILTER_OPTIONS = {
  tenant: { type: 'string' },
  action: { type: 'string', multiple: true },
  crud: { type: 'string', multiple: true },
  outcome: { type: 'string' },
  actor: { type: 'string' },
  'actor-type': { type: 'string' },
  target: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const FILTER_HELP = `Filters:
  --tenant ID          tenant to read (required; or OTEL_AUDIT_TENANT)
  --action A           exact action or prefix like billing.* (repeatable)
  --crud C             ${CRUD_VALUES.join('|')} (repeatable)
  --outcome O          ${OUTCOME_VALUES.join('|')}
  --actor ID           actor id (with --actor-type TYPE)
  --target TYPE:ID     target type and id
  --from TIME          ISO 8601, inclusive
  --to TIME            ISO 8601, exclusive`;

export const PAGE_OPTIONS = {
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const PAGE_HELP = `Paging:
  --limit N            events per page (default 100)
  --cursor C           continue after the page that printed this cursor`;

function time(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${flag}: ${JSON.stringify(value)} is not an ISO 8601 time`);
  return d;
}

const list = (values: OptionValues, name: string): string[] =>
  ((values[name] as string[] | undefined) ?? []).filter((v): v is string => typeof v === 'string');

export function parseTarget(value: string): { type: string; id: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1)
    throw new UsageError(`--target: expected TYPE:ID, got ${JSON.stringify(value)}`);
  return { type: value.slice(0, at), id: value.slice(at + 1) };
}

/** Filters from flags; the tenant is resolved by the caller. */
export function filterFrom(values: OptionValues, tenant: string): EventFilter {
  const crud = list(values, 'crud');
  for (const c of crud) {
    if (!CRUD_VALUES.includes(c as Crud))
      throw new UsageError(`--crud: ${JSON.stringify(c)} is not one of ${CRUD_VALUES.join(', ')}`);
  }
  const outcome = str(values, 'outcome');
  if (outcome !== undefined && !OUTCOME_VALUES.includes(outcome as Outcome)) {
    throw new UsageError(`--outcome: ${JSON.stringify(outcome)} is not one of ${OUTCOME_VALUES.join(', ')}`);
  }
  const actor = str(values, 'actor');
  const actorType = str(values, 'actor-type');
  if (actorType !== undefined && actor === undefined) throw new UsageError('--actor-type needs --actor');
  const target = str(values, 'target');
  const from = time(str(values, 'from'), 'from');
  const to = time(str(values, 'to'), 'to');
  const actions = list(values, 'action');
  return {
    tenant,
    ...(actions.length > 0 && { actions }),
    ...(crud.length > 0 && { crud: crud as Crud[] }),
    ...(outcome !== undefined && { outcome: outcome as Outcome }),
    ...(actor !== undefined && { actor: { id: actor, ...(actorType !== undefined && { type: actorType }) } }),
    ...(target !== undefined && { target: parseTarget(target) }),
    ...(from && { from }),
    ...(to && { to }),
  };
}

export function pageFrom(values: OptionValues): { limit?: number; cursor?: string } {
  const limit = str(values, 'limit');
  const cursor = str(values, 'cursor');
  if (limit !== undefined && !/^\d+$/.test(limit))
    throw new UsageError(`--limit: ${JSON.stringify(limit)} is not a whole number`);
  return { ...(limit !== undefined && { limit: Number(limit) }), ...(cursor !== undefined && { cursor }) };
}
