// serve's stop signals in a real process: two SIGINTs of one Ctrl-C (the terminal's and npm's forwarded copy)
// are one stop; a signal later than SAME_STOP_MS is the second, "now"; no signal ever meets Node's default
// action (which killed serve mid-drain and left serve.json behind).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAME_STOP_MS } from '../src/index.js';

const child = `
import { listenForStop } from '@otel-audit/collector';
// What serve's listening socket does: keeps the process alive while it waits (signal listeners do not).
const alive = setInterval(() => {}, 60_000);
const stop = listenForStop();
stop.onSecond((signal) => { console.log('second ' + signal); process.exit(1); });
console.log('ready');
const signal = await stop.first;
console.log('first ' + signal);
// A drain that takes a while: the process must live through the copies of the first signal.
setTimeout(() => { console.log('drained'); clearInterval(alive); }, ${SAME_STOP_MS * 3});
`;

function start() {
  const proc = spawn(
    process.execPath,
    ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', child],
    { cwd: join(import.meta.dirname, '..') },
  );
  const lines: string[] = [];
  proc.stdout.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  const exited = once(proc, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const until = async (line: string) => {
    while (!lines.includes(line)) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { proc, lines, exited, until };
}

describe('listenForStop', () => {
  it('takes a doubled Ctrl-C as one stop: the drain runs to its end, exit 0', async () => {
    const c = start();
    await c.until('ready');
    c.proc.kill('SIGINT');
    c.proc.kill('SIGINT');
    await c.until('first SIGINT');
    c.proc.kill('SIGINT'); // npm's copy, a little later
    expect(await c.exited).toEqual([0, null]);
    expect(c.lines).toEqual(['ready', 'first SIGINT', 'drained']);
  }, 20_000);

  it('takes a signal after SAME_STOP_MS as the second: exit now', async () => {
    const c = start();
    await c.until('ready');
    c.proc.kill('SIGTERM');
    await c.until('first SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, SAME_STOP_MS + 100));
    c.proc.kill('SIGHUP');
    expect(await c.exited).toEqual([1, null]);
    expect(c.lines).toEqual(['ready', 'first SIGTERM', 'second SIGHUP']);
  }, 20_000);
});
