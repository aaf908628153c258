// The demo dataset: realistic audit events for a handful of tenants, identical for the same options.
import type { AuditEventInput } from '@otel-audit/sdk';
import { SeededRandom } from './random.js';
import { SCENARIOS } from './scenarios.js';
import { buildWorld, type DemoMember } from './world.js';

export interface DemoOptions {
  /** Same seed (and `end`) → same events, ids included. Default 42. */
  seed?: number;
  /** End of the time window (default: now). Events spread over the `days` before it. */
  end?: Date;
  /** Length of the window in days. Default 7. */
  days?: number;
}

export class DemoOptionsError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`demo option ${option}: ${message}`);
    this.name = 'DemoOptionsError';
  }
}

const HOUR = 3_600_000;
/** Relative activity per UTC hour: busy office hours, a quiet night. */
const HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 7, 9, 10, 10, 9, 7, 5, 4, 3, 2, 2, 1];

function check(count: number, options: DemoOptions): Required<DemoOptions> {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new DemoOptionsError('count', `must be a non-negative integer, got ${count}`);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new DemoOptionsError('seed', `must be an integer, got ${seed}`);
  const days = options.days ?? 7;
  if (!(days > 0 && days <= 3650)) throw new DemoOptionsError('days', `must be in (0, 3650], got ${days}`);
  const end = options.end ?? new Date();
  if (Number.isNaN(end.getTime())) throw new DemoOptionsError('end', 'is an invalid Date');
  return { seed, days, end };
}

/** `count` events, oldest first, over the window; tenants, members and API keys are fixed by the seed. */
export function generateDemoEvents(count: number, options: DemoOptions = {}): AuditEventInput[] {
  const { seed, days, end } = check(count, options);
  const random = new SeededRandom(seed);
  const world = buildWorld(random);
  const scenarios = SCENARIOS.map((s) => ({ weight: s.weight, value: s }));
  // Bigger tenants are busier.
  const tenants = world.map((t) => ({ weight: t.members.length, value: t }));
  const span = days * 24 * HOUR;
  // Ids also depend on `end`: the same seed recorded again later is a new set of events (new times), and must
  // not reuse ids (an id is the idempotency key). Same seed and end: same ids.
  const ids = new SeededRandom((seed ^ Math.floor(end.getTime() / 1000)) | 0);
  const events: AuditEventInput[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = random.weighted(tenants);
    const member = random.pick(tenant.members);
    const admins = tenant.members.filter((m) => m.role === 'owner' || m.role === 'admin');
    const admin = random.pick(admins.length > 0 ? admins : tenant.members);
    const { via, ...draft } = random.weighted(scenarios).build({ random, tenant, member, admin });
    events.push({
      ...draft,
      id: ids.uuid(),
      tenant: tenant.id,
      occurredAt: new Date(end.getTime() - sampleAge(random, span, end)),
      context: contextFor(via ?? 'browser', member, random),
    });
  }
  return events.sort((a, b) => (a.occurredAt as Date).getTime() - (b.occurredAt as Date).getTime());
}

/** Milliseconds before `end`, weighted towards office hours (rejection sampling keeps it deterministic). */
function sampleAge(random: SeededRandom, span: number, end: Date): number {
  for (;;) {
    const age = Math.floor(random.next() * span);
    const hour = new Date(end.getTime() - age).getUTCHours();
    if (random.next() * 10 < (HOURLY[hour] ?? 1)) return age;
  }
}

function contextFor(via: 'browser' | 'api' | 'internal', member: DemoMember, random: SeededRandom) {
  const requestId = `req_${random.hexId(8)}`;
  if (via === 'browser') return { ip: member.ip, userAgent: member.userAgent, requestId };
  if (via === 'api')
    return { ip: `198.51.100.${random.int(1, 254)}`, userAgent: 'otel-audit-demo-ci/1.0', requestId };
  return { requestId };
}
