// What lets the CLI tell the serve that wrote serve.json from whatever took its port or pid later: the /health
// challenge, the process start time in serve.json, a URL that can be connected to; and the token file modes serve
// accepts.
import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DISCOVERY_FILE_NAME,
  processAlive,
  ReceiverConfigError,
  startServe,
  TOKEN_FILE_NAME,
} from '../src/index.js';
import { processStart } from '../src/receiver/discovery.js';
import { startTestServe, type TestServe } from './receiver-support.js';

describe('serve listening on every interface (--host "")', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ host: '' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('publishes a loopback URL a client can connect to, in its log and serve.json', async () => {
    expect(t.serve.url).toBe(`http://127.0.0.1:${t.serve.port}`);
    const discovery = JSON.parse(readFileSync(t.serve.discoveryFile, 'utf8')) as { url: string };
    expect(discovery.url).toBe(t.serve.url);
    expect(t.logs.some((l) => l.includes(`"url":"${t.serve.url}"`))).toBe(true);
    expect((await fetch(`${t.serve.url}/health`)).status).toBe(200);
  });

  it('/health answers a challenge with HMAC-SHA256(token, challenge + its pid + its port), and only when one is given', async () => {
    const nonce = 'a1b2c3';
    const proven = (await (await fetch(`${t.serve.url}/health?challenge=${nonce}`)).json()) as {
      challenge?: string;
    };
    expect(proven.challenge).toBe(
      createHmac('sha256', t.serve.token).update(`${nonce}\n${process.pid}\n${t.serve.port}`).digest('hex'),
    );
    // Bound to this serve: a listener that relays the challenge to it from another port (a stale serve.json's,
    // with another serve of the same token still running) gets an answer that proves nothing for its own port.
    expect(proven.challenge).not.toBe(
      createHmac('sha256', t.serve.token)
        .update(`${nonce}\n${process.pid}\n${t.serve.port + 1}`)
        .digest('hex'),
    );
    expect(proven.challenge).not.toBe(createHmac('sha256', t.serve.token).update(nonce).digest('hex'));
    const plain = (await (await fetch(`${t.serve.url}/health`)).json()) as Record<string, unknown>;
    expect(plain.status).toBe('ok');
    expect('challenge' in plain).toBe(false);
    // Bounded: a huge challenge is not hashed.
    const huge = (await (
      await fetch(`${t.serve.url}/health?challenge=${'x'.repeat(1000)}`)
    ).json()) as Record<string, unknown>;
    expect('challenge' in huge).toBe(false);
  });

  it.skipIf(!existsSync(`/proc/${process.pid}/stat`))(
    'records its process start in serve.json: the same pid started at another time is not it',
    () => {
      const discovery = JSON.parse(readFileSync(t.serve.discoveryFile, 'utf8')) as {
        pid: number;
        processStart?: string;
      };
      expect(discovery.pid).toBe(process.pid);
      expect(discovery.processStart).toMatch(/^\d+$/);
      expect(discovery.processStart).toBe(processStart(process.pid));
      expect(processAlive(process.pid, discovery.processStart)).toBe(true);
      expect(processAlive(process.pid, String(Number(discovery.processStart) + 1))).toBe(false);
      // Files of older versions (no start recorded): the pid alone.
      expect(processAlive(process.pid)).toBe(true);
    },
  );
});

/** Whether this machine has IPv6 loopback (serve cannot listen on :: without it). */
const IPV6 = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

describe.skipIf(!IPV6)('serve listening on every IPv6 interface (--host ::)', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ host: '::' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('publishes the IPv6 loopback URL, which answers', async () => {
    expect(t.serve.url).toBe(`http://[::1]:${t.serve.port}`);
    expect((await fetch(`${t.serve.url}/health`)).status).toBe(200);
  });
});

describe('a token file other users may read or write', () => {
  const root = mkdtempSync(join(tmpdir(), 'receiver-token-mode-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is refused (--token-file, or serve.token in the state directory), naming the file, its mode and chmod 600', async () => {
    const tokenFile = join(root, 'given.token');
    writeFileSync(tokenFile, 'a-token-of-enough-length\n');
    chmodSync(tokenFile, 0o644);
    const given = startServe({ store: { path: join(root, 'data') }, port: 0, tokenFile, log: { log() {} } });
    await expect(given).rejects.toThrow(ReceiverConfigError);
    await expect(given).rejects.toThrow(
      `--token-file: ${tokenFile} has mode 0644: other users may read or write the token; \`chmod 600 ${tokenFile}\``,
    );
    const state = join(root, 'state');
    mkdirSync(state, { mode: 0o700 });
    const kept = join(state, TOKEN_FILE_NAME);
    writeFileSync(kept, 'a-token-of-enough-length\n');
    chmodSync(kept, 0o620);
    await expect(
      startServe({ store: { path: join(root, 'data') }, port: 0, stateDir: state, log: { log() {} } }),
    ).rejects.toThrow(`${kept}: ${kept} has mode 0620`);
    expect(existsSync(join(state, DISCOVERY_FILE_NAME))).toBe(false);
    // The owner's alone (0600) is taken.
    chmodSync(kept, 0o600);
    const serve = await startServe({
      store: { path: join(root, 'data') },
      port: 0,
      stateDir: state,
      log: { log() {} },
    });
    try {
      expect(serve.token).toBe('a-token-of-enough-length');
    } finally {
      await serve.close();
    }
  }, 60_000);
});
