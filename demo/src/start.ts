// `npm start`'s entry: the Node version is checked before the first run's modules load (on an older Node their
// imports fail with a SyntaxError that names no version).
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`otel-audit needs Node.js >= 22.15 (this is ${process.version})\n`);
  process.exit(1);
}
await import('./first-run.js');
