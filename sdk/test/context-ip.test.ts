// context.ip: an IPv4 or IPv6 address; an IPv6 zone index (%eth0) names an interface of one host, meaningless
// in an audit log, and is refused (README says so).
import { describe, expect, it } from 'vitest';
import { AuditValidationError, parseAuditEvent } from '../src/index.js';

const withIp = (ip: string) => ({ action: 'a.b.c', tenant: 'acme', context: { ip } });

describe('context.ip', () => {
  it('accepts IPv4 and IPv6, refuses an IPv6 zone index at context.ip', () => {
    for (const ip of ['10.0.0.1', 'fe80::1', '2001:db8::8a2e:370:7334', '::ffff:192.0.2.1'])
      expect(parseAuditEvent(withIp(ip)).context.ip).toBe(ip);
    let thrown: unknown;
    try {
      parseAuditEvent(withIp('fe80::1%eth0'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AuditValidationError);
    expect((thrown as AuditValidationError).issues).toEqual([
      { path: ['context', 'ip'], message: 'must be an IPv4 or IPv6 address' },
    ]);
  });
});
