// startServe as a whole: what its "listening" log reports when the state directory is not the data directory.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_FILE_NAME, TOKEN_FILE_NAME } from '../src/index.js';
import { type JsonObject, startTestServe, type TestServe } from './receiver-support.js';

function logLine(logs: string[], msg: string): JsonObject {
  const line = logs.map((l) => JSON.parse(l) as JsonObject).find((l) => l.msg === msg);
  if (!line) throw new Error(`no "${msg}" log line in:\n${logs.join('\n')}`);
  return line;
}

describe('serve with --state-dir apart from the data directory', () => {
  let t: TestServe;
  const stateDir = mkdtempSync(join(tmpdir(), 'receiver-state-'));
  beforeAll(async () => {
    t = await startTestServe({ stateDir });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('logs the data directory as the store and the state directory separately', () => {
    const listening = logLine(t.logs, 'listening');
    expect(listening.store).toEqual({ path: join(t.dir, 'data') });
    expect(listening.stateDir).toBe(stateDir);
    expect(listening.tokenFile).toBe(join(stateDir, TOKEN_FILE_NAME));
    expect(listening.discoveryFile).toBe(join(stateDir, DISCOVERY_FILE_NAME));
    // The token and serve.json are in the state directory, not in the data directory.
    expect(existsSync(join(stateDir, TOKEN_FILE_NAME))).toBe(true);
    expect(existsSync(join(t.dir, 'data', TOKEN_FILE_NAME))).toBe(false);
  });
});
