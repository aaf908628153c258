// Migration checksums cover the files as written, not the convention values rendered into them: a database
// migrated once keeps the attribute names and enum values it was built with. Renaming an attribute in
// sdk/src/conventions.ts would leave such a database reading the old name, silently, while the SDK emits the new
// one. So the values the migrations render are pinned here.
import { AUDIT_SEVERITY } from '@otel-audit/sdk/conventions';
import { describe, expect, it } from 'vitest';
import { loadMigrations, placeholders } from '../src/migrations.js';

describe('the convention values rendered into the migrations', () => {
  it('are pinned: changing one needs a new migration that rebuilds the view (then update this list)', () => {
    const rendered = Object.fromEntries(
      Object.entries(placeholders()).filter(([name]) => /^(attr_|enum_|values_)/.test(name)),
    );
    expect(rendered).toEqual({
      enum_crud: "Enum8('unknown' = 0, 'create' = 1, 'read' = 2, 'update' = 3, 'delete' = 4)",
      enum_outcome: "Enum8('success' = 0, 'failure' = 1)",
      values_crud: "('create', 'read', 'update', 'delete', 'unknown')",
      values_outcome: "('success', 'failure')",
      attr_eventId: "'audit.event.id'",
      attr_action: "'audit.action'",
      attr_actorId: "'audit.actor.id'",
      attr_actorType: "'audit.actor.type'",
      attr_actorName: "'audit.actor.name'",
      attr_actorFields: "'audit.actor.fields'",
      attr_targets: "'audit.targets'",
      attr_tenant: "'audit.tenant'",
      attr_crud: "'audit.crud'",
      attr_outcome: "'audit.outcome'",
      attr_outcomeReason: "'audit.outcome.reason'",
      attr_version: "'audit.version'",
      attr_contextIp: "'audit.context.ip'",
      attr_contextUserAgent: "'audit.context.user_agent'",
      attr_contextRequestId: "'audit.context.request_id'",
      attr_changes: "'audit.changes'",
      attr_count: "'audit.count'",
      attr_lastOccurredAt: "'audit.last_occurred_at'",
    });
  });

  it("the severity from which a record without audit.outcome is a failure is the SDK's (written in the views)", () => {
    // Each view writes the threshold as a number; a new value needs a new migration rebuilding the view.
    const thresholds = loadMigrations().flatMap((m) =>
      [...m.template.matchAll(/SeverityNumber\s*>=\s*(\d+)/g)].map((match) => [m.name, Number(match[1])]),
    );
    expect(thresholds.length).toBeGreaterThanOrEqual(5);
    for (const [name, threshold] of thresholds)
      expect(threshold, String(name)).toBe(AUDIT_SEVERITY.failure.number);
  });
});
