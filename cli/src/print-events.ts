import type { EventPage, StoredAuditEvent } from '@otel-audit/clickhouse';
import type { CommandContext } from './command.js';

function line(e: StoredAuditEvent): string {
  const targets = e.targets.map((t) => `${t.type}:${t.id}`).join(',') || '-';
  const marks = e.malformed.length > 0 ? `  [malformed: ${e.malformed.join(',')}]` : '';
  return `${e.occurredAt.toISOString()}  ${e.id}  ${e.action}  ${e.outcome}  ${e.actor.type}:${e.actor.id}  ${targets}${marks}`;
}

/** A page as JSON (`--json`) or one line per event; the next-page hint goes to stderr. */
export async function printPage(page: EventPage, json: boolean, ctx: CommandContext): Promise<void> {
  if (json) {
    await ctx.stdout(`${JSON.stringify({ events: page.events, nextCursor: page.nextCursor ?? null })}\n`);
    return;
  }
  if (page.events.length > 0) await ctx.stdout(`${page.events.map(line).join('\n')}\n`);
  else ctx.stderr('no events\n');
  if (page.nextCursor) ctx.stderr(`more: --cursor ${page.nextCursor}\n`);
}
