import type { EventPage, StoredAuditEvent } from '@otel-audit/clickhouse';
import type { CommandContext } from './command.js';

// The line/paragraph separators and the bidirectional marks, overrides and isolates: they reorder or break what
// follows on screen, and stored values come from whoever sent the event.
const REORDERING = '\u200e\u200f\u2028-\u202e\u2066-\u2069';
// Those, C0 and C1 controls and DEL; the backslash too, so an escape printed here is never confused with the same
// six characters stored.
const CONTROL = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${REORDERING}\\\\]`, 'g');
// JSON.stringify escapes the C0 controls already, and its backslashes are its own; not DEL and C1 controls (U+0080-U+009F,
// U+009B starts a terminal sequence) nor the reordering characters.
const UNESCAPED_IN_JSON = new RegExp(`[\\u007f-\\u009f${REORDERING}]`, 'g');

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * A stored value as it may reach a terminal: control characters as JSON-style escapes, so a value holding a
 * newline cannot forge a line of its own and escape sequences are shown, not run.
 */
export function visible(value: string): string {
  return value.replace(CONTROL, (c) => (c === '\\' ? '\\\\' : escaped(c)));
}

function line(e: StoredAuditEvent): string {
  const targets = e.targets.map((t) => `${visible(t.type)}:${visible(t.id)}`).join(',') || '-';
  const marks = e.malformed.length > 0 ? `  [malformed: ${e.malformed.join(',')}]` : '';
  const actor = `${visible(e.actor.type)}:${visible(e.actor.id)}`;
  return `${e.occurredAt.toISOString()}  ${e.id}  ${visible(e.action)}  ${e.outcome}  ${actor}  ${targets}${marks}`;
}

/** A page as JSON (`--json`) or one line per event; the next-page hint goes to stderr. */
export async function printPage(page: EventPage, json: boolean, ctx: CommandContext): Promise<void> {
  if (json) {
    await ctx.stdout(`${jsonText({ events: page.events, nextCursor: page.nextCursor ?? null })}\n`);
    return;
  }
  if (page.events.length > 0) await ctx.stdout(`${page.events.map(line).join('\n')}\n`);
  else ctx.stderr('no events\n');
  if (page.nextCursor) ctx.stderr(`more: --cursor ${page.nextCursor}\n`);
}

/**
 * JSON for a terminal: C1 controls and the reordering characters escaped too (`\u202e`), which parses back to
 * the same values. One line, or indented.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNESCAPED_IN_JSON, escaped);
}

/** One event as JSON (`--json`: one line; else indented). */
export async function printEvent(event: StoredAuditEvent, json: boolean, ctx: CommandContext): Promise<void> {
  await ctx.stdout(`${json ? jsonText(event) : jsonText(event, 2)}\n`);
}
