// The query API's statuses and time parameters, against serve on a real chDB directory: `from`/`to` take only
// ISO 8601 (a bare date = midnight UTC, a date-time needs a zone), 405 to other methods, 500 when the store
// fails a query, 503 + Retry-After when the store's server cannot be reached or serve is draining.

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { isStoreUnreachable } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A, AUDIT_SCOPE_NAME, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger, type RunningServe, startServe } from '../src/index.js';
import { freePort } from '../src/otelcol/index.js';
import {
  type JsonObject,
  logsRequest,
  logsRequestHead,
  query,
  rawConnection,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const TENANT = 'acme';

/** An audit record per the conventions, occurring at `iso`. */
function auditRecord(id: string, iso: string): JsonObject {
  return {
    timeUnixNano: `${BigInt(Date.parse(iso)) * 1_000_000n}`,
    body: { stringValue: '{}' },
    attributes: [
      str(A.eventId, id),
      str(A.action, 'iam.user.updated'),
      str(A.tenant, TENANT),
      str(A.actorId, 'user-1'),
      str(A.actorType, 'user'),
      str(A.targets, '[]'),
      str(A.crud, 'update'),
      str(A.outcome, 'success'),
    ],
  };
}

interface Page {
  events: { id: string }[];
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

describe('query API on an embedded store', () => {
  let t: TestServe;
  // Before, at and after midnight UTC of 2026-11-23.
  const ids = { before: randomUUID(), midnight: randomUUID(), noon: randomUUID() };

  beforeAll(async () => {
    t = await startTestServe();
    const res = await t.send(
      logsRequest(
        [
          auditRecord(ids.before, '2026-11-22T23:59:59.999Z'),
          auditRecord(ids.midnight, '2026-11-23T00:00:00Z'),
          auditRecord(ids.noon, '2026-11-23T12:00:00Z'),
        ],
        [str('service.name', 'svc')],
        { name: AUDIT_SCOPE_NAME, version: '1' },
      ),
    );
    expect(res.status).toBe(200);
  }, 60_000);
  afterAll(async () => t?.close());

  const eventIds = async (params: string) => {
    const res = await query(t.serve, `/v1/audit/events?tenant=${TENANT}&${params}`);
    expect(res.status, params).toBe(200);
    return (res.body as Page).events.map((e) => e.id).sort();
  };

  it('from/to: a bare date is midnight UTC; date-times with Z or an offset are exact', async () => {
    expect(await eventIds('from=2026-11-23')).toEqual([ids.midnight, ids.noon].sort());
    expect(await eventIds('to=2026-11-23')).toEqual([ids.before]);
    expect(await eventIds('from=2026-11-23T12:00:00Z')).toEqual([ids.noon]);
    // 13:00+01:00 is 12:00 UTC (`to` is exclusive); the + must be percent-encoded in a query string.
    expect(await eventIds(`to=${encodeURIComponent('2026-11-23T13:00:00+01:00')}`)).toEqual(
      [ids.before, ids.midnight].sort(),
    );
    expect(await eventIds('from=2026-11-22T23:59:59.999Z&to=2026-11-23T00:00:00.001Z')).toEqual(
      [ids.before, ids.midnight].sort(),
    );
    // Past the millisecond, each bound widens to its millisecond (times are stored truncated to it): the event
    // stored at 12:00:00.000 is in both [12:00:00.0005, ) and [ , 12:00:00.0005).
    expect(await eventIds('from=2026-11-23T12:00:00.0005Z')).toEqual([ids.noon]);
    expect(await eventIds('to=2026-11-23T12:00:00.0005Z')).toEqual(
      [ids.before, ids.midnight, ids.noon].sort(),
    );
    expect(await eventIds('from=2026-11-23T12:00:00.0001Z&to=2026-11-23T12:00:00.0009Z')).toEqual([ids.noon]);
  });

  it('from/to: anything else is a 400 naming the parameter and the accepted forms', async () => {
    for (const [name, value] of [
      ['from', '12'], // new Date('12') would be 2001-12-01, local time
      ['from', '2026-11-23T10:00:00'], // no zone: ambiguous
      ['to', 'yesterday'],
      ['to', '2026-02-30'],
      ['from', '1732300000000'],
      ['to', 'Mon, 23 Nov 2026 10:00:00 GMT'],
    ] as const) {
      const res = await query(
        t.serve,
        `/v1/audit/events?tenant=${TENANT}&${name}=${encodeURIComponent(value)}`,
      );
      expect(res.status, value).toBe(400);
      const { error } = res.body as ErrorBody;
      expect(error.code).toBe('invalid_argument');
      expect(error.field).toBe(name);
      expect(error.message).toContain(`${name}: ${JSON.stringify(value)} is not an ISO 8601 time`);
      expect(error.message).toMatch(/2026-11-23.*midnight UTC.*with a zone/);
    }
    // The same check on every list route, e.g. counts over time.
    const counts = await query(t.serve, `/v1/audit/counts/time?tenant=${TENANT}&to=12`);
    expect(counts.status).toBe(400);
    expect((counts.body as ErrorBody).error.field).toBe('to');
  });

  it('refuses a parameter the route does not read with a 400 naming it (never an unfiltered answer)', async () => {
    const refused = async (path: string, field: string, message: RegExp) => {
      const res = await query(t.serve, path);
      expect(res.status, path).toBe(400);
      const { error } = res.body as ErrorBody;
      expect(error.code, path).toBe('invalid_argument');
      expect(error.field, path).toBe(field);
      expect(error.message, path).toMatch(message);
    };
    const tenant = `tenant=${TENANT}`;
    // A misspelt filter: answering without it would return events of other actor types.
    await refused(
      `/v1/audit/events?${tenant}&actor=user-1&actor_type=api_key`,
      'actor_type',
      /^actor_type: is not a parameter of \/events \(it takes tenant, action, .*actorType.*limit, cursor\)$/,
    );
    await refused(
      `/v1/audit/events/${ids.noon}?${tenant}&limit=1`,
      'limit',
      /not a parameter of \/events\/\{id\}/,
    );
    await refused(
      `/v1/audit/actors/user-1/events?${tenant}&actorType=user`,
      'actorType',
      /is `type` on this route/,
    );
    await refused(`/v1/audit/actors/user-1/events?${tenant}&actor=other`, 'actor', /the one in the path/);
    await refused(`/v1/audit/targets/doc/d1/events?${tenant}&target=x:y`, 'target', /the one in the path/);
    await refused(`/v1/audit/targets/doc/d1/events?${tenant}&targetId=y`, 'targetId', /the one in the path/);
    // A target as TYPE:ID, or as targetType + targetId (a type may hold a colon): one form, both halves.
    await refused(
      `/v1/audit/events?${tenant}&target=x:y&targetType=x&targetId=y`,
      'target',
      /^target: give target \(TYPE:ID\) or targetType and targetId, not both$/,
    );
    await refused(`/v1/audit/events?${tenant}&targetId=y`, 'targetType', /is required with targetId/);
    await refused(`/v1/audit/events?${tenant}&targetType=x`, 'targetId', /is required with targetType/);
    await refused(
      `/v1/audit/events?${tenant}&limit=x`,
      'limit',
      /^limit: must be a whole number between 1 and 10000$/,
    );
    const byParts = await query(t.serve, `/v1/audit/events?${tenant}&targetType=a%3Ab&targetId=c`);
    expect(byParts.status).toBe(200);
    expect((byParts.body as Page).events).toEqual([]);
    await refused(
      `/v1/audit/counts/actions?${tenant}&limit=5`,
      'limit',
      /not a parameter of \/counts\/actions/,
    );
    await refused(`/v1/audit/counts/time?${tenant}&bogus=1`, 'bogus', /not a parameter of \/counts\/time/);
    await refused(`/v1/audit/export?${tenant}&limit=1`, 'limit', /whole filtered range/);
    await refused(`/v1/audit/export?${tenant}&format=xml`, 'format', /must be ndjson or csv, got "xml"/);
    await refused(`/v1/audit/export?${tenant}&order=random`, 'order', /must be time or actor, got "random"/);
    // What the store refuses comes back under the API's parameter names, not the store's (actions[0], actor.id).
    const long = 'x'.repeat(5000);
    await refused(`/v1/audit/events?${tenant}&action=billing*`, 'action', /^action: "billing\*"/);
    await refused(`/v1/audit/events?${tenant}&crud=update&action=a&action=b*c`, 'action', /^action: "b\*c"/);
    await refused(`/v1/audit/events?${tenant}&actor=${long}`, 'actor', /^actor: is 5000 characters/);
    await refused(`/v1/audit/events?${tenant}&actor=a&actorType=${long}`, 'actorType', /^actorType:/);
    await refused(`/v1/audit/actors/a/events?${tenant}&type=${long}`, 'type', /^type:/);
    await refused(`/v1/audit/actors/${long}/events?${tenant}`, 'path', /^path:/);
    await refused(`/v1/audit/events?${tenant}&target=doc:${long}`, 'target', /^target:/);
    await refused(`/v1/audit/events?${tenant}&targetType=doc&targetId=${long}`, 'targetId', /^targetId:/);
    await refused(`/v1/audit/targets/doc/${long}/events?${tenant}`, 'path', /^path:/);
    // A `.` or `..` segment would be removed by URL parsing: /actors/../events answered as /events (every actor).
    // Sent as written (node:http keeps the path; fetch would normalise it before sending).
    for (const [path, message] of [
      ...['..', '.', '%2E%2E', '%2e.'].map(
        (segment) =>
          [
            `/v1/audit/actors/${segment}/events?${tenant}`,
            /is removed by URL normalisation.*\/events\?actor=/,
          ] as const,
      ),
      // `\` reads as `/` (then `..` resolves across it); `#` ends the request (a value cut short).
      [`/v1/audit/actors\\..\\events?${tenant}`, /a backslash in the path would be read as "\/"/] as const,
      [`/v1/audit/actors/x/events/..\\..\\..\\status?${tenant}`, /a backslash/] as const,
      [`/v1/audit/events?tenant=a#b`, /a "#" would be read as the end of the request/] as const,
    ]) {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: t.serve.port,
            path,
            headers: { authorization: `Bearer ${t.serve.token}` },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
      expect(answer.status, path).toBe(400);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      expect(error.field, path).toBe('path');
      expect(error.message, path).toMatch(message);
    }
    // What each route does read still works, `type` on the actor route included.
    const actor = await query(t.serve, `/v1/audit/actors/user-1/events?${tenant}&type=user&limit=2`);
    expect(actor.status).toBe(200);
    expect((actor.body as Page).events).toHaveLength(2);
    const time = await query(t.serve, `/v1/audit/counts/time?${tenant}&interval=day&from=2026-11-23`);
    expect(time.status).toBe(200);
  });

  it('answers 405 to a method other than GET (and POST on the query API)', async () => {
    const health = await fetch(`${t.serve.url}/health`, { method: 'POST' });
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD');
    const res = await fetch(`${t.serve.url}/v1/audit/events?tenant=${TENANT}`, {
      method: 'DELETE',
      headers: t.auth,
    });
    expect(res.status).toBe(405);
    expect(((await res.json()) as ErrorBody).error.code).toBe('method_not_allowed');
  });

  it('takes the parameters of a POST in a form body (filters too long for a URL), never both', async () => {
    const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${t.serve.url}/v1/audit${path}`, {
        method: 'POST',
        headers: { ...t.auth, 'content-type': type },
        body,
      });
    // 20 actions of 4,000 characters: ~80 KB, over the 16 KiB of headers serve reads.
    const actions = Array.from({ length: 20 }, (_, i): [string, string] => [
      'action',
      `x.${String(i).repeat(4000).slice(0, 4000)}`,
    ]);
    const long = new URLSearchParams([['tenant', TENANT], ...actions, ['action', 'iam.user.updated']]);
    const res = await post('/events', long.toString());
    expect(res.status).toBe(200);
    expect(((await res.json()) as Page).events.map((e) => e.id).sort()).toEqual(Object.values(ids).sort());
    const viaUrl = await fetch(`${t.serve.url}/v1/audit/events?${long}`, { headers: t.auth });
    expect(viaUrl.status).toBe(431);
    const both = await fetch(`${t.serve.url}/v1/audit/events?tenant=${TENANT}`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: `tenant=${TENANT}`,
    });
    expect(both.status).toBe(400);
    expect(((await both.json()) as ErrorBody).error.message).toMatch(/not both/);
    expect((await post('/events', '{"tenant":"acme"}', 'application/json')).status).toBe(415);
    expect((await post('/events', `tenant=${TENANT}&x=${'y'.repeat(5 * 1024 * 1024)}`)).status).toBe(413);
    // Validated as from a URL: a misspelt parameter is refused.
    const misspelt = await post('/events', `tenant=${TENANT}&actor_type=user`);
    expect(misspelt.status).toBe(400);
  });

  it('answers 500 when the store fails the query, and serves again once it is back', async () => {
    const events = `{db}.${AUDIT_TABLES.events}`;
    await t.serve.store.command(`RENAME TABLE ${events} TO {db}.audit_events_away`);
    try {
      const res = await query(t.serve, `/v1/audit/events?tenant=${TENANT}`);
      expect(res.status).toBe(500);
      expect((res.body as ErrorBody).error.code).toBe('internal');
    } finally {
      await t.serve.store.command(`RENAME TABLE {db}.audit_events_away TO ${events}`);
    }
    expect(await eventIds('')).toHaveLength(3);
  });
});

describe('a ClickHouse server that cannot be reached', () => {
  let serve: RunningServe;
  const stateDir = mkdtempSync(join(tmpdir(), 'receiver-unreachable-'));
  const logs: string[] = [];
  beforeAll(async () => {
    serve = await startServe({
      store: { url: `http://127.0.0.1:${await freePort()}` },
      stateDir,
      port: 0,
      migrate: false,
      log: jsonLogger((line) => logs.push(line)),
      records: 'audit',
      limits: { retryAfterSeconds: 7 },
    });
  });
  afterAll(async () => {
    await serve?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts anyway (the server may come up later), saying it could not check for pending migrations', () => {
    const warning = logs
      .map((l) => JSON.parse(l) as { level: string; msg: string; error?: string })
      .find((l) => l.msg === 'could not check the store for pending migrations: it cannot be reached');
    expect(warning?.level).toBe('warn');
    expect(warning?.error).toMatch(/ECONNREFUSED/);
  });

  it('answers queries with 503 and Retry-After, not 500', async () => {
    const res = await fetch(`${serve.url}/v1/audit/events?tenant=${TENANT}`, {
      headers: { authorization: `Bearer ${serve.token}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    const { error } = (await res.json()) as ErrorBody;
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(/the store cannot be reached: .*ECONNREFUSED/);
  });

  it('answers an export with 503 too (the status waits for the first page), NDJSON and CSV', async () => {
    for (const format of ['ndjson', 'csv']) {
      const res = await fetch(`${serve.url}/v1/audit/export?tenant=${TENANT}&format=${format}`, {
        headers: { authorization: `Bearer ${serve.token}` },
      });
      expect(res.status, format).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(((await res.json()) as ErrorBody).error.code).toBe('unavailable');
    }
  });

  it('counts the client timeout of a server that accepts and never answers as unreachable', async () => {
    // A real @clickhouse/client against a socket that is accepted and left hanging.
    const sockets: Socket[] = [];
    const hung = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const client = createClient({
      url: `http://127.0.0.1:${(hung.address() as { port: number }).port}`,
      request_timeout: 300,
    });
    try {
      const error = await client.query({ query: 'SELECT 1' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(isStoreUnreachable(error)).toBe(true);
      expect(isStoreUnreachable(new Error('Code: 60. DB::Exception: Unknown table'))).toBe(false);
    } finally {
      await client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });

  it('answers logs requests with 503 and Retry-After too (nothing acknowledged)', async () => {
    const res = await fetch(`${serve.url}/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(logsRequest([auditRecord(randomUUID(), '2026-11-23T12:00:00Z')])),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as { message: string }).message).toMatch(/writing to the store failed/);
  });
});

describe('while draining', () => {
  it('/health answers 503 with status "draining", the query API 503 with Retry-After', async () => {
    const t = await startTestServe();
    // Two logs requests whose bodies are held back: serve stays draining until they end. On `c` and `d`, requests
    // whose headers are cut short when draining begins, so they arrive after it began.
    const a = await rawConnection(t.serve.port);
    const b = await rawConnection(t.serve.port);
    const c = await rawConnection(t.serve.port);
    const d = await rawConnection(t.serve.port);
    a.socket.write(logsRequestHead(t.serve.token, 2));
    b.socket.write(logsRequestHead(t.serve.token, 2));
    c.socket.write('GET /health HTTP/1.1\r\n');
    d.socket.write(`GET /v1/audit/events?tenant=${TENANT} HTTP/1.1\r\n`);
    const deadline = Date.now() + 10_000;
    while (t.serve.server.stats().inFlight < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(t.serve.server.stats().inFlight).toBe(2);
    const closing = t.serve.close();
    try {
      // An empty ExportLogsServiceRequest padded with an unknown empty field (2 bytes): valid, no records.
      b.socket.write(Buffer.from([0x7a, 0x00]));
      c.socket.write('Host: x\r\n\r\n');
      d.socket.write(`Host: x\r\nAuthorization: Bearer ${t.serve.token}\r\n\r\n`);
      const responses = [await b.waitFor(/\r\n\r\n/), await c.waitFor(/\}$/), await d.waitFor(/\}\}$/)];
      expect(responses.map((r) => r.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 503', 'HTTP/1.1 503']);
      // Every answer while draining tells the client the connection closes (it is about to).
      for (const r of responses) expect(r).toMatch(/^connection: close\r$/im);
      expect(responses[1]).toMatch(/"status":"draining"/);
      expect(responses[2]).toMatch(/^retry-after: 1\r$/im);
      expect(responses[2]).toMatch(/the receiver is shutting down/);
    } finally {
      a.socket.write(Buffer.from([0x7a, 0x00]));
      await closing;
      for (const x of [a, b, c, d]) x.socket.destroy();
      await t.close();
    }
  });
});
