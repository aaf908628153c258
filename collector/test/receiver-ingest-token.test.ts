// serve's ingest token, on a real serve and chDB: POST /v1/logs takes it, the query API refuses it (a service
// that sends events cannot read any tenant's), and the token (the read token) still ingests.
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DISCOVERY_FILE_NAME,
  healthChallengeAnswer,
  INGEST_TOKEN_FILE_NAME,
  ReceiverConfigError,
  startServe,
  TOKEN_FILE_NAME,
} from '../src/index.js';
import {
  type JsonObject,
  logsRequest,
  post,
  protobufBody,
  query,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const TENANT = 'acme';

function auditRecord(id: string): JsonObject {
  return {
    timeUnixNano: '1732300000123000000',
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

const sendWith = (t: TestServe, token: string, id: string) =>
  post(`${t.serve.url}/v1/logs`, protobufBody(logsRequest([auditRecord(id)])), {
    authorization: `Bearer ${token}`,
    'content-type': 'application/x-protobuf',
  });

const silent = { log() {} };

describe('serve with the default ingest token', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe();
  }, 60_000);
  afterAll(async () => t?.close());

  it('generates it next to serve.token, owner-only, and logs where it is', () => {
    const file = join(t.dir, 'data', INGEST_TOKEN_FILE_NAME);
    expect(t.serve.ingestTokenFile).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Exactly the token, no trailing newline: what a collector's `${file:...}` header reference needs.
    expect(readFileSync(file, 'utf8')).toBe(t.serve.ingestToken);
    expect(readFileSync(join(t.dir, 'data', TOKEN_FILE_NAME), 'utf8')).toBe(t.serve.token);
    expect(t.serve.ingestToken).not.toBe(t.serve.token);
    const listening = t.logs.map((l) => JSON.parse(l) as JsonObject).find((l) => l.msg === 'listening');
    expect(listening?.ingestTokenFile).toBe(file);
    expect(t.logs.some((l) => l.includes('"generated an ingest token"'))).toBe(true);
  });

  it('ingests with the ingest token or the token; 401 with anything else', async () => {
    const ingest = t.serve.ingestToken as string;
    const byIngest = randomUUID();
    const byRead = randomUUID();
    expect((await sendWith(t, ingest, byIngest)).status).toBe(200);
    expect((await sendWith(t, t.serve.token, byRead)).status).toBe(200);
    const wrong = await sendWith(t, `${ingest}x`, randomUUID());
    expect(wrong.status).toBe(401);
    const page = await query(t.serve, `/v1/audit/events?tenant=${TENANT}`);
    expect(page.status).toBe(200);
    const ids = (page.body as { events: { id: string }[] }).events.map((e) => e.id);
    expect(ids.sort()).toEqual([byIngest, byRead].sort());
  });

  it('the query API refuses the ingest token (a service that sends events reads none)', async () => {
    const ingest = t.serve.ingestToken as string;
    for (const path of [
      `/v1/audit/events?tenant=${TENANT}`,
      '/v1/audit/status',
      `/v1/audit/export?tenant=${TENANT}`,
    ]) {
      const refused = await query(t.serve, path, ingest);
      expect(refused.status, path).toBe(401);
      // Said so: the ingest token is the one handed to services, a likely first try.
      expect((refused.body as { error: { message: string } }).error.message, path).toBe(
        "this is the ingest token, which only sends events (POST /v1/logs); the query API takes serve's token (serve.token, --token-file or OTEL_AUDIT_SERVE_TOKEN)",
      );
    }
    const wrong = await query(t.serve, '/v1/audit/status', 'not-a-token-of-this-serve');
    expect((wrong.body as { error: { message: string } }).error.message).toBe(
      'missing or wrong bearer token (Authorization: Bearer <token>)',
    );
  });

  it('/health proves the token, not the ingest token', async () => {
    const res = await fetch(`${t.serve.url}/health?challenge=abc`);
    const body = (await res.json()) as { challenge: string };
    expect(body.challenge).toBe(healthChallengeAnswer(t.serve.token, 'abc', process.pid, t.serve.port));
  });
});

describe('the ingest token given', () => {
  const root = mkdtempSync(join(tmpdir(), 'receiver-ingest-token-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is kept across restarts when generated (senders keep working)', async () => {
    const store = { path: join(root, 'kept') };
    const first = await startServe({ store, port: 0, log: silent });
    const token = first.ingestToken;
    await first.close();
    const second = await startServe({ store, port: 0, log: silent });
    try {
      expect(second.ingestToken).toBe(token);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('as a value or a file is used; the same value as the token is refused before anything listens', async () => {
    const state = join(root, 'state');
    mkdirSync(state, { mode: 0o700 });
    const store = { path: join(root, 'given') };
    const same = startServe({
      store,
      port: 0,
      stateDir: state,
      token: 'one-token-for-everything',
      ingestToken: 'one-token-for-everything',
      log: silent,
    });
    await expect(same).rejects.toThrow(ReceiverConfigError);
    await expect(same).rejects.toThrow(
      'ingestToken: the ingest token is the same as the token: give services an ingest token of its own',
    );
    expect(existsSync(join(state, DISCOVERY_FILE_NAME))).toBe(false);

    const file = join(root, 'ingest.token');
    writeFileSync(file, 'an-ingest-token-from-a-file\n', { mode: 0o600 });
    const serve = await startServe({ store, port: 0, stateDir: state, ingestTokenFile: file, log: silent });
    try {
      expect(serve.ingestToken).toBe('an-ingest-token-from-a-file');
      expect(serve.ingestTokenFile).toBe(file);
      // Not generated in the state directory when a file is given.
      expect(existsSync(join(state, INGEST_TOKEN_FILE_NAME))).toBe(false);
      expect(existsSync(join(state, TOKEN_FILE_NAME))).toBe(true);
    } finally {
      await serve.close();
    }
  }, 60_000);

  it('in a file other users may read is refused, naming --ingest-token-file', async () => {
    const file = join(root, 'shared-ingest.token');
    writeFileSync(file, 'an-ingest-token-others-read\n');
    chmodSync(file, 0o644);
    await expect(
      startServe({ store: { path: join(root, 'mode') }, port: 0, ingestTokenFile: file, log: silent }),
    ).rejects.toThrow(`--ingest-token-file: ${file} has mode 0644: other users may read or write the token`);
  }, 60_000);

  it('is neither made nor used with ingest auth none', async () => {
    const store = { path: join(root, 'none') };
    const serve = await startServe({ store, port: 0, ingestAuth: 'none', log: silent });
    try {
      expect(serve.ingestToken).toBeUndefined();
      expect(serve.ingestTokenFile).toBeUndefined();
      expect(existsSync(join(store.path, INGEST_TOKEN_FILE_NAME))).toBe(false);
    } finally {
      await serve.close();
    }
  }, 60_000);
});
