import type { ParseArgsOptionsConfig } from 'node:util';
import { checkQuery, type EventFilter, MAX_LIMIT, parseIsoTime } from '@otel-audit/clickhouse';
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

/**
 * The actor and target commands take their subject as arguments: there the generic --actor / --target filter
 * would contradict it, so it is refused, and left out of their help.
 */
export type Subject = 'actor' | 'target';

export function filterHelp(subject?: Subject): string {
  return [
    'Filters:',
    '  --tenant ID          tenant to read (required; or OTEL_AUDIT_TENANT)',
    '  --action A           exact action or prefix like billing.* (repeatable)',
    `  --crud C             ${CRUD_VALUES.join('|')} (repeatable)`,
    `  --outcome O          ${OUTCOME_VALUES.join('|')}`,
    ...(subject === 'actor' ? [] : ['  --actor ID           actor id (with --actor-type TYPE)']),
    ...(subject === 'target' ? [] : ['  --target TYPE:ID     target type and id']),
    '  --from TIME          inclusive; TIME is a date (2026-11-23 = midnight UTC) or an ISO 8601 date-time with',
    '                       a zone (2026-11-23T10:15:00Z, 2026-11-23T11:15:00.250+01:00)',
    '  --to TIME            exclusive; same forms',
  ].join('\n');
}

export const FILTER_HELP = filterHelp();

export const PAGE_OPTIONS = {
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const PAGE_HELP = `Paging:
  --limit N            events per page, 1..${MAX_LIMIT} (default 100; fewer when events are large)
  --cursor C           continue after the page that printed this cursor`;

/** One strict parser (the store's): `new Date("12")` would be December 2001, local time. */
function time(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  // Widened to whole milliseconds (how events are stored): inclusive from down, exclusive to up.
  const d = parseIsoTime(value, flag === 'to' ? 'ceil' : 'floor');
  if (d === undefined)
    throw new UsageError(
      `--${flag}: ${JSON.stringify(value)} is not a date (2026-11-23, midnight UTC) or an ISO 8601 date-time ` +
        'with a zone (2026-11-23T10:15:00Z, 2026-11-23T11:15:00+01:00)',
    );
  return d;
}

const list = (values: OptionValues, name: string): string[] =>
  ((values[name] as string[] | undefined) ?? []).filter((v): v is string => typeof v === 'string');

/** `TYPE:ID`; `expected` says what was expected where (the --target flag, or the target command's argument). */
export function parseTarget(
  value: string,
  expected = '--target: expected TYPE:ID',
): { type: string; id: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) throw new UsageError(`${expected}, got ${JSON.stringify(value)}`);
  return { type: value.slice(0, at), id: value.slice(at + 1) };
}

const SUBJECT_FLAG_REFUSED: Record<Subject, string> = {
  actor:
    '--actor does not apply to the actor command: the actor is its <actor-id> argument ' +
    '(to filter a search by actor: otel-audit events --actor ID)',
  target:
    '--target does not apply to the target command: the target is its <type> <id> argument ' +
    '(to filter a search by target: otel-audit events --target TYPE:ID)',
};

/**
 * Filters from flags; the tenant is resolved by the caller. With a subject (the actor or target command), the
 * matching generic flag is a usage error, and for `actor` --actor-type is left to the command (the actor's type).
 */
export function filterFrom(values: OptionValues, tenant: string, subject?: Subject): EventFilter {
  if (subject !== undefined && str(values, subject) !== undefined)
    throw new UsageError(SUBJECT_FLAG_REFUSED[subject]);
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
  const actorType = subject === 'actor' ? undefined : str(values, 'actor-type');
  if (actorType !== undefined && actor === undefined) throw new UsageError('--actor-type needs --actor');
  const target = str(values, 'target');
  const from = time(str(values, 'from'), 'from');
  const to = time(str(values, 'to'), 'to');
  const actions = list(values, 'action');
  const filter: EventFilter = {
    tenant,
    ...(actions.length > 0 && { actions }),
    ...(crud.length > 0 && { crud: crud as Crud[] }),
    ...(outcome !== undefined && { outcome: outcome as Outcome }),
    ...(actor !== undefined && { actor: { id: actor, ...(actorType !== undefined && { type: actorType }) } }),
    ...(target !== undefined && { target: parseTarget(target) }),
    ...(from && { from }),
    ...(to && { to }),
  };
  // What the store would refuse (a misplaced `*`, --to not after --from) is a usage error before any store is
  // looked for: against a missing one it was reported as "no otel-audit store" (exit 1).
  checkQuery(filter);
  return filter;
}

export function pageFrom(values: OptionValues): { limit?: number; cursor?: string } {
  const limit = str(values, 'limit');
  const cursor = str(values, 'cursor');
  if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT))
    throw new UsageError(`--limit: expected a whole number 1..${MAX_LIMIT}, got ${JSON.stringify(limit)}`);
  return { ...(limit !== undefined && { limit: Number(limit) }), ...(cursor !== undefined && { cursor }) };
}
