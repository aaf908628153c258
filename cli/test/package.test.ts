// The package's own build scripts, run by real npm: after `npm run build` the bin must be runnable as a file
// (tsc writes it 0644; npm links node_modules/.bin/otel-audit only to a file that exists at install time).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-cli-package-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cli/package.json', () => {
  it('postbuild (run by npm after build) makes dist/bin.js executable', () => {
    // The package's real scripts; dist/bin.js as tsc leaves it (mode 0644), with a body that says it ran.
    copyFileSync(join(import.meta.dirname, '..', 'package.json'), join(root, 'package.json'));
    mkdirSync(join(root, 'dist'));
    const bin = join(root, 'dist', 'bin.js');
    writeFileSync(bin, "#!/usr/bin/env node\nprocess.stdout.write('bin ran');\n");
    chmodSync(bin, 0o644);
    const npm = spawnSync('npm', ['run', '-s', 'postbuild'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(npm.status, npm.stderr).toBe(0);
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    // Run as a program (its shebang), not through `node FILE`.
    const direct = spawnSync(bin, [], { encoding: 'utf8', timeout: 30_000 });
    expect(direct.stdout).toBe('bin ran');
  });
});
