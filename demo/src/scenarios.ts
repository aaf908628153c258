// What happens in the demo: actions across services, with their targets, metadata, changes and failures.
import type { AuditActor, AuditEventInput, AuditTarget } from '@otel-audit/sdk';
import type { SeededRandom } from './random.js';
import type { DemoMember, DemoTenant } from './world.js';

interface Ctx {
  random: SeededRandom;
  tenant: DemoTenant;
  member: DemoMember;
  admin: DemoMember;
}

type Draft = Omit<AuditEventInput, 'tenant' | 'occurredAt' | 'id' | 'context'> & {
  /** Defaults to the member's IP/UA; API keys and the system have their own. */
  via?: 'browser' | 'api' | 'internal';
};

const asActor = (m: DemoMember): AuditActor => ({
  id: m.id,
  type: m.type,
  name: m.name,
  fields: m.fields ?? {},
});
const user = (m: DemoMember): AuditTarget => ({ type: 'user', id: m.id, name: m.name });

function fail(
  r: SeededRandom,
  p: number,
  reasons: readonly string[],
): { outcome: 'failure'; outcomeReason: string } | object {
  return r.chance(p) ? { outcome: 'failure', outcomeReason: r.pick(reasons) } : {};
}

export interface Scenario {
  /** Scenario name (usually the action it records). */
  name: string;
  weight: number;
  build(ctx: Ctx): Draft;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'auth.session.created',
    weight: 30,
    build: ({ random, member }) => ({
      action: 'auth.session.created',
      crud: 'create',
      actor: asActor(member),
      targets: [{ type: 'session', id: `ses_${random.hexId(8)}` }],
      metadata: {
        method: random.weighted([
          { weight: 6, value: 'password' },
          { weight: 3, value: 'sso' },
          { weight: 1, value: 'passkey' },
        ]),
        mfa: random.chance(0.7),
      },
      ...fail(random, 0.08, ['invalid_password', 'mfa_failed', 'account_locked']),
    }),
  },
  {
    name: 'auth.session.failed_anonymous',
    weight: 3,
    build: ({ random }) => ({
      action: 'auth.session.created',
      crud: 'create',
      actor: { id: 'anonymous', type: 'anonymous' },
      targets: [{ type: 'session', id: `ses_${random.hexId(8)}` }],
      outcome: 'failure',
      outcomeReason: random.pick(['unknown_user', 'rate_limited']),
      metadata: {
        method: 'password',
        attempted_email: `${random.pick(['admin', 'root', 'test'])}@example.com`,
      },
    }),
  },
  {
    name: 'auth.session.revoked',
    weight: 6,
    build: ({ random, member }) => ({
      action: 'auth.session.revoked',
      crud: 'delete',
      actor: asActor(member),
      targets: [{ type: 'session', id: `ses_${random.hexId(8)}` }],
      metadata: { reason: random.pick(['logout', 'timeout']) },
    }),
  },
  {
    name: 'auth.mfa.enabled',
    weight: 2,
    build: ({ random, member }) => ({
      action: 'auth.mfa.enabled',
      crud: 'update',
      actor: asActor(member),
      targets: [user(member)],
      metadata: { factor: random.pick(['totp', 'webauthn']) },
    }),
  },
  {
    name: 'members.member.invited',
    weight: 4,
    build: ({ random, admin, tenant }) => ({
      action: 'members.member.invited',
      crud: 'create',
      actor: asActor(admin),
      targets: [
        {
          type: 'invitation',
          id: `inv_${random.hexId(6)}`,
          name: `new.hire${random.int(1, 99)}@${tenant.id}.example`,
        },
      ],
      metadata: { role: random.pick(['member', 'viewer', 'admin']) },
      ...fail(random, 0.1, ['seat_limit_reached']),
    }),
  },
  {
    name: 'members.role.changed',
    weight: 3,
    build: ({ random, admin, member }) => {
      // A change: never the role the member has (the pick draws once whatever it picks from).
      const after = random.pick(
        (['admin', 'member', 'viewer'] as const).filter((role) => role !== member.role),
      );
      return {
        action: 'members.role.changed',
        crud: 'update',
        actor: asActor(admin),
        targets: [user(member)],
        changes: { before: { role: member.role }, after: { role: after } },
        ...fail(random, 0.15, ['insufficient_permissions', 'last_owner']),
      };
    },
  },
  {
    name: 'members.member.removed',
    weight: 1,
    build: ({ random, admin, member }) => ({
      action: 'members.member.removed',
      crud: 'delete',
      actor: asActor(admin),
      targets: [user(member)],
      ...fail(random, 0.2, ['insufficient_permissions']),
    }),
  },
  {
    name: 'projects.project.updated',
    weight: 10,
    build: ({ random, member, tenant }) => {
      const project = random.pick(tenant.projects);
      const field = random.pick(['visibility', 'default_branch', 'region'] as const);
      const values = {
        visibility: ['private', 'internal', 'public'],
        default_branch: ['main', 'develop', 'release'],
        region: ['eu-west-1', 'us-east-1', 'ap-south-1'],
      }[field];
      return {
        action: 'projects.project.updated',
        crud: 'update',
        actor: asActor(member),
        targets: [{ type: 'project', id: project.id, name: project.name }],
        changes: { before: { [field]: random.pick(values) }, after: { [field]: random.pick(values) } },
        ...fail(random, member.role === 'viewer' ? 0.9 : 0.03, ['forbidden', 'validation_failed']),
      };
    },
  },
  {
    name: 'projects.project.created',
    weight: 2,
    build: ({ random, member }) => ({
      action: 'projects.project.created',
      crud: 'create',
      actor: asActor(member),
      targets: [{ type: 'project', id: `prj_${random.hexId(5)}`, name: `experiment-${random.int(1, 500)}` }],
      metadata: { template: random.pick(['blank', 'node', 'python']) },
    }),
  },
  {
    name: 'projects.deployment.created',
    weight: 14,
    build: ({ random, tenant }) => {
      const project = random.pick(tenant.projects);
      const key = random.pick(tenant.apiKeys);
      return {
        action: 'projects.deployment.created',
        crud: 'create',
        via: 'api',
        actor: key,
        targets: [
          { type: 'project', id: project.id, name: project.name },
          {
            type: 'deployment',
            id: `dpl_${random.hexId(6)}`,
            fields: { commit: random.hexId(20), environment: random.pick(['production', 'staging']) },
          },
        ],
        metadata: { duration_ms: random.int(20_000, 600_000) },
        ...fail(random, 0.12, ['build_failed', 'tests_failed', 'timeout']),
      };
    },
  },
  {
    name: 'billing.invoice.paid',
    weight: 3,
    build: ({ random, tenant }) => {
      const invoice = random.pick(tenant.invoices);
      return {
        action: 'billing.invoice.paid',
        crud: 'update',
        via: 'internal',
        actor: { id: 'billing-worker', type: 'service', name: 'Billing worker' },
        targets: [{ type: 'invoice', id: invoice.id }],
        metadata: { amount: invoice.amount, currency: 'EUR', method: random.pick(['card', 'sepa']) },
        ...fail(random, 0.1, ['card_declined', 'insufficient_funds']),
      };
    },
  },
  {
    name: 'billing.invoice.viewed',
    weight: 5,
    build: ({ random, admin, tenant }) => ({
      action: 'billing.invoice.viewed',
      crud: 'read',
      actor: asActor(admin),
      targets: [{ type: 'invoice', id: random.pick(tenant.invoices).id }],
    }),
  },
  {
    name: 'billing.plan.changed',
    weight: 1,
    build: ({ random, admin, tenant }) => ({
      action: 'billing.plan.changed',
      crud: 'update',
      actor: asActor(admin),
      targets: [{ type: 'organization', id: tenant.id, name: tenant.name }],
      changes: {
        before: { plan: tenant.plan, seats: random.int(5, 20) },
        after: { plan: random.pick(['team', 'enterprise']), seats: random.int(20, 80) },
      },
    }),
  },
  {
    name: 'storage.file.uploaded',
    weight: 8,
    build: ({ random, member, tenant }) => {
      const file = random.pick(tenant.files);
      return {
        action: 'storage.file.uploaded',
        crud: 'create',
        actor: asActor(member),
        targets: [{ type: 'file', id: file.id, name: file.name }],
        metadata: { bytes: file.bytes },
        ...fail(random, tenant.plan === 'free' ? 0.3 : 0.02, ['quota_exceeded', 'virus_detected']),
      };
    },
  },
  {
    name: 'storage.file.downloaded',
    weight: 9,
    build: ({ random, member, tenant }) => {
      const file = random.pick(tenant.files);
      return {
        action: 'storage.file.downloaded',
        crud: 'read',
        actor: asActor(member),
        targets: [{ type: 'file', id: file.id, name: file.name }],
        metadata: { bytes: file.bytes },
      };
    },
  },
  {
    name: 'storage.file.deleted',
    weight: 2,
    build: ({ random, member, tenant }) => {
      const file = random.pick(tenant.files);
      return {
        action: 'storage.file.deleted',
        crud: 'delete',
        actor: asActor(member),
        targets: [{ type: 'file', id: file.id, name: file.name }],
        ...fail(random, member.role === 'viewer' ? 0.95 : 0.02, ['forbidden']),
      };
    },
  },
  {
    name: 'api.key.rotated',
    weight: 1,
    build: ({ random, admin, tenant }) => {
      const key = random.pick(tenant.apiKeys);
      return {
        action: 'api.key.rotated',
        crud: 'update',
        actor: asActor(admin),
        targets: [{ type: 'api_key', id: key.id, ...(key.name ? { name: key.name } : {}) }],
        metadata: { expires_in_days: random.pick([30, 90, 365]) },
      };
    },
  },
  {
    name: 'admin.audit_log.exported',
    weight: 1,
    build: ({ random, admin, tenant }) => ({
      action: 'admin.audit_log.exported',
      crud: 'read',
      actor: asActor(admin),
      targets: [{ type: 'organization', id: tenant.id, name: tenant.name }],
      metadata: { format: random.pick(['csv', 'json']), rows: random.int(100, 50_000) },
    }),
  },
  {
    name: 'settings.sso.updated',
    weight: 1,
    build: ({ random, admin, tenant }) => ({
      action: 'settings.sso.updated',
      crud: 'update',
      actor: asActor(admin),
      targets: [{ type: 'sso_connection', id: `sso_${tenant.id}`, name: 'Okta' }],
      changes: { before: { enforced: false }, after: { enforced: true } },
      ...fail(random, 0.25, ['metadata_invalid']),
    }),
  },
];
