// The demo's cast: tenants with their members, API keys and resources.
import type { AuditActor } from '@otel-audit/sdk';
import type { SeededRandom } from './random.js';

export interface DemoMember extends AuditActor {
  type: 'user';
  name: string;
  role: 'owner' | 'admin' | 'member' | 'viewer';
  ip: string;
  userAgent: string;
}

export interface DemoTenant {
  id: string;
  name: string;
  plan: 'free' | 'team' | 'enterprise';
  members: DemoMember[];
  apiKeys: AuditActor[];
  projects: { id: string; name: string }[];
  invoices: { id: string; amount: number }[];
  files: { id: string; name: string; bytes: number }[];
}

const TENANTS = [
  { id: 'acme', name: 'Acme Corp', plan: 'enterprise' },
  { id: 'globex', name: 'Globex', plan: 'team' },
  { id: 'initech', name: 'Initech', plan: 'team' },
  { id: 'umbrella', name: 'Umbrella Health', plan: 'enterprise' },
  { id: 'hooli', name: 'Hooli', plan: 'free' },
] as const;

const FIRST = [
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'Alan',
  'Radia',
  'Edsger',
  'Hedy',
  'Tim',
  'Joan',
  'Guido',
  'Sophie',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'Turing',
  'Perlman',
  'Dijkstra',
  'Lamarr',
  'Berners-Lee',
  'Clarke',
  'van Rossum',
  'Wilson',
];
const PROJECTS = [
  'api-gateway',
  'checkout',
  'mobile-app',
  'data-pipeline',
  'marketing-site',
  'search',
  'auth-service',
  'billing-engine',
];
const FILES = [
  'q3-report.pdf',
  'contract.docx',
  'logo.svg',
  'export.csv',
  'backup.tar.gz',
  'invoice-template.html',
  'roadmap.xlsx',
];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];
const ROLES: DemoMember['role'][] = ['admin', 'member', 'member', 'member', 'viewer'];

export function buildWorld(random: SeededRandom): DemoTenant[] {
  return TENANTS.map((t, tenantIndex) => {
    const size = t.plan === 'free' ? random.int(2, 4) : random.int(6, 14);
    const members: DemoMember[] = [];
    for (let i = 0; i < size; i++) {
      const first = random.pick(FIRST);
      const last = random.pick(LAST);
      members.push({
        id: `usr_${random.hexId(6)}`,
        type: 'user',
        name: `${first} ${last}`,
        fields: { email: `${first}.${last}@${t.id}.example`.toLowerCase().replace(/ /g, '') },
        role: i === 0 ? 'owner' : random.pick(ROLES),
        // Documentation address ranges (RFC 5737): realistic-looking, never a real host.
        ip: `${random.pick(['192.0.2', '198.51.100', '203.0.113'])}.${random.int(1, 254)}`,
        userAgent: random.pick(AGENTS),
      });
    }
    const apiKeys: AuditActor[] = ['CI deploy key', 'Terraform', 'Zapier']
      .slice(0, random.int(1, 3))
      .map((name) => ({
        id: `key_${random.hexId(8)}`,
        type: 'api_key',
        name,
        fields: { scopes: name === 'CI deploy key' ? ['deploy'] : ['read', 'write'] },
      }));
    const projects = PROJECTS.filter(() => random.chance(0.5)).map((name) => ({
      id: `prj_${random.hexId(5)}`,
      name,
    }));
    if (projects.length === 0) projects.push({ id: `prj_${random.hexId(5)}`, name: 'default' });
    const invoices = Array.from({ length: 6 }, (_, i) => ({
      id: `in_${2026_00 + tenantIndex * 100 + i}`,
      amount: t.plan === 'free' ? 0 : random.int(49, 4999),
    }));
    const files = FILES.map((name) => ({
      id: `file_${random.hexId(6)}`,
      name,
      bytes: random.int(2_000, 40_000_000),
    }));
    return { id: t.id, name: t.name, plan: t.plan, members, apiKeys, projects, invoices, files };
  });
}
