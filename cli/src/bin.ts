#!/usr/bin/env node
// The version is checked before anything else loads: on an older Node an import of a newer built-in (zstd) fails
// with a SyntaxError that names no version.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`otel-audit needs Node.js >= 22.15 (this is ${process.version})\n`);
  process.exit(1);
}
const { main, processContext, signalToReraise } = await import('./main.js');
const code = await main(process.argv.slice(2), processContext());
process.exitCode = code;
const signal = signalToReraise(code);
if (signal !== undefined) {
  // No listener left: the default action ends the process by that signal (exit status 128 + n in a shell).
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
