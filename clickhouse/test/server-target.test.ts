// A store on a ClickHouse server URL, where no server is needed: what happens when it cannot be reached.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuditStore,
  AuditStoreError,
  AuditStoreInputError,
  isStoreUnreachable,
  NotClickHouseError,
  StoreAuthError,
  StoreClosedError,
  type StoreTarget,
  StoreUnreachableError,
} from '../src/index.js';

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterEach(() => vi.restoreAllMocks());

describe('an unreachable server', () => {
  it('fails the call with the socket error and prints nothing itself (the caller reports it)', async () => {
    const printed: unknown[][] = [];
    for (const method of ['error', 'warn', 'info', 'log', 'debug'] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args));
    const store = await AuditStore.open({ url: `http://127.0.0.1:${await closedPort()}` });
    try {
      await expect(store.search({ tenant: 'acme' })).rejects.toThrow(/ECONNREFUSED/);
      await expect(store.migrate()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await store.close();
    }
    expect(printed).toEqual([]);
  });
});

/** An HTTP server on a free local port answering every request with `answer`; closed after the test. */
async function httpServer(
  answer: (res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('typed failures of a server store', () => {
  it('unreachable: StoreUnreachableError naming the URL (not its credentials), on every kind of call', async () => {
    const port = await closedPort();
    // Credentials in the user info or in the query (the client's access_token): serve passes these messages on.
    for (const url of [
      `http://u:secret@127.0.0.1:${port}`,
      `http://127.0.0.1:${port}/?access_token=secret`,
    ]) {
      const store = await AuditStore.open({ url });
      try {
        const calls = [
          store.search({ tenant: 'acme' }),
          store.getEvent('acme', 'x'),
          store.migrate(),
          store.status(),
          store.countByAction({ tenant: 'acme' }),
          store.exportEvents({ tenant: 'acme' }, { format: 'ndjson', write: () => {} }),
          store.insertLogs([]),
          store.query('SELECT 1'),
        ];
        for (const error of await Promise.all(calls.map(failure))) {
          expect(error).toBeInstanceOf(StoreUnreachableError);
          expect(error).toBeInstanceOf(AuditStoreError);
          expect((error as StoreUnreachableError).url).toBe(`http://127.0.0.1:${port}`);
          expect((error as Error).message).toMatch(
            new RegExp(
              `^cannot reach the ClickHouse server at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`,
            ),
          );
          expect((error as Error).message).not.toContain('secret');
          expect(isStoreUnreachable(error)).toBe(true);
        }
      } finally {
        await store.close();
      }
    }
  });

  it('a server that does not answer in time: StoreUnreachableError', async () => {
    const silent = await httpServer(() => {});
    const store = await AuditStore.open({ url: silent.url, requestTimeoutMs: 300 });
    try {
      const error = await failure(store.search({ tenant: 'acme' }));
      expect(error).toBeInstanceOf(StoreUnreachableError);
      expect((error as StoreUnreachableError).reason).toBe('no answer within the request timeout');
    } finally {
      await store.close();
      await silent.close();
    }
  });

  it('another service on the port (an empty 200, a web page, a 404): NotClickHouseError, never "no events"', async () => {
    const answers: [string, (res: ServerResponse) => void][] = [
      ['empty 200', (res) => res.end()],
      ['html 200', (res) => res.end('<html><body>Welcome</body></html>')],
      ['html 200 with newline', (res) => res.end('<html><body>Welcome</body></html>\n')],
      ['404', (res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>')],
    ];
    for (const [name, answer] of answers) {
      const other = await httpServer(answer);
      const store = await AuditStore.open({ url: other.url });
      try {
        for (const call of [store.search({ tenant: 'acme' }), store.status(), store.getEvent('acme', 'x')]) {
          const error = await failure(call);
          expect(error, name).toBeInstanceOf(NotClickHouseError);
          expect((error as Error).message, name).toMatch(
            new RegExp(
              `^${other.url.replaceAll('.', '\\.')} does not answer as a ClickHouse server's HTTP interface`,
            ),
          );
        }
      } finally {
        await store.close();
        await other.close();
      }
    }
  });

  it('a proxy whose server is down (its 502 page): StoreUnreachableError, on the first call and later ones', async () => {
    const proxy = await httpServer((res) =>
      res
        .writeHead(502, { 'content-type': 'text/html' })
        .end(
          '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center></body></html>\r\n',
        ),
    );
    const store = await AuditStore.open({ url: `${proxy.url}/?pathname=/clickhouse` });
    try {
      for (let call = 0; call < 2; call++) {
        const error = await failure(store.search({ tenant: 'acme' }));
        expect(error).toBeInstanceOf(StoreUnreachableError);
        expect((error as StoreUnreachableError).reason).toBe(
          'a proxy in front of it answered "502 Bad Gateway"',
        );
      }
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it("an engine error quoting an event's text about a proxy is not taken for a proxy's page", () => {
    // chDB's errors are not ClickHouseError; an outcome reason "upstream answered 502 Bad Gateway" may be quoted.
    const quoted = new Error(
      "Code: 41. DB::Exception: Cannot parse DateTime: 'upstream answered 502 Bad Gateway'. (CANNOT_PARSE_DATETIME)",
    );
    expect(isStoreUnreachable(quoted)).toBe(false);
  });

  it('credentials refused: StoreAuthError', async () => {
    const refusing = await httpServer((res) =>
      res
        .writeHead(403, { 'x-clickhouse-exception-code': '516' })
        .end(
          'Code: 516. DB::Exception: u: Authentication failed: password is incorrect, or there is no user with such ' +
            'name. (AUTHENTICATION_FAILED) (version 25.8.1.1)\n',
        ),
    );
    const store = await AuditStore.open({ url: refusing.url, username: 'u', password: 'wrong' });
    try {
      const error = await failure(store.search({ tenant: 'acme' }));
      expect(error).toBeInstanceOf(StoreAuthError);
      expect((error as Error).message).toMatch(/refused the user or password .*Authentication failed/);
    } finally {
      await store.close();
      await refusing.close();
    }
  });

  it('a closed store: StoreClosedError, without touching the network', async () => {
    const store = await AuditStore.open({ url: `http://127.0.0.1:${await closedPort()}` });
    await store.close();
    await store.close(); // twice is fine
    for (const call of [store.search({ tenant: 'acme' }), store.migrate(), store.status()])
      expect(await failure(call)).toBeInstanceOf(StoreClosedError);
  });
});

describe('a target naming both or neither kind of store', () => {
  it('refuses url with path, a server option with path, and neither, before opening anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-audit-target-'));
    const path = join(dir, 'data');
    try {
      const refused = async (target: unknown, field: string, message: RegExp) => {
        const error = await AuditStore.open(target as StoreTarget).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AuditStoreInputError);
        expect(error).toMatchObject({ field });
        expect((error as Error).message).toMatch(message);
      };
      // A config merged from two sources: the directory was opened and the server ignored.
      await refused({ url: 'http://127.0.0.1:1', path }, 'url', /either url .* or path .*, not both/);
      await refused({ path, username: 'u', password: 'p' }, 'username, password', /options of a server/);
      await refused({ path, requestTimeoutMs: 5 }, 'requestTimeoutMs', /is an option of a server/);
      await refused({}, 'url', /is required .* or give path/);
      await refused({ database: 'audit' }, 'url', /is required/);
      await refused({ path: 42 }, 'path', /non-empty string/);
      await refused({ path: '' }, 'path', /non-empty string/);
      await refused(null, 'target', /must be an object/);
      // A path would be the database of every request (another than `database`, or one not yet created).
      await refused({ url: 'http://127.0.0.1:8123/mydb' }, 'url', /has a path \(\/mydb\).*pathname=\/prefix/);
      await refused({ url: 'http://127.0.0.1:8123/?database=x' }, 'url', /\?database=.*--database/);
      // The URL's other ?parameters are the client's settings: one it does not know, or cannot read, is named.
      await refused({ url: 'http://127.0.0.1:8123/?nosuch=1' }, 'url', /is not usable: .*nosuch/);
      await refused({ url: 'http://127.0.0.1:8123/?request_timeout=abc' }, 'url', /is not usable: .*abc/);
      await refused({ url: 'localhost:8123' }, 'url', /must be http:\/\/ or https:\/\//);
      await refused({ url: 'not a url' }, 'url', /is not a URL/);
      // Nothing was created for the refused targets.
      expect(existsSync(path)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes undefined as absent (exactOptionalPropertyTypes callers pass env values as they are)', async () => {
    const env: Record<string, string | undefined> = {};
    const store = await AuditStore.open({
      url: `http://127.0.0.1:${await closedPort()}`,
      username: env.CH_USER,
      password: env.CH_PASSWORD,
      database: env.CH_DATABASE,
      requestTimeoutMs: undefined,
      path: undefined,
    } as StoreTarget);
    // A proxy's path prefix goes in the client's pathname parameter: accepted.
    await (await AuditStore.open({ url: 'http://127.0.0.1:1/?pathname=/clickhouse' })).close();
    try {
      expect(store.database).toBe('default');
      await expect(store.search({ tenant: 'acme', actions: undefined, from: undefined })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      await store.close();
    }
  });
});
