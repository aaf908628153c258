// Two copies of @opentelemetry/api in one process (npm installs a second one when versions or the tree make it
// so): the application registers its provider through its copy, the SDK reads the global through its own. Both
// share the global registration, but each copy has its own proxy provider. A second real copy of the package is
// made in a temporary node_modules and loaded from there.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { logs } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditLogger } from '../src/index.js';
import { createAuditLoggerProvider } from '../src/node.js';
import { capture, eventIds } from './support.js';

const require = createRequire(import.meta.url);
const apiRoot = dirname(dirname(require.resolve('@opentelemetry/api')));
const appDir = mkdtempSync(join(tmpdir(), 'otel-audit-api-copy-'));
mkdirSync(join(appDir, 'node_modules', '@opentelemetry'), { recursive: true });
cpSync(apiRoot, join(appDir, 'node_modules', '@opentelemetry', 'api'), { recursive: true });
const appApi = createRequire(join(appDir, 'app.js'))(
  '@opentelemetry/api',
) as typeof import('@opentelemetry/api');

afterAll(() => {
  appApi.logs.disable();
  rmSync(appDir, { recursive: true, force: true });
});

describe('a provider registered through another copy of @opentelemetry/api', () => {
  it('is used by a logger created before the registration (no loggerProvider option)', async () => {
    expect(appApi.logs).not.toBe(logs); // really a second copy, with its own proxy provider
    const endpoint = await capture();
    const drops: string[] = [];
    // Created at import time, before the application sets up telemetry.
    const audit = createAuditLogger({
      tenant: 'acme',
      flushOnExit: false,
      onDrop: (events, reason) => drops.push(...events.map((e) => `${e.action}:${reason}`)),
    });
    audit.record({ action: 'a.b.early' }); // nothing registered yet: dropped, and said so
    const provider = createAuditLoggerProvider({ endpoint: endpoint.url });
    expect(appApi.logs.setGlobalLoggerProvider(provider)).toBe(true);
    const recorded = [1, 2, 3].map(() => audit.record({ action: 'a.b.created' }).id);
    expect(await audit.flush()).toMatchObject({ recorded: 4, exported: 3, dropped: 1, pending: 0 });
    expect(drops).toEqual(['a.b.early:not_emitted']);
    expect(eventIds(endpoint)).toEqual(recorded);
    await provider.shutdown();
    await endpoint.close();
  });
});
