// One parser for times given as text (CLI flags, query API parameters): `new Date(text)` accepts almost
// anything (`"12"` is December 2001, local time), so only ISO 8601 / RFC 3339 forms with an explicit zone
// pass, plus a bare date, which means midnight UTC.

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{3}(\d{1,6})?|\.\d{1,2})?)?([Zz]|[+-]\d{2}:?\d{2}))?$/;

/**
 * How digits past the millisecond are taken. Stored times keep whole milliseconds, truncated (an event at
 * 10:00:00.0005 is stored at 10:00:00.000), so a bound must widen to the whole millisecond not to leave out such
 * an event: `floor` for an inclusive `from`, `ceil` for an exclusive `to`. Either may then take in other events
 * of that millisecond: an audit read errs on showing them.
 */
export type SubMillisecond = 'floor' | 'ceil';

/**
 * Parses `2026-11-23`, `2026-11-23T10:15:00Z`, `2026-11-23T10:15:00.123+01:00` and the like; returns
 * undefined for anything else, including a date-time without a zone (ambiguous) and impossible dates.
 * Digits past the millisecond are dropped (`floor`, as Date does) or round up to the next millisecond (`ceil`).
 */
export function parseIsoTime(text: string, subMillisecond: SubMillisecond = 'floor'): Date | undefined {
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, submilli, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  // setUTCFullYear, not Date.UTC: that maps years 0-99 to 1900-1999.
  const calendar = new Date(0);
  calendar.setUTCFullYear(year, month - 1, day);
  if (month < 1 || month > 12 || calendar.getUTCDate() !== day || calendar.getUTCMonth() !== month - 1)
    return undefined;
  if (h === undefined) return calendar;
  if (zone === undefined) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  // Date parses the full form itself once it is known to be well-formed (normalized: "T", "Z", "+hh:mm").
  const normalized = text
    .replace(/^(\d{4}-\d{2}-\d{2})[t ]/, '$1T')
    .replace(/z$/, 'Z')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(normalized);
  if (Number.isNaN(date.getTime())) return undefined;
  return subMillisecond === 'ceil' && submilli !== undefined && /[1-9]/.test(submilli)
    ? new Date(date.getTime() + 1)
    : date;
}
