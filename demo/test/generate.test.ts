import { parseAuditEvent, STRICT_ACTION_PATTERN } from '@otel-audit/sdk';
import { describe, expect, it } from 'vitest';
import { DemoOptionsError, generateDemoEvents, SCENARIOS, SeededRandom } from '../src/index.js';

const END = new Date('2026-11-22T12:00:00Z');
const events = generateDemoEvents(3000, { seed: 7, end: END });

describe('generateDemoEvents', () => {
  it('is deterministic for a seed and end, ids included, and differs for another seed', () => {
    expect(generateDemoEvents(3000, { seed: 7, end: END })).toEqual(events);
    const other = generateDemoEvents(3000, { seed: 8, end: END });
    expect(other.map((e) => e.id)).not.toEqual(events.map((e) => e.id));
  });

  it('uses new ids when the same seed is recorded again at a later end (ids are idempotency keys)', () => {
    const earlier = generateDemoEvents(200, { seed: 7, end: new Date('2026-11-01T00:00:00Z') });
    const later = generateDemoEvents(200, { seed: 7, end: new Date('2026-11-02T00:00:00Z') });
    const earlierIds = new Set(earlier.map((e) => e.id));
    expect(later.filter((e) => earlierIds.has(e.id))).toEqual([]);
  });

  it('produces events the SDK accepts in strict mode, with unique ids', () => {
    for (const input of events) {
      const event = parseAuditEvent(input, { strictActions: true });
      expect(event.action).toMatch(STRICT_ACTION_PATTERN);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('changes a role to another role (a review found 27% of "changes" from member to member)', () => {
    const changes = events.filter((e) => e.action === 'members.role.changed');
    expect(changes.length).toBeGreaterThan(20);
    for (const { changes: c } of changes) {
      const { before, after } = c as { before: { role: string }; after: { role: string } };
      expect(after.role).not.toBe(before.role);
    }
  });

  it('spreads events over the window, oldest first, busier in office hours', () => {
    const times = events.map((e) => (e.occurredAt as Date).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(END.getTime() - 7 * 86_400_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(END.getTime());
    const hour = (e: (typeof events)[number]) => (e.occurredAt as Date).getUTCHours();
    const office = events.filter((e) => hour(e) >= 9 && hour(e) < 17).length;
    const night = events.filter((e) => hour(e) < 5).length;
    expect(office).toBeGreaterThan(night * 5);
  });

  it('covers several tenants, actor kinds, most scenarios, failures with reasons, changes and metadata', () => {
    expect(new Set(events.map((e) => e.tenant)).size).toBe(5);
    expect(new Set(events.map((e) => e.actor?.type))).toEqual(
      new Set(['user', 'api_key', 'service', 'anonymous']),
    );
    expect(new Set(events.map((e) => e.action)).size).toBeGreaterThanOrEqual(SCENARIOS.length - 3);
    const failures = events.filter((e) => e.outcome === 'failure');
    expect(failures.length / events.length).toBeGreaterThan(0.03);
    expect(failures.length / events.length).toBeLessThan(0.25);
    expect(failures.every((e) => (e.outcomeReason ?? '') !== '')).toBe(true);
    expect(events.some((e) => e.changes !== undefined)).toBe(true);
    expect(events.some((e) => (e.targets?.length ?? 0) > 1)).toBe(true);
    expect(events.every((e) => (e.targets?.length ?? 0) >= 1)).toBe(true);
  });

  it('keeps each actor in one tenant (members are per tenant)', () => {
    const tenantOf = new Map<string, string>();
    for (const e of events.filter((x) => x.actor?.type === 'user')) {
      const id = e.actor?.id as string;
      expect(tenantOf.get(id) ?? e.tenant).toBe(e.tenant);
      tenantOf.set(id, e.tenant as string);
    }
  });

  it('rejects bad options with a typed error naming the option', () => {
    expect(() => generateDemoEvents(-1)).toThrow(DemoOptionsError);
    expect(() => generateDemoEvents(1.5)).toThrow(/count/);
    expect(() => generateDemoEvents(1, { seed: 0.5 })).toThrow(/seed/);
    expect(() => generateDemoEvents(1, { days: 0 })).toThrow(/days/);
    expect(() => generateDemoEvents(1, { end: new Date('nope') })).toThrow(/end/);
    expect(generateDemoEvents(0)).toEqual([]);
  });
});

describe('SeededRandom', () => {
  it('draws version-4 UUIDs and stays in range', () => {
    const random = new SeededRandom(1);
    for (let i = 0; i < 200; i++) {
      expect(random.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const n = random.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
  });
});
