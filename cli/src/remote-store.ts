// Reads through a running `otel-audit serve` (its query API) instead of opening the data directory it holds.
import { lstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import {
  type ActionCount,
  AuditStoreInputError,
  checkQuery,
  type EventFilter,
  type EventPage,
  type ExportOptions,
  eventIdText,
  type Interval,
  type PageOptions,
  type StoredAuditEvent,
  type StoreStatus,
  type TimeBucket,
  type TimelineOptions,
} from '@otel-audit/clickhouse';
import { MAX_QUERY_HEADER_BYTES, type ServeDiscovery } from '@otel-audit/collector';

/** The running serve answered with an error the CLI cannot fix by itself (or could not be reached). */
export class RemoteServeError extends Error {
  override name = 'RemoteServeError';
}

/** Env variable with serve's bearer token, when it is not in a token file next to the data. */
export const SERVE_TOKEN_ENV = 'OTEL_AUDIT_SERVE_TOKEN';

type Query = [string, string][];

function filterQuery(
  filter: Omit<EventFilter, 'tenant'> & { tenant?: string },
  page: PageOptions = {},
): Query {
  const q: Query = [];
  if (filter.tenant !== undefined) q.push(['tenant', filter.tenant]);
  for (const a of filter.actions ?? []) q.push(['action', a]);
  for (const c of filter.crud ?? []) q.push(['crud', c]);
  if (filter.outcome !== undefined) q.push(['outcome', filter.outcome]);
  if (filter.actor !== undefined) {
    q.push(['actor', filter.actor.id]);
    if (filter.actor.type !== undefined) q.push(['actorType', filter.actor.type]);
  }
  // Type and id apart: `target=TYPE:ID` is split at the first colon, and a type may hold one.
  if (filter.target !== undefined) q.push(['targetType', filter.target.type], ['targetId', filter.target.id]);
  if (filter.from !== undefined) q.push(['from', filter.from.toISOString()]);
  if (filter.to !== undefined) q.push(['to', filter.to.toISOString()]);
  if (page.limit !== undefined) q.push(['limit', String(page.limit)]);
  if (page.cursor !== undefined) q.push(['cursor', page.cursor]);
  return q;
}

/**
 * Whether a value can be a URL path segment: not "." or ".." (resolved away: encodeURIComponent leaves dots),
 * and short enough encoded (a path stays in the request line; filters may move into a POST body). Otherwise the
 * search route takes it as a parameter.
 */
function fitsInPath(value: string): boolean {
  return value !== '.' && value !== '..' && encodeURIComponent(value).length <= 2048;
}

/** Why a token file named by serve.json is not to be read (undefined: it may be; a missing file: read fails). */
function tokenFileDistrust(file: string, discoveryOwner: number | undefined): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  let link: Stats;
  let target: Stats;
  try {
    link = lstatSync(file);
    target = statSync(file);
  } catch {
    return undefined;
  }
  // The serve that wrote serve.json made its token file, as the same user; the file of anyone else (this user
  // included, when serve.json is another's) is not serve's to name.
  const owner = discoveryOwner ?? uid;
  for (const stat of link.isSymbolicLink() ? [link, target] : [target]) {
    if (stat.uid !== owner)
      return `it belongs to uid ${stat.uid}, not to uid ${owner}, the owner of serve.json`;
  }
  if ((target.mode & 0o022) !== 0)
    return `it is writable by other users (mode ${(target.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** JSON turned Dates into strings; make the events whole again. */
function revive(event: StoredAuditEvent): StoredAuditEvent {
  return {
    ...event,
    occurredAt: new Date(event.occurredAt),
    lastOccurredAt: new Date(event.lastOccurredAt),
    receivedAt: new Date(event.receivedAt),
  };
}

/** Counts CSV records (RFC 4180: newlines inside quotes do not end a record). */
class CsvRecordCounter {
  private quoted = false;
  records = 0;
  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) this.quoted = !this.quoted;
      else if (c === 10 && !this.quoted) this.records += 1;
    }
  }
}

/** How long a read waits out serve's 429s (too many queries at once) before it reports one. */
const BUSY_RETRY_MS = 60_000;

/** Retry-After in ms (seconds form; 1 s when missing or unreadable), at most 10 s. */
function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

export class RemoteAuditReader {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /**
   * The token to send to the serve a discovery file describes, or why there is none. Its token file, when it has
   * one, holds the token it actually uses (serve's --token-file beats the environment variable); the variable is
   * for a serve that was given the token through it, or a token file this user cannot read. A token file is read
   * only when it (and a symlink to it) belongs to the owner of serve.json (`discoveryOwner`) and others cannot
   * write it: serve.json must not make this command read any file this user can (and send it away).
   */
  static tokenFor(
    info: ServeDiscovery,
    env: Record<string, string | undefined>,
    discoveryOwner: number | undefined,
  ): { token: string; from: string } | { error: string } {
    let fileError: string | undefined;
    if (info.tokenFile) {
      const distrust = tokenFileDistrust(info.tokenFile, discoveryOwner);
      if (distrust !== undefined)
        return {
          error: `otel-audit serve at ${info.url}: not reading its token file ${info.tokenFile}: ${distrust}`,
        };
      try {
        const token = readFileSync(info.tokenFile, 'utf8').trim();
        if (token) return { token, from: `its token file ${info.tokenFile}` };
        fileError = `its token file ${info.tokenFile} is empty`;
      } catch (error) {
        fileError = `cannot read its token file ${info.tokenFile} (${(error as Error).message})`;
      }
    }
    const token = env[SERVE_TOKEN_ENV];
    if (!token)
      return {
        error:
          `otel-audit serve at ${info.url}: ${fileError ?? 'it has no token file'}; ` +
          `set ${SERVE_TOKEN_ENV} to the token it was started with`,
      };
    return { token, from: SERVE_TOKEN_ENV };
  }

  /**
   * A GET of the query API; an answer other than 2xx or `expected` becomes an error. A 429 (serve answering its
   * most queries at once) is asked again after its Retry-After, for up to BUSY_RETRY_MS.
   */
  private async get(path: string, query: Query, expected: readonly number[] = []): Promise<Response> {
    const deadline = performance.now() + BUSY_RETRY_MS;
    for (;;) {
      const res = await this.getOnce(path, query);
      const waitMs = retryAfterMs(res.headers.get('retry-after'));
      if (res.status !== 429 || performance.now() + waitMs > deadline) return this.checked(res, expected);
      await res.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private async getOnce(path: string, query: Query): Promise<Response> {
    const base = `${this.url}/v1/audit${path}`;
    const form = new URLSearchParams(query).toString();
    const url = form ? `${base}?${form}` : base;
    // serve reads at most this much of request line and headers (token and others included): longer filters go
    // in the body of a POST.
    const long = url.length > MAX_QUERY_HEADER_BYTES - 2048 - this.token.length;
    let res: Response;
    try {
      res = long
        ? await fetch(base, {
            method: 'POST',
            redirect: 'manual',
            headers: {
              authorization: `Bearer ${this.token}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: form,
          })
        : // serve never redirects: a redirect (followed, it would carry the token on) is an error below.
          await fetch(url, { redirect: 'manual', headers: { authorization: `Bearer ${this.token}` } });
    } catch (cause) {
      // undici gives up on headers after 300 s: serve was reached, and is still working on the answer.
      if ((cause as { cause?: { code?: string } }).cause?.code === 'UND_ERR_HEADERS_TIMEOUT')
        throw new RemoteServeError(
          `otel-audit serve at ${this.url} did not answer within 300 s: it is busy, or the query reads too ` +
            'much (narrow it with --from/--to or other filters)',
          { cause },
        );
      throw new RemoteServeError(
        `cannot reach otel-audit serve at ${this.url}: ${(cause as Error).message}`,
        { cause },
      );
    }
    return res;
  }

  private async checked(res: Response, expected: readonly number[]): Promise<Response> {
    if (res.ok || expected.includes(res.status)) return res;
    let error: { message?: string; field?: string } = {};
    try {
      error = ((await res.json()) as { error?: typeof error }).error ?? {};
    } catch {
      // not JSON: keep the status line only
    }
    const message = error.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 400)
      throw new AuditStoreInputError(error.field ?? 'query', message.replace(/^[^:]+: /, ''));
    throw new RemoteServeError(`otel-audit serve at ${this.url} answered ${res.status}: ${message}`);
  }

  /**
   * The answer's JSON. serve cuts an answer it is stopping with, or one whose reader stalled: fetch then says only
   * "terminated", so the cut is named here.
   */
  private async json<T>(res: Response): Promise<T> {
    try {
      return (await res.json()) as T;
    } catch (cause) {
      const detail =
        (cause as Error).cause instanceof Error ? ` (${((cause as Error).cause as Error).message})` : '';
      throw new RemoteServeError(
        `the answer from otel-audit serve at ${this.url} was cut off: ${(cause as Error).message}${detail}; ` +
          'serve was stopping, or cut a reader that stalled (a serve of this release or later logs which): run the ' +
          'command again',
        { cause },
      );
    }
  }

  private async page(path: string, query: Query): Promise<EventPage> {
    const page = await this.json<EventPage>(await this.get(path, query));
    return { ...page, events: page.events.map(revive) };
  }

  /** One event, or undefined (serve's 404). */
  async getEvent(tenant: string, id: string): Promise<StoredAuditEvent | undefined> {
    checkQuery({ tenant });
    // Not UUID text: no event, as the store answers (and "." or ".." would resolve away in the URL path). Sent as
    // reads return it (an older serve took only that form).
    const text = eventIdText(id);
    if (text === undefined) return undefined;
    const res = await this.get(`/events/${encodeURIComponent(text)}`, [['tenant', tenant]], [404]);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    return revive(await this.json<StoredAuditEvent>(res));
  }

  search(filter: EventFilter, page: PageOptions = {}): Promise<EventPage> {
    // The cursor is serve's to check: a newer serve may hand out a cursor version this CLI does not know.
    checkQuery(filter, { limit: page.limit });
    return this.page('/events', filterQuery(filter, page));
  }

  actorTimeline(
    tenant: string,
    actor: { id: string; type?: string },
    options: TimelineOptions = {},
  ): Promise<EventPage> {
    const { limit, cursor, actor: _other, ...filter } = options;
    // The store's checks first: an empty id would make another route, a huge one an oversized URL.
    checkQuery({ ...filter, tenant, actor }, { limit });
    // "." and ".." would be resolved away as URL path segments (/actors/../events is /events: every actor); a long
    // id would make a path over serve's header limit (only the query string can move into a POST body).
    if (!fitsInPath(actor.id))
      return this.page('/events', filterQuery({ ...filter, tenant, actor }, { limit, cursor }));
    const query = filterQuery({ tenant, ...filter }, { limit, cursor });
    if (actor.type !== undefined) query.push(['type', actor.type]);
    return this.page(`/actors/${encodeURIComponent(actor.id)}/events`, query);
  }

  targetHistory(
    tenant: string,
    target: { type: string; id: string },
    options: TimelineOptions = {},
  ): Promise<EventPage> {
    const { limit, cursor, target: _other, ...filter } = options;
    checkQuery({ ...filter, tenant, target }, { limit });
    if (!fitsInPath(target.type) || !fitsInPath(target.id))
      return this.page('/events', filterQuery({ ...filter, tenant, target }, { limit, cursor }));
    const query = filterQuery({ tenant, ...filter }, { limit, cursor });
    return this.page(
      `/targets/${encodeURIComponent(target.type)}/${encodeURIComponent(target.id)}/events`,
      query,
    );
  }

  async countByAction(filter: EventFilter): Promise<ActionCount[]> {
    checkQuery(filter);
    return this.json<ActionCount[]>(await this.get('/counts/actions', filterQuery(filter)));
  }

  async countOverTime(filter: EventFilter, interval: Interval = 'hour'): Promise<TimeBucket[]> {
    checkQuery(filter);
    const found = await this.json<{ start: string; count: number }[]>(
      await this.get('/counts/time', [...filterQuery(filter), ['interval', interval]]),
    );
    return found.map((b) => ({ start: new Date(b.start), count: b.count }));
  }

  /** The status of the store serve holds. */
  async status(): Promise<StoreStatus> {
    const status = await this.json<StoreStatus>(await this.get('/status', []));
    // A serve of an earlier release answers without the fields added since (read as "none").
    return {
      ...status,
      migrations: { ...status.migrations, changed: status.migrations.changed ?? [] },
      missing: status.missing ?? [],
    };
  }

  /** Streams serve's export to `write`; resolves with the number of events. */
  async exportEvents(filter: EventFilter, options: ExportOptions): Promise<number> {
    checkQuery(filter);
    const res = await this.get('/export', [
      ...filterQuery(filter),
      ['format', options.format],
      ...(options.order !== undefined ? [['order', options.order] as [string, string]] : []),
    ]);
    if (!res.body) return 0;
    const decoder = new TextDecoder();
    const csv = new CsvRecordCounter();
    let lines = 0;
    let reported = 0;
    const rows = () => (options.format === 'csv' ? Math.max(0, csv.records - 1) : lines);
    const body = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    // serve cuts the connection when its export fails after the 200 (a store error, serve stopped): fetch then
    // says only "terminated", so the failure is named here; errors of `write` (the output) pass as they are.
    const next = async () => {
      try {
        return await body.next();
      } catch (cause) {
        const detail =
          (cause as Error).cause instanceof Error ? ` (${((cause as Error).cause as Error).message})` : '';
        throw new RemoteServeError(
          `the export from otel-audit serve at ${this.url} was cut off after ${rows()} events: ` +
            `${(cause as Error).message}${detail}; serve's log says why`,
          { cause },
        );
      }
    };
    try {
      for (let item = await next(); !item.done; item = await next()) {
        const text = decoder.decode(item.value, { stream: true });
        if (options.format === 'csv') csv.feed(text);
        else for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines += 1;
        await options.write(text);
        if (rows() - reported >= (options.pageSize ?? 5000)) {
          reported = rows();
          options.onProgress?.({ rows: reported });
        }
      }
    } catch (error) {
      // The output failed (or the body did): the rest of the answer is not wanted.
      await body.return?.().catch(() => undefined);
      throw error;
    }
    const tail = decoder.decode();
    if (tail) await options.write(tail);
    if (rows() !== reported) options.onProgress?.({ rows: rows() });
    return rows();
  }

  async close(): Promise<void> {
    // Nothing held: each call is one HTTP request.
  }
}
