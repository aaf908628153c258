// CONVENTIONS.md is what services in other languages follow: its attribute table, enum values, severity rule
// and examples must say what src/conventions.ts (the one source of truth) says. Renaming a name there without
// the doc fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ATTRIBUTES,
  AUDIT_COLUMNS,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  CONVENTIONS_VERSION,
  CRUD_BY_VERB,
  CRUD_VALUES,
  OUTCOME_VALUES,
} from '../src/conventions.js';

const doc = readFileSync(join(import.meta.dirname, '..', 'CONVENTIONS.md'), 'utf8');

/** The text of the `## <title>` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `CONVENTIONS.md has a "## ${title}" section`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** The body rows of the section's markdown table, as trimmed cells. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // header and separator
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

/** Every `code` span of a piece of text, without the backticks. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
const isColumnLike = (s: string) => /^[a-z]+(_[a-z]+)*$/.test(s);
const columns: readonly string[] = Object.values(AUDIT_COLUMNS);
const attributes: readonly string[] = Object.values(AUDIT_ATTRIBUTES);

/** The attribute table: `audit.*` key → its row's cells. */
function attributeTable(): Map<string, { type: string; meaning: string; column: string }> {
  const rows = tableRows(section('Attributes'));
  const table = new Map<string, { type: string; meaning: string; column: string }>();
  for (const row of rows) {
    // attribute | type | required | meaning | column: a `|` inside a cell would shift the columns.
    expect(row, `an attribute row has 5 cells: ${row.join(' | ')}`).toHaveLength(5);
    const [attribute, type, , meaning, column] = row as [string, string, string, string, string];
    const [key] = codeSpans(attribute);
    expect(key, `attribute cell ${attribute}`).toBeDefined();
    expect(table.has(key as string), `${key} listed once`).toBe(false);
    table.set(key as string, { type, meaning, column });
  }
  return table;
}

describe('CONVENTIONS.md', () => {
  it('lists exactly the attributes of AUDIT_ATTRIBUTES', () => {
    expect([...attributeTable().keys()].sort()).toEqual([...attributes].sort());
  });

  it('names the column each attribute lands in as AUDIT_COLUMNS does', () => {
    const table = attributeTable();
    for (const [name, key] of Object.entries(AUDIT_ATTRIBUTES)) {
      const row = table.get(key);
      if (!row) continue; // reported by the test above
      const named = codeSpans(row.column).filter(isColumnLike);
      expect(named[0], `column of ${key}`).toBe((AUDIT_COLUMNS as Record<string, string>)[name]);
      for (const column of named) expect(columns, `${key}: column ${column}`).toContain(column);
    }
  });

  it('lists the crud and outcome values, and only those', () => {
    const table = attributeTable();
    expect(codeSpans(table.get(AUDIT_ATTRIBUTES.crud)?.meaning ?? '')).toEqual([...CRUD_VALUES]);
    expect(codeSpans(table.get(AUDIT_ATTRIBUTES.outcome)?.meaning ?? '')).toEqual([...OUTCOME_VALUES]);
  });

  it('gives the severity of a success and a failure, and the failure threshold, as AUDIT_SEVERITY', () => {
    const fields = new Map(
      tableRows(section('The log record')).map(([field, value]) => [field, value ?? '']),
    );
    const severity = fields.get('`severityNumber` / `severityText`') ?? '';
    const documented = Object.fromEntries(
      [...severity.matchAll(/`(\d+)` \/ `([A-Z]+)` for a (\w+)/g)].map((m) => [
        m[3],
        { number: Number(m[1]), text: m[2] },
      ]),
    );
    expect(documented).toEqual(AUDIT_SEVERITY);
    // A record without audit.outcome: its severity says which.
    expect(attributeTable().get(AUDIT_ATTRIBUTES.outcome)?.meaning).toContain(
      `≥ ${AUDIT_SEVERITY.failure.number} = failure`,
    );
  });

  it('names the instrumentation scope and conventions version, and only real columns for the record fields', () => {
    expect(doc.split('\n', 1)[0]).toBe(`# otel-audit event conventions (version ${CONVENTIONS_VERSION})`);
    const fields = new Map(
      tableRows(section('The log record')).map(([field, value]) => [field, value ?? '']),
    );
    expect(codeSpans(fields.get('instrumentation scope') ?? '')).toEqual([
      AUDIT_SCOPE_NAME,
      CONVENTIONS_VERSION,
    ]);
    const named = codeSpans([...fields.values()].join(' ')).filter((s) => isColumnLike(s) && s.includes('_'));
    expect(named.length).toBeGreaterThan(0);
    for (const column of named) expect(columns, `record field column ${column}`).toContain(column);
  });

  it('states the crud inference as CRUD_BY_VERB does', () => {
    const rules = [...doc.matchAll(/((?:`[a-z_]+`, )+)… → `([a-z]+)`/g)];
    expect(rules.map((m) => m[2])).toEqual(['create', 'read', 'update', 'delete']);
    for (const [, verbs, crud] of rules)
      for (const verb of codeSpans(verbs as string)) expect(CRUD_BY_VERB[verb], verb).toBe(crud);
  });

  it('uses only real attribute keys in the examples for other languages', () => {
    const quoted = [...section('Examples in other languages').matchAll(/"(audit\.[a-z_.]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(quoted).toContain(AUDIT_ATTRIBUTES.action);
    for (const key of quoted) expect(attributes, `example key ${key}`).toContain(key);
  });
});
