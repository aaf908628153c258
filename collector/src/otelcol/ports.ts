// Ephemeral loopback ports for collectors under test (the collector cannot report a port it picked itself).
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (bound to 0 by the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of an ephemeral listener'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
