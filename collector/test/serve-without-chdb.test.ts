// serve on an embedded store where chDB cannot load (installed with --omit=optional): refused before it writes
// anything (its data directory, tokens), so fixing the install and starting again is a clean first start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-no-chdb-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('serve without chDB', () => {
  it('fails with ChdbNotInstalledError and creates no data directory and no token', () => {
    const dataDir = join(root, 'data');
    const child = `
      import { registerHooks } from 'node:module';
      registerHooks({
        resolve(specifier, context, next) {
          if (specifier === 'chdb/connection') return next(specifier, { ...context, parentURL: 'file:///nonexistent/app.mjs' });
          return next(specifier, context);
        },
      });
      const { startServe } = await import('@otel-audit/collector');
      try {
        const running = await startServe({ store: { path: ${JSON.stringify(dataDir)} }, port: 0 });
        await running.close();
        process.stdout.write(JSON.stringify({ started: true }));
      } catch (error) {
        process.stdout.write(JSON.stringify({ name: error.name, message: error.message }));
      }
    `;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', child],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 60_000 },
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'ChdbNotInstalledError' });
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });
});
