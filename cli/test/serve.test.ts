// `otel-audit serve` as a real child process: the query commands go through it while it runs and open the
// directory directly when it does not; the query API's auth and tenant scoping; duplicates; SIGTERM.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditStoreInputError,
  type EventPage,
  loadMigrations,
  type StoreStatus,
} from '@otel-audit/clickhouse';
import {
  DISCOVERY_FILE_NAME,
  INGEST_TOKEN_FILE_NAME,
  processStart,
  TOKEN_FILE_NAME,
} from '@otel-audit/collector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteAuditReader } from '../src/remote-store.js';
import {
  answerHealth,
  auditRequest,
  cli,
  LOCKS_VISIBLE,
  postLogs,
  type SentEvent,
  type ServeChild,
  startServeChild,
} from './serve-support.js';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-serve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const events = (tenant: string, n: number): SentEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    tenant,
    action: i % 2 ? 'billing.invoice.paid' : 'iam.user.updated',
    actor: `user-${i % 3}`,
    target: `inv-${i % 4}`,
  }));

describe('otel-audit serve (child process)', () => {
  const dir = join(root, 'data');
  let serve: ServeChild;
  let token = '';
  const acme = events('acme', 12);
  const other = events('other', 3);

  beforeAll(async () => {
    serve = await startServeChild(['--data-dir', dir, '--port', '0']);
    token = readFileSync(join(dir, TOKEN_FILE_NAME), 'utf8').trim();
    expect(await postLogs(serve.url, token, auditRequest([...acme, ...other]))).toBe(200);
  }, 60_000);
  afterAll(() => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });

  const api = async (path: string, auth: string | null = token) => {
    const res = await fetch(`${serve.url}/v1/audit${path}`, {
      headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('writes its URL to serve.json and keeps the generated token readable by the owner only', () => {
    const discovery = JSON.parse(readFileSync(join(dir, DISCOVERY_FILE_NAME), 'utf8')) as {
      url: string;
      pid: number;
    };
    expect(discovery).toMatchObject({ url: serve.url, pid: serve.child.pid });
    expect(statSync(join(dir, TOKEN_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, INGEST_TOKEN_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, DISCOVERY_FILE_NAME)).mode & 0o777).toBe(0o600);
  });

  it('CLI query commands read through the running serve (the directory is locked to them)', async () => {
    const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--json', '--limit', '100']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const page = JSON.parse(r.out) as EventPage;
    expect(page.events.map((e) => e.id).sort()).toEqual(acme.map((e) => e.id).sort());

    const actor = await cli([
      'actor',
      'user-1',
      '--type',
      'user',
      '--data-dir',
      dir,
      '--tenant',
      'acme',
      '--json',
    ]);
    expect(actor.code).toBe(0);
    expect((JSON.parse(actor.out) as EventPage).events.map((e) => e.id).sort()).toEqual(
      acme
        .filter((e) => e.actor === 'user-1')
        .map((e) => e.id)
        .sort(),
    );
    const target = await cli(['target', 'invoice:inv-2', '--data-dir', dir, '--tenant', 'acme']);
    expect(target.code).toBe(0);
    expect(target.out.trim().split('\n')).toHaveLength(acme.filter((e) => e.target === 'inv-2').length);

    const counts = await cli(['counts', '--data-dir', dir, '--tenant', 'acme', '--json']);
    expect(counts.code).toBe(0);
    const perAction = new Map<string, number>();
    for (const e of acme) perAction.set(e.action, (perAction.get(e.action) ?? 0) + 1);
    expect(
      (JSON.parse(counts.out) as { action: string; count: number }[]).map((c) => [c.action, c.count]).sort(),
    ).toEqual([...perAction].sort());
    const overTime = await cli(['counts', '--data-dir', dir, '--tenant', 'acme', '--by', 'time', '--json']);
    expect(overTime.code).toBe(0);
    const buckets = JSON.parse(overTime.out) as { start: string; count: number }[];
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(acme.length);
    expect(buckets.every((b) => b.start.endsWith(':00:00.000Z'))).toBe(true);

    const csv = join(root, 'export.csv');
    const exported = await cli([
      'export',
      '--data-dir',
      dir,
      '--tenant',
      'acme',
      '--format',
      'csv',
      '--output',
      csv,
      '--json',
    ]);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.err)).toMatchObject({ rows: acme.length, format: 'csv' });
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(acme.length + 1);
    const byActor = await cli(['export', '--data-dir', dir, '--tenant', 'acme', '--order', 'actor']);
    expect(byActor.code).toBe(0);
    const actors = byActor.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string; actor: { id: string } }).actor.id);
    expect(actors).toEqual([...acme.map((e) => e.actor)].sort());
  });

  it('a serve too busy to answer /health within 2 s is asked again for longer, not called locked', async () => {
    // Stopped for 3 s: the first /health (2 s) times out, the second (15 s) is answered once it runs again.
    serve.child.kill('SIGSTOP');
    const resume = setTimeout(() => serve.child.kill('SIGCONT'), 3_000);
    try {
      const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--json', '--limit', '100']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect((JSON.parse(r.out) as EventPage).events).toHaveLength(acme.length);
    } finally {
      clearTimeout(resume);
      serve.child.kill('SIGCONT');
    }
  }, 30_000);

  it('status reads through the running serve: migrations, rows and retention of the store it holds', async () => {
    const r = await cli(['status', '--data-dir', dir, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const status = JSON.parse(r.out) as StoreStatus;
    expect(status.migrations).toEqual({
      applied: loadMigrations().map((m) => m.name),
      pending: [],
      unknown: [],
      changed: [],
    });
    expect(status.missing).toEqual([]);
    const events = status.tables.find((t) => t.name === 'audit_events');
    expect(events).toMatchObject({ engine: 'ReplacingMergeTree', rows: acme.length + other.length });
    expect(events?.bytesOnDisk).toBeGreaterThan(0);
    expect(events?.ttl).toBeUndefined();
    // The route takes no parameters (a tenant would suggest a scope it does not have).
    const scoped = await api('/status?tenant=acme');
    expect(scoped.status).toBe(400);
    expect(scoped.body).toMatchObject({ error: { field: 'tenant' } });
    expect((await api('/status', null)).status).toBe(401);
  });

  it('event reads one event through the running serve; exit 3 when the tenant has none with that id', async () => {
    const [first] = acme;
    const found = await cli(['event', first?.id as string, '--data-dir', dir, '--tenant', 'acme', '--json']);
    expect(found.err).toBe('');
    expect(found.code).toBe(0);
    expect(JSON.parse(found.out)).toMatchObject({
      id: first?.id,
      tenant: 'acme',
      actor: { id: first?.actor },
    });
    // An id as pasted from a ticket (upper case without dashes, a line break after it) is found too.
    const pasted = `${String(first?.id).replaceAll('-', '').toUpperCase()}\n`;
    const viaServe = await cli(['event', pasted, '--data-dir', dir, '--tenant', 'acme', '--json']);
    expect(viaServe.code).toBe(0);
    expect(JSON.parse(viaServe.out)).toMatchObject({ id: first?.id });
    for (const [id, tenant] of [
      [first?.id as string, 'other'],
      ['..', 'acme'],
    ]) {
      const none = await cli(['event', id as string, '--data-dir', dir, '--tenant', tenant as string]);
      expect(none).toEqual({ code: 3, out: '', err: `no event "${id}" in tenant "${tenant}"\n` });
    }
  });

  it('long filters read through serve as directly (sent in a POST body when a URL would be too long)', async () => {
    const long = (i: number) => `a.${String(i).repeat(4000).slice(0, 4000)}`;
    const actions = (n: number) => Array.from({ length: n }, (_, i) => ['--action', long(i)]).flat();
    // An actor or target id too long for a URL path goes as a parameter of /events.
    for (const argv of [
      ['actor', '€'.repeat(4096)],
      ['target', '/'.repeat(4096), '/'.repeat(4096)],
    ]) {
      const r = await cli([...argv, '--data-dir', dir, '--tenant', 'acme', '--json']);
      expect(r.err, argv[0]).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ events: [], nextCursor: null });
    }
    for (const n of [3, 99]) {
      const r = await cli([
        'events',
        '--data-dir',
        dir,
        '--tenant',
        'acme',
        '--json',
        ...actions(n),
        '--action',
        'iam.*',
      ]);
      expect(r.err, String(n)).toBe('');
      expect(r.code).toBe(0);
      expect((JSON.parse(r.out) as EventPage).events.map((e) => e.id).sort()).toEqual(
        acme
          .filter((e) => e.action.startsWith('iam.'))
          .map((e) => e.id)
          .sort(),
      );
    }
  });

  it('CLI usage errors from serve keep their exit code 2 and name the parameter', async () => {
    const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--limit', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/limit/);
  });

  it('query API: bearer token required on every request', async () => {
    expect((await api('/events?tenant=acme', null)).status).toBe(401);
    expect((await api('/events?tenant=acme', 'wrong-token-wrong-token')).status).toBe(401);
    // The ingest token sends events but reads none.
    const ingest = readFileSync(join(dir, INGEST_TOKEN_FILE_NAME), 'utf8').trim();
    const sent = events('ingest-check', 1);
    expect(await postLogs(serve.url, ingest, auditRequest(sent))).toBe(200);
    expect((await api('/events?tenant=acme', ingest)).status).toBe(401);
    const read = await api(`/events/${sent[0]?.id}?tenant=ingest-check`);
    expect(read.status).toBe(200);
    const health = await fetch(`${serve.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('query API: tenant required and scoping every read', async () => {
    const missing = await api('/events');
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'invalid_argument', field: 'tenant' } });
    const others = await api('/events?tenant=other');
    expect((others.body.events as { id: string }[]).map((e) => e.id).sort()).toEqual(
      other.map((e) => e.id).sort(),
    );
    // An event of acme is invisible to other, by id too.
    const id = acme[0]?.id ?? '';
    expect((await api(`/events/${id}?tenant=other`)).status).toBe(404);
    expect((await api(`/events/${id}?tenant=acme`)).body).toMatchObject({ id, tenant: 'acme' });
    const counts = await api('/counts/actions?tenant=other');
    expect(counts.status).toBe(200);
    expect((counts.body as unknown as { count: string }[]).reduce((n, c) => n + Number(c.count), 0)).toBe(
      other.length,
    );
    // A malformed path is the client's mistake, not a server error.
    expect((await api('/events/%E0%A4%A?tenant=acme')).status).toBe(400);
    expect((await api('/nothing-here?tenant=acme')).status).toBe(404);
  });

  it('query API: cursor pagination walks every event once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api(
        `/events?tenant=acme&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...(page.body.events as { id: string }[]).map((e) => e.id));
      cursor = page.body.nextCursor as string | undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(acme.map((e) => e.id).sort());
  });

  it('duplicate deliveries (a retried request) end as one event per id', async () => {
    const batch = events('dups', 20);
    const body = auditRequest(batch);
    expect(await postLogs(serve.url, token, body)).toBe(200);
    expect(await postLogs(serve.url, token, body)).toBe(200);
    expect(await postLogs(serve.url, token, auditRequest(batch.slice(0, 7)))).toBe(200);
    const page = await api('/events?tenant=dups&limit=1000');
    const ids = (page.body.events as { id: string }[]).map((e) => e.id);
    expect(ids.sort()).toEqual(batch.map((e) => e.id).sort());
  });

  it('an actor or target id "." or ".." is read through serve as that id (a URL path would resolve it away)', async () => {
    const dots: SentEvent[] = [
      { id: randomUUID(), tenant: 'dots', action: 'iam.user.updated', actor: '..', target: '..' },
      { id: randomUUID(), tenant: 'dots', action: 'iam.user.updated', actor: '.', target: '.' },
      { id: randomUUID(), tenant: 'dots', action: 'iam.user.updated', actor: 'someone', target: 'inv-9' },
    ];
    expect(await postLogs(serve.url, token, auditRequest(dots))).toBe(200);
    const ids = (r: { out: string }) =>
      (JSON.parse(r.out) as { events: { id: string }[] }).events.map((e) => e.id);
    for (const [i, id] of (['..', '.'] as const).entries()) {
      const actor = await cli(['actor', '--data-dir', dir, '--tenant', 'dots', '--json', '--', id]);
      expect(actor.code, actor.err).toBe(0);
      expect(ids(actor)).toEqual([dots[i]?.id]);
      const target = await cli(['target', `invoice:${id}`, '--data-dir', dir, '--tenant', 'dots', '--json']);
      expect(target.code, target.err).toBe(0);
      expect(ids(target)).toEqual([dots[i]?.id]);
    }
  });

  it('a target type holding a colon with the id "." or ".." is read through serve as that target', async () => {
    const colon: SentEvent[] = [
      {
        id: randomUUID(),
        tenant: 'colon',
        action: 'iam.user.updated',
        actor: 'a',
        targetType: 'k:v',
        target: '..',
      },
      {
        id: randomUUID(),
        tenant: 'colon',
        action: 'iam.user.updated',
        actor: 'a',
        targetType: 'k',
        target: 'v:..',
      },
    ];
    expect(await postLogs(serve.url, token, auditRequest(colon))).toBe(200);
    for (const [i, [type, id]] of [
      ['k:v', '..'],
      ['k', 'v:..'],
    ].entries()) {
      const r = await cli([
        'target',
        '--data-dir',
        dir,
        '--tenant',
        'colon',
        '--json',
        '--',
        type as string,
        id as string,
      ]);
      expect(r.code, r.err).toBe(0);
      expect((JSON.parse(r.out) as EventPage).events.map((e) => e.id)).toEqual([colon[i]?.id]);
    }
  });

  it('values the store refuses are refused before a request, as when the directory is opened directly', async () => {
    const cases: [string[], string][] = [
      [['actor', '--tenant', 'acme', '--', ''], 'otel-audit actor: <actor-id>: must not be empty'],
      [['target', '--tenant', 'acme', '--', '', 'x'], 'otel-audit target: <type> <id>: must not be empty'],
      [
        ['target', '--tenant', 'acme', 'invoice', 'x'.repeat(100_000)],
        'otel-audit target: <type> <id>: is 100000 characters long, at most 4096 allowed',
      ],
      [
        ['events', '--tenant', 'acme', '--actor', 'y'.repeat(20_000)],
        'otel-audit events: --actor: is 20000 characters long, at most 4096 allowed',
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await cli([...argv.slice(0, 1), '--data-dir', dir, ...argv.slice(1)]);
      expect(r.code, argv.join(' ').slice(0, 80)).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.split('\n')[0]).toBe(message);
    }
  });

  it('leaves the cursor to serve (a newer serve may hand out a cursor version this CLI does not know)', async () => {
    const bogus = 'not-a-cursor';
    for (const argv of [
      ['events', '--tenant', 'acme'],
      ['actor', '--tenant', 'acme', 'u1'],
      ['target', '--tenant', 'acme', 'invoice', 'inv-1'],
    ]) {
      // serve refuses it as the store would, with the same exit code and words.
      const r = await cli([...argv.slice(0, 1), '--data-dir', dir, ...argv.slice(1), '--cursor', bogus]);
      expect(r.code, argv[0]).toBe(2);
      expect(r.err.split('\n')[0]).toBe(
        `otel-audit ${argv[0]}: --cursor: is not a cursor returned by this store`,
      );
    }
    // Not checked before the request: against an address nothing listens on, the request is what fails.
    const nowhere = new RemoteAuditReader('http://127.0.0.1:9', 'token-token-token-token');
    const reads = [
      () => nowhere.search({ tenant: 'acme' }, { cursor: bogus }),
      () => nowhere.actorTimeline('acme', { id: 'u1' }, { cursor: bogus }),
      () => nowhere.targetHistory('acme', { type: 'invoice', id: 'inv-1' }, { cursor: bogus }),
    ];
    for (const read of reads) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(AuditStoreInputError);
    }
  });

  it('a second serve on the same directory fails with exit code 1 naming the serve that has it (its port or another)', async () => {
    for (const port of ['0', new URL(serve.url).port]) {
      const second = spawnSync(
        process.execPath,
        [
          '--conditions=@otel-audit/source',
          '--import',
          'tsx',
          'cli/src/bin.ts',
          'serve',
          '--data-dir',
          dir,
          '--port',
          port,
        ],
        { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 60_000 },
      );
      expect(second.status, port).toBe(1);
      // Not "port in use: pass --port", which only led to the lock error.
      expect(second.stderr, port).toContain(
        `otel-audit serve (pid ${serve.child.pid}) already serves this store at ${serve.url} (found through ` +
          `${join(dir, DISCOVERY_FILE_NAME)}): the other commands read through it; stop it to start another`,
      );
      // Found before chDB opens the directory: the engine's own exception is not printed first.
      if (LOCKS_VISIBLE) expect(second.stderr).not.toContain('DB::Exception');
    }
  }, 60_000);

  it('stops on SIGTERM with exit code 0, removes serve.json, and the CLI then opens the directory itself', async () => {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).toMatch(/"msg":"stopped"/);
    expect(existsSync(join(dir, DISCOVERY_FILE_NAME))).toBe(false);
    const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--json', '--limit', '100']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as EventPage).events).toHaveLength(acme.length);
  }, 60_000);
});

describe('serve started with OTEL_AUDIT_SERVE_TOKEN, a read command given another', () => {
  const dir = join(root, 'env-token-data');
  const envToken = `env-token-${randomUUID()}`;
  let serve: ServeChild;
  beforeAll(async () => {
    serve = await startServeChild(['--data-dir', dir, '--port', '0'], { OTEL_AUDIT_SERVE_TOKEN: envToken });
  }, 60_000);
  afterAll(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
    await serve.exited;
  });

  it('says the token is wrong (not that serve is an impostor whose serve.json should go), exit 1', async () => {
    const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme'], {
      OTEL_AUDIT_SERVE_TOKEN: 'a-mistyped-token-0000000',
    });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      `otel-audit serve at ${serve.url} (pid ${serve.child.pid}) is running but was started with another token ` +
        'than the one from OTEL_AUDIT_SERVE_TOKEN; the token was not sent. Set OTEL_AUDIT_SERVE_TOKEN to the token ' +
        'serve was started with.',
    );
    expect(r.err).not.toContain('remove');
    expect(existsSync(join(dir, DISCOVERY_FILE_NAME))).toBe(true);
    const right = await cli(['events', '--data-dir', dir, '--tenant', 'acme'], {
      OTEL_AUDIT_SERVE_TOKEN: envToken,
    });
    expect(right.code, right.err).toBe(0);
  }, 60_000);
});

describe('serve with --state-dir and --token-file, the token also in the environment', () => {
  const dir = join(root, 'sd-data');
  const state = join(root, 'sd-state');
  const tokenFile = join(root, 'sd.token');
  const fileToken = `file-token-${randomUUID()}`;
  const envToken = `env-token-${randomUUID()}`;
  const sent = events('sd', 5);
  let serve: ServeChild;

  beforeAll(async () => {
    writeFileSync(tokenFile, `${fileToken}\n`, { mode: 0o600 });
    serve = await startServeChild(
      ['--data-dir', dir, '--state-dir', state, '--token-file', tokenFile, '--port', '0'],
      { OTEL_AUDIT_SERVE_TOKEN: envToken },
    );
  }, 60_000);
  afterAll(async () => {
    if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
    await serve.exited;
  });

  it('--token-file beats OTEL_AUDIT_SERVE_TOKEN (a flag beats the environment)', async () => {
    expect(await postLogs(serve.url, envToken, auditRequest(sent))).toBe(401);
    expect(await postLogs(serve.url, fileToken, auditRequest(sent))).toBe(200);
  });

  it('read commands find serve through --state-dir and use its token file over the environment', async () => {
    expect(existsSync(join(state, DISCOVERY_FILE_NAME))).toBe(true);
    expect(existsSync(join(dir, DISCOVERY_FILE_NAME))).toBe(false);
    const r = await cli(['events', '--data-dir', dir, '--state-dir', state, '--tenant', 'sd', '--json'], {
      OTEL_AUDIT_SERVE_TOKEN: envToken,
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as EventPage).events.map((e) => e.id).sort()).toEqual(
      sent.map((e) => e.id).sort(),
    );
  });

  it('a serve.json naming a running process whose address does not answer says so (not "pass --state-dir")', async () => {
    const elsewhere = join(root, 'sd-unreachable-state');
    mkdirSync(elsewhere, { mode: 0o700 });
    const file = join(elsewhere, DISCOVERY_FILE_NAME);
    // serve itself (alive, holding the directory) at an address nothing listens on: a port just freed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));
    writeFileSync(file, JSON.stringify({ url: closed, pid: serve.child.pid, tokenFile }), { mode: 0o600 });
    const r = await cli(['events', '--data-dir', dir, '--state-dir', elsewhere, '--tenant', 'sd']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`data directory ${dir} is locked by another process`);
    expect(r.err).toContain(
      `${file} names an otel-audit serve (pid ${serve.child.pid}, still running) at ${closed}, but it ` +
        'cannot be reached there: ECONNREFUSED',
    );
    expect(r.err).not.toContain('--state-dir');
  }, 60_000);

  it('without --state-dir the locked-directory error says to pass the one serve was started with', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--conditions=@otel-audit/source',
        '--import',
        'tsx',
        'cli/src/bin.ts',
        'events',
        '--data-dir',
        dir,
        '--tenant',
        'sd',
      ],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`data directory ${dir} is locked by another process`);
    expect(r.stderr).toContain('started with --state-dir DIR, pass --state-dir DIR too');
    if (LOCKS_VISIBLE) expect(r.stderr).not.toContain('DB::Exception');
  }, 60_000);

  it('--database must be the one serve reads; a shared state dir never sends reads to another store', async () => {
    const discovery = JSON.parse(readFileSync(join(state, DISCOVERY_FILE_NAME), 'utf8')) as {
      database?: string;
      dataDir?: string;
    };
    expect(discovery).toMatchObject({ database: 'default', dataDir: realpathSync(dir) });
    const run = (extra: string[], env: Record<string, string> = {}) =>
      cli(['events', '--data-dir', dir, '--state-dir', state, '--tenant', 'sd', ...extra], env);
    const same = await run(['--database', 'default']);
    expect(same.err).toBe('');
    expect(same.out.trim().split('\n')).toHaveLength(sent.length);
    const flag = await run(['--database', 'audit']);
    expect(flag.code).toBe(2);
    expect(flag.out).toBe('');
    expect(flag.err).toContain(
      `otel-audit events: --database audit: the otel-audit serve running at ${serve.url} holds ${dir} and reads database "default"`,
    );
    const env = await run([], { OTEL_AUDIT_CLICKHOUSE_DATABASE: 'audit' });
    expect(env.code).toBe(2);
    expect(env.err).toContain('OTEL_AUDIT_CLICKHOUSE_DATABASE=audit: the otel-audit serve running at');
    // A serve.json from an older serve (no database field): any database asked for is refused, not ignored.
    const old = join(root, 'sd-state-old');
    mkdirSync(old);
    const { database: _db, ...withoutDatabase } = discovery;
    writeFileSync(join(old, DISCOVERY_FILE_NAME), JSON.stringify(withoutDatabase));
    const refused = await cli([
      'events',
      '--data-dir',
      dir,
      '--state-dir',
      old,
      '--tenant',
      'sd',
      '--database',
      'x',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--database x cannot be combined with a running otel-audit serve');
    // Another data directory with this state dir: serve holds a different store, so the read is refused.
    const elsewhere = join(root, 'sd-other-data');
    mkdirSync(elsewhere);
    const wrong = await cli(['events', '--data-dir', elsewhere, '--state-dir', state, '--tenant', 'sd']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain(`holds ${realpathSync(dir)}, not ${realpathSync(elsewhere)}`);
    const url = await cli(['events', '--url', 'http://127.0.0.1:9', '--state-dir', state, '--tenant', 'sd']);
    expect(url.code).toBe(2);
    expect(url.err).toContain('--state-dir applies to a data directory');
  });

  it('stops on SIGHUP (its terminal closed) as on SIGTERM: drained, exit 0, serve.json removed', async () => {
    // Runs last in this block (vitest keeps the order): the serve is stopped here.
    expect(existsSync(join(state, DISCOVERY_FILE_NAME))).toBe(true);
    serve.child.kill('SIGHUP');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).toMatch(/"msg":"signal received".*"signal":"SIGHUP"/);
    expect(serve.stderr()).toMatch(/"msg":"stopped"/);
    expect(existsSync(join(state, DISCOVERY_FILE_NAME))).toBe(false);
  }, 60_000);
});

describe('a stale serve.json (serve was killed)', () => {
  it('is removed and the directory opened directly', async () => {
    const dir = join(root, 'stale');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    // A pid that surely is not running any more: a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(
      join(dir, DISCOVERY_FILE_NAME),
      JSON.stringify({
        url: 'http://127.0.0.1:9',
        pid: Number(gone.stdout),
        startedAt: new Date().toISOString(),
      }),
    );
    const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/no events/);
    expect(existsSync(join(dir, DISCOVERY_FILE_NAME))).toBe(false);
  }, 60_000);
});

describe('a stale serve.json whose port (and pid) another process took', () => {
  const forged = JSON.stringify({ events: [{ id: 'forged' }], nextCursor: null });
  /** A listener on the port serve left; `proveWith`: the token it answers challenges with (none: plain /health). */
  async function squatter(proveWith: () => string | undefined) {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      const key = proveWith();
      if (key !== undefined && answerHealth(req, res, key)) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(new URL(req.url ?? '/', 'http://x').pathname === '/health' ? '{"status":"ok"}' : forged);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { seen, url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
  }

  it('is refused without sending the token when the address cannot prove it knows the token', async () => {
    const dir = join(root, 'impostor');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    const tokenFile = join(root, 'impostor.token');
    writeFileSync(tokenFile, 'the-real-serve-token\n', { mode: 0o600 });
    let proveWith: string | undefined;
    const rogue = await squatter(() => proveWith);
    const file = join(dir, DISCOVERY_FILE_NAME);
    // A live pid that is not serve's, as after a recycled pid: this test's own.
    writeFileSync(file, JSON.stringify({ url: rogue.url, pid: process.pid, tokenFile }), { mode: 0o600 });
    try {
      // A plain /health answer, then a proof made with a guessed token.
      for (const key of [undefined, 'a-guessed-token-000000']) {
        proveWith = key;
        const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--json']);
        expect(r.code).toBe(1);
        expect(r.out).toBe('');
        expect(r.err).toContain(
          `${rogue.url}, the address in ${file}, does not answer as the otel-audit serve that wrote that file`,
        );
        expect(r.err).toContain('the serve token was not sent');
        // serve.json without processStart is an earlier release's; a plain /health answer is what such a serve
        // gives: the message says to restart it (a guessed proof is no earlier release's answer).
        expect(r.err.includes('an otel-audit serve of an earlier release'), String(key)).toBe(
          key === undefined,
        );
      }
      // The file of a serve of this release (processStart set) answered plainly: no earlier-release hint.
      const started = processStart(process.pid);
      if (started !== undefined) {
        writeFileSync(
          file,
          JSON.stringify({ url: rogue.url, pid: process.pid, processStart: started, tokenFile }),
        );
        proveWith = undefined;
        const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme', '--json']);
        expect(r.code).toBe(1);
        expect(r.err).toContain('does not answer as the otel-audit serve that wrote that file');
        expect(r.err).not.toContain('earlier release');
        expect(r.err).toContain(`If that serve is gone, remove ${file}`);
        rogue.seen.pop();
      }
      expect(rogue.seen).toHaveLength(2);
      for (const request of rogue.seen)
        expect(request).toMatch(/^\/health\?challenge=[0-9a-f]{64} undefined$/);
      expect(existsSync(file)).toBe(true);
    } finally {
      await rogue.close();
    }
  }, 60_000);

  it.skipIf(!existsSync(`/proc/${process.pid}/stat`))(
    'is known stale when its pid belongs to a process started at another time: removed, directory opened',
    async () => {
      const dir = join(root, 'recycled-pid');
      expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
      const tokenFile = join(root, 'recycled-pid.token');
      writeFileSync(tokenFile, 'the-real-serve-token\n', { mode: 0o600 });
      // Even one that knows the token is not asked: the start time alone says the file is stale.
      const rogue = await squatter(() => 'the-real-serve-token');
      const file = join(dir, DISCOVERY_FILE_NAME);
      writeFileSync(
        file,
        JSON.stringify({ url: rogue.url, pid: process.pid, processStart: '1', tokenFile }),
        { mode: 0o600 },
      );
      try {
        const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
        expect(r.code, r.err).toBe(0);
        expect(r.err).toMatch(/no events/);
        expect(rogue.seen).toEqual([]);
        expect(existsSync(file)).toBe(false);
      } finally {
        await rogue.close();
      }
    },
    60_000,
  );

  it('a token file others may write is not read: the command fails naming it, nothing is sent', async () => {
    const dir = join(root, 'writable-token');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    const tokenFile = join(root, 'writable.token');
    writeFileSync(tokenFile, 'the-real-serve-token\n');
    chmodSync(tokenFile, 0o666);
    const rogue = await squatter(() => undefined);
    const file = join(dir, DISCOVERY_FILE_NAME);
    writeFileSync(file, JSON.stringify({ url: rogue.url, pid: process.pid, tokenFile }), { mode: 0o600 });
    try {
      const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `not reading its token file ${tokenFile}: it is writable by other users (mode 0666)`,
      );
      for (const request of rogue.seen) expect(request).toMatch(/ undefined$/);
    } finally {
      await rogue.close();
    }
  }, 60_000);

  it.skipIf(process.getuid?.() !== 0)(
    "another user's serve.json naming this user's file as token file: the file is not read (needs root)",
    async () => {
      const state = join(root, 'other-user-state');
      mkdirSync(state, { mode: 0o755 });
      const dir = join(root, 'other-user-data');
      expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
      const secret = join(root, 'root-secret');
      writeFileSync(secret, 'root-only-secret-value\n', { mode: 0o600 });
      const rogue = await squatter(() => undefined);
      const file = join(state, DISCOVERY_FILE_NAME);
      writeFileSync(file, JSON.stringify({ url: rogue.url, pid: process.pid, tokenFile: secret }), {
        mode: 0o600,
      });
      chownSync(file, 65534, 65534);
      chownSync(state, 65534, 65534);
      try {
        const r = await cli(['events', '--data-dir', dir, '--state-dir', state, '--tenant', 'acme']);
        expect(r.code).toBe(1);
        expect(r.err).toContain(
          `not reading its token file ${secret}: it belongs to uid 0, not to uid 65534, the owner of serve.json`,
        );
        for (const request of rogue.seen) expect(request).not.toContain('root-only-secret-value');
      } finally {
        await rogue.close();
      }
    },
    60_000,
  );
});

describe('a serve.json others could have written', () => {
  it('status through a serve of an earlier release (no changed, no missing in its answer) still prints', async () => {
    const dir = join(root, 'older-serve');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    const tokenFile = join(root, 'older-serve.token');
    writeFileSync(tokenFile, 'tok\n', { mode: 0o600 });
    const older = createServer((req, res) => {
      if (answerHealth(req, res, 'tok')) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          database: 'default',
          migrated: true,
          migrations: { applied: ['0001_otel_logs'], pending: [], unknown: [] },
          tables: [],
        }),
      );
    });
    await new Promise<void>((resolve) => older.listen(0, '127.0.0.1', resolve));
    const { port } = older.address() as AddressInfo;
    const file = join(dir, DISCOVERY_FILE_NAME);
    writeFileSync(file, JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid, tokenFile }), {
      mode: 0o600,
    });
    try {
      const r = await cli(['status', '--data-dir', dir]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^database default: 1 of 1 migrations applied\n/);
      const json = JSON.parse((await cli(['status', '--data-dir', dir, '--json'])).out) as StoreStatus;
      expect([json.migrations.changed, json.missing]).toEqual([[], []]);
    } finally {
      rmSync(file, { force: true });
      older.close();
    }
  });

  it('an export serve cuts off part-way fails naming how many events came (fetch said only "terminated")', async () => {
    const dir = join(root, 'cut-off');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    const tokenFile = join(root, 'cut-off.token');
    writeFileSync(tokenFile, 'tok\n', { mode: 0o600 });
    // Stands in for a serve whose store failed after the 200 went out: two lines, then the connection is cut.
    const cutting = createServer((req, res) => {
      if (answerHealth(req, res, 'tok')) return;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"id":"a"}\n{"id":"b"}\n', () => setTimeout(() => res.destroy(), 50));
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    const { port } = cutting.address() as AddressInfo;
    const file = join(dir, DISCOVERY_FILE_NAME);
    writeFileSync(file, JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid, tokenFile }), {
      mode: 0o600,
    });
    try {
      const out = join(root, 'cut-off.ndjson');
      const r = await cli(['export', '--data-dir', dir, '--tenant', 'acme', '--output', out]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `the export from otel-audit serve at http://127.0.0.1:${port} was cut off after 2 events: terminated`,
      );
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(file, { force: true });
      cutting.close();
    }
  });
  it('is not used: the command fails instead of sending the token where that file says', async () => {
    const dir = join(root, 'untrusted');
    expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
    const secret = join(root, 'secret.txt');
    writeFileSync(secret, 'sk_live_not_for_you\n', { mode: 0o600 });
    const seen: string[] = [];
    const rogue = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      if (answerHealth(req, res, 'sk_live_not_for_you')) return;
      res.end('{}');
    });
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    const { port } = rogue.address() as AddressInfo;
    const file = join(dir, DISCOVERY_FILE_NAME);
    writeFileSync(
      file,
      JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid, tokenFile: secret }),
    );
    chmodSync(file, 0o666);
    try {
      const r = await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`not using ${file}: it is writable by other users`);
      expect(seen).toEqual([]);
      // The owner's own file (not writable by others) is used as before.
      chmodSync(file, 0o600);
      await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
      expect(seen).toContain('Bearer sk_live_not_for_you');
      // One whose serve is gone does not block reading the directory itself (and is left alone).
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      });
      writeFileSync(file, JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: Number(gone.stdout) }));
      chmodSync(file, 0o666);
      const direct = await cli(['events', '--data-dir', dir, '--tenant', 'acme']);
      expect(direct.code, direct.err).toBe(0);
      expect(existsSync(file)).toBe(true);
    } finally {
      await new Promise((resolve) => rogue.close(resolve));
    }
  }, 60_000);
});

describe.skipIf(process.getuid?.() !== 0)(
  'a serve.json of a service user (needs root to own files as another user)',
  () => {
    it('is used when that user owns the state directory and nobody else can write there', async () => {
      const state = join(root, 'service-state');
      mkdirSync(state, { mode: 0o700 });
      const dir = join(root, 'service-data');
      expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
      const seen: string[] = [];
      const listener = createServer((req, res) => {
        seen.push(new URL(req.url ?? '/', 'http://x').pathname);
        if (answerHealth(req, res, 'x')) return;
        res.end('{}');
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const { port } = listener.address() as AddressInfo;
      const file = join(state, DISCOVERY_FILE_NAME);
      writeFileSync(file, JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }), {
        mode: 0o600,
      });
      chownSync(file, 65534, 65534);
      try {
        // Owned by nobody in a directory root owns: refused.
        const refused = await cli(['events', '--data-dir', dir, '--state-dir', state, '--tenant', 'acme']);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('not to you or to the owner of its directory');
        expect(seen).toEqual([]);
        // The directory is the service user's too (0700): serve's file is used.
        chownSync(state, 65534, 65534);
        await cli(['events', '--data-dir', dir, '--state-dir', state, '--tenant', 'acme'], {
          OTEL_AUDIT_SERVE_TOKEN: 'x',
        });
        expect(seen).toContain('/health');
      } finally {
        await new Promise((resolve) => listener.close(resolve));
      }
    }, 60_000);
  },
);

describe('serve command line', () => {
  it('--help prints the options and exits 0', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--ingest-auth token\|none/);
    expect(r.out).toMatch(/OTEL_AUDIT_SERVE_TOKEN/);
    expect(r.out).toMatch(
      /--max-records-per-request N +log records in one request; 413 above \(default 100000\)/,
    );
  });

  it('a port in use fails with exit 1 before the data directory is created (or a store migrated)', async () => {
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = listener.address() as AddressInfo;
      const dataDir = join(root, 'port-in-use');
      const r = await cli(['serve', '--data-dir', dataDir, '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`port ${port} is already in use`));
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('usage errors exit 2 with the reason on stderr', async () => {
    expect((await cli(['serve'])).err).toMatch(/no store given/);
    const port = await cli(['serve', '--data-dir', join(root, 'x'), '--port', 'http']);
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/--port/);
    const auth = await cli(['serve', '--data-dir', join(root, 'x'), '--ingest-auth', 'maybe']);
    expect(auth.code).toBe(2);
    const limit = await cli(['serve', '--data-dir', join(root, 'x'), '--max-body-bytes', '0']);
    expect(limit.code).toBe(2);
    const records = await cli(['serve', '--data-dir', join(root, 'x'), '--max-records-per-request', '0']);
    expect(records.code).toBe(2);
    expect(records.err).toMatch(/--max-records-per-request: expected a whole number >= 1, got "0"/);
    const same = await cli(['serve', '--data-dir', join(root, 'x')], {
      OTEL_AUDIT_SERVE_TOKEN: 'one-token-for-everything',
      OTEL_AUDIT_SERVE_INGEST_TOKEN: 'one-token-for-everything',
    });
    expect(same.code).toBe(2);
    expect(same.err.split('\n')[0]).toBe(
      'otel-audit serve: OTEL_AUDIT_SERVE_INGEST_TOKEN: the ingest token is the same as the token: ' +
        'give services an ingest token of its own (token from OTEL_AUDIT_SERVE_TOKEN, ' +
        'ingest token from OTEL_AUDIT_SERVE_INGEST_TOKEN)',
    );
    // --token-file pointed at the ingest token's own file: the refusal names both files.
    const stateDir = join(root, 'same-token-state');
    mkdirSync(stateDir, { mode: 0o700 });
    const ingestFile = join(stateDir, 'serve.ingest-token');
    writeFileSync(ingestFile, 'a-token-of-at-least-some-length-1234', { mode: 0o600 });
    const sameFile = await cli([
      'serve',
      '--data-dir',
      join(root, 'x'),
      '--state-dir',
      stateDir,
      '--token-file',
      ingestFile,
    ]);
    expect(sameFile.code).toBe(2);
    expect(sameFile.err.split('\n')[0]).toBe(
      'otel-audit serve: the ingest token: the ingest token is the same as the token: give services an ingest ' +
        `token of its own (token from --token-file ${ingestFile}, ingest token from ${ingestFile})`,
    );
    const unused = await cli([
      'serve',
      '--data-dir',
      join(root, 'x'),
      '--ingest-auth',
      'none',
      '--ingest-token-file',
      '/x',
    ]);
    expect(unused.code).toBe(2);
    expect(unused.err.split('\n')[0]).toBe(
      'otel-audit serve: --ingest-token-file: applies with --ingest-auth token only',
    );
    expect(existsSync(join(root, 'x'))).toBe(false);
    // The state directory defaults to the data directory: its problem names --data-dir, not a --state-dir never given.
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const underFile = await cli(['serve', '--data-dir', join(file, 'sub'), '--port', '0']);
    expect(underFile.code).toBe(2);
    expect(underFile.err.split('\n')[0]).toBe(
      `otel-audit serve: --data-dir: ${join(file, 'sub')} cannot be created: ${file} is a file, not a directory`,
    );
  });

  it('a value from the environment is named by its variable (and the flag it stands for)', async () => {
    const dataDir = join(root, 'env-values');
    const cases: [env: Record<string, string>, flags: string[], message: string][] = [
      [
        { OTEL_AUDIT_SERVE_PORT: 'abc' },
        [],
        'OTEL_AUDIT_SERVE_PORT (--port): expected a port number 0..65535, got "abc"',
      ],
      // The flag beats the variable, and is named itself.
      [
        { OTEL_AUDIT_SERVE_PORT: '4318' },
        ['--port', '70000'],
        '--port: expected a port number 0..65535, got "70000"',
      ],
      [
        { OTEL_AUDIT_SERVE_INGEST_AUTH: 'maybe' },
        [],
        'OTEL_AUDIT_SERVE_INGEST_AUTH (--ingest-auth): expected token or none, got "maybe"',
      ],
      [
        { OTEL_AUDIT_SERVE_RECORDS: 'some' },
        [],
        'OTEL_AUDIT_SERVE_RECORDS (--records): expected audit or all, got "some"',
      ],
      [
        { OTEL_AUDIT_LOG_LEVEL: 'loud' },
        [],
        'OTEL_AUDIT_LOG_LEVEL (--log-level): expected one of debug, info, warn, error, got "loud"',
      ],
    ];
    for (const [env, flags, message] of cases) {
      const r = await cli(['serve', '--data-dir', dataDir, ...flags], env);
      expect(r.code, JSON.stringify(env)).toBe(2);
      expect(r.err.split('\n')[0]).toBe(`otel-audit serve: ${message}`);
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a bad token (variable, --token-file, or the state directory’s serve.token) is refused before the store is opened', async () => {
    const dataDir = join(root, 'token-checks');
    const short = await cli(['serve', '--data-dir', dataDir], { OTEL_AUDIT_SERVE_TOKEN: 'short' });
    expect(short.code).toBe(2);
    expect(short.err.split('\n')[0]).toBe(
      'otel-audit serve: OTEL_AUDIT_SERVE_TOKEN: the token must be at least 16 characters without spaces',
    );
    const missingFile = join(root, 'no-such.token');
    const missing = await cli(['serve', '--data-dir', dataDir, '--token-file', missingFile]);
    expect(missing.code).toBe(2);
    expect(missing.err.split('\n')[0]).toBe(`otel-audit serve: --token-file: ${missingFile} does not exist`);
    const shared = join(root, 'shared.token');
    writeFileSync(shared, 'a-token-everyone-can-read\n');
    chmodSync(shared, 0o644);
    const readable = await cli(['serve', '--data-dir', dataDir, '--token-file', shared]);
    expect(readable.code).toBe(2);
    expect(readable.err.split('\n')[0]).toBe(
      `otel-audit serve: --token-file: ${shared} has mode 0644: other users may read or write the token; ` +
        `\`chmod 600 ${shared}\``,
    );
    // Nothing was created: no store opened, no migrations run.
    expect(existsSync(dataDir)).toBe(false);
    // A serve.token left in the state directory with something unusable in it.
    const state = join(root, 'token-state');
    mkdirSync(state);
    writeFileSync(join(state, TOKEN_FILE_NAME), 'x\n', { mode: 0o600 });
    const stale = await cli(['serve', '--data-dir', dataDir, '--state-dir', state]);
    expect(stale.code).toBe(2);
    expect(stale.err.split('\n')[0]).toBe(
      `otel-audit serve: ${join(state, TOKEN_FILE_NAME)}: the token must be at least 16 characters without spaces`,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
