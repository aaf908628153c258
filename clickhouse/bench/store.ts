// `npm run bench -- store [--events N] [--dir PATH] [--batch N] [--runs N] [--help]`
//
// Generates N skewed audit events inside the engine (INSERT…SELECT from numbers() into otel_logs, so the
// views do the real work), compares that ingest rate with a plain insert of the same rows into a table with
// no views, then measures p50/p95 of the store's reads (full events, parsed) against the same queries on the
// naive design (targets as a Nullable(String) JSON array). Progress goes to stderr; the last stdout line is JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_ATTRIBUTES, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { benchOptions } from '../../scripts/bench-options.js';
import { AuditStore, OTEL_LOG_COLUMNS } from '../src/index.js';

const USAGE = `usage: npm run bench -- store [options]
  --events N   audit events generated, 1000..1000000000 (default 10000000)
  --batch N    events per INSERT…SELECT, 1..1000000000, at most --events (default 1000000)
  --runs N     timed rounds of every read, 1..100000 (default 30)
  --dir PATH   keep the data in PATH (a new or empty directory; default a temporary one, removed at exit)
  --help       this text`;
const { values, whole, requireEmptyDir } = benchOptions('store', USAGE, {
  events: { type: 'string', default: '10000000' },
  batch: { type: 'string', default: '1000000' },
  runs: { type: 'string', default: '30' },
  dir: { type: 'string' },
});
const N = whole('events', 1000, 1_000_000_000);
const BATCH = Math.min(whole('batch', 1, 1_000_000_000), N);
const RUNS = whole('runs', 1, 100_000);
// A previous run's rows would count in bytes/event and its tables clash.
requireEmptyDir(values.dir);

const ACTORS = 10_000;
const TARGETS = 100_000;
const TENANTS = 20;
const log = (message: string) => process.stderr.write(`[store bench] ${message}\n`);
const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'otel-audit-bench-'));
// Removed even when the run fails half-way (a temp dir of a 10M run is ~1 GB).
if (!values.dir) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const store = await AuditStore.open({ path: dir });
await store.migrate();

// --- data generation: every value derived from `number`, skewed with pow(u, 2) towards low indexes ---------
const u = (seed: number) => `((cityHash64(number, ${seed}) % 1000000) / 1000000.0)`;
const RESOURCES = [
  'invoice',
  'customer',
  'project',
  'document',
  'member',
  'api_key',
  'webhook',
  'plan',
  'report',
  'session',
];
const VERBS = ['created', 'updated', 'deleted', 'viewed', 'exported'];
const CRUD_OF_VERB = ['create', 'update', 'delete', 'read', 'read'];
const TARGET_TYPES = ['invoice', 'customer', 'project', 'document', 'member'];
const a = AUDIT_ATTRIBUTES;

function generator(offset: number, count: number): string {
  const startNs = BigInt(Date.parse('2026-08-01T00:00:00Z')) * 1_000_000n;
  const stepNs = (90n * 86_400_000_000_000n) / BigInt(N);
  const target = (j: number) =>
    `concat('{"id":"', tt${j}, '-', toString(ti${j}), '","name":"', tt${j}, ' ', toString(ti${j}), '","type":"', tt${j}, '"}')`;
  return `
SELECT
  fromUnixTimestamp64Nano(toInt64(${startNs} + number * ${stepNs} + cityHash64(number, 2) % 1000000)) AS Timestamp,
  lower(hex(cityHash64(number, 3))) || lower(hex(cityHash64(number, 4))) AS TraceId,
  lower(hex(cityHash64(number, 5))) AS SpanId,
  1 AS TraceFlags,
  if(failed, 'WARN', 'INFO') AS SeverityText,
  if(failed, 13, 9) AS SeverityNumber,
  svc AS ServiceName,
  concat('{"amount":', toString(cityHash64(number, 6) % 100000), ',"currency":"EUR","plan":"', ['free','pro','team'][1 + actor % 3], '"}') AS Body,
  '' AS ResourceSchemaUrl,
  map('service.name', svc) AS ResourceAttributes,
  '' AS ScopeSchemaUrl,
  'otel-audit' AS ScopeName,
  '1' AS ScopeVersion,
  map() AS ScopeAttributes,
  map(
    ${q(a.eventId)}, toString(generateUUIDv7(number)),
    ${q(a.action)}, action,
    ${q(a.tenant)}, concat('tenant-', toString(actor % ${TENANTS})),
    ${q(a.actorId)}, concat('user-', toString(actor)),
    ${q(a.actorType)}, if(actor % 10 = 9, 'api_key', 'user'),
    ${q(a.actorName)}, concat('User ', toString(actor)),
    ${q(a.targets)}, concat('[', arrayStringConcat(arraySlice([${target(0)}, ${target(1)}, ${target(2)}], 1, ntargets), ','), ']'),
    ${q(a.crud)}, [${CRUD_OF_VERB.map(q).join(',')}][1 + verb],
    ${q(a.outcome)}, if(failed, 'failure', 'success'),
    ${q(a.version)}, '1',
    ${q(a.contextIp)}, IPv4NumToString(toUInt32(cityHash64(actor, 7) % 4294967295)),
    ${q(a.contextUserAgent)}, ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'node', 'Mozilla/5.0 (Macintosh)'][1 + actor % 4],
    ${q(a.contextRequestId)}, lower(hex(cityHash64(number, 8)))
  ) AS LogAttributes,
  action AS EventName
FROM (
  SELECT number,
    toUInt32(floor(pow(${u(1)}, 2) * ${ACTORS})) AS actor,
    toUInt32(floor(pow(${u(9)}, 2) * 50)) AS action_n,
    intDiv(action_n, 5) AS resource,
    action_n % 5 AS verb,
    concat('svc', toString(resource % 5)) AS svc,
    concat(svc, '.', [${RESOURCES.map(q).join(',')}][1 + resource], '.', [${VERBS.map(q).join(',')}][1 + verb]) AS action,
    cityHash64(number, 10) % 100 < 3 AS failed,
    cityHash64(number, 11) % 4 AS ntargets,
    ${[0, 1, 2]
      .map(
        (j) =>
          `toUInt32(floor(pow(${u(12 + j)}, 2) * ${TARGETS})) AS ti${j}, [${TARGET_TYPES.map(q).join(',')}][1 + ti${j} % 5] AS tt${j}`,
      )
      .join(',\n    ')}
  FROM numbers(${offset}, ${count})
)`;
}

const columns = OTEL_LOG_COLUMNS.join(', ');
await store.command(
  `CREATE TABLE IF NOT EXISTS {db}.bench_plain_logs AS {db}.${AUDIT_TABLES.logs} ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)`,
);
let viewsSeconds = 0;
let plainSeconds = 0;
for (let offset = 0; offset < N; offset += BATCH) {
  const count = Math.min(BATCH, N - offset);
  const sql = generator(offset, count);
  let t = performance.now();
  await store.command(`INSERT INTO {db}.${AUDIT_TABLES.logs} (${columns}) ${sql}`);
  viewsSeconds += (performance.now() - t) / 1000;
  t = performance.now();
  await store.command(`INSERT INTO {db}.bench_plain_logs (${columns}) ${sql}`);
  plainSeconds += (performance.now() - t) / 1000;
  log(
    `ingested ${offset + count}/${N} (views ${Math.round((offset + count) / viewsSeconds)} rows/s, plain ${Math.round((offset + count) / plainSeconds)} rows/s)`,
  );
}
await store.command('DROP TABLE {db}.bench_plain_logs SYNC');

// Steady state: background merges would get here eventually; measure merged parts, not the insert batches.
const tMerge = performance.now();
for (const table of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget]) {
  await store.command(`OPTIMIZE TABLE {db}.${table} FINAL`);
}
log(`merged in ${((performance.now() - tMerge) / 1000).toFixed(1)} s`);

// --- bytes per event: every table of the schema together ----------------------------------------------------
const [disk] = await store.query<{ bytes: string; rows: string }>(
  `SELECT sum(bytes_on_disk) AS bytes, sumIf(rows, table = {t:String}) AS rows FROM system.parts
   WHERE active AND database = {d:String}`,
  { d: store.database, t: AUDIT_TABLES.events },
);
const bytesPerEvent = Number(disk?.bytes) / N;
for (const t of await store.query<{ table: string; bytes: string }>(
  `SELECT table, sum(bytes_on_disk) AS bytes FROM system.parts WHERE active AND database = {d:String} GROUP BY table ORDER BY table`,
  { d: store.database },
)) {
  log(`  ${t.table}: ${(Number(t.bytes) / N).toFixed(1)} bytes/event`);
}
log(`audit_events rows ${disk?.rows}, ${bytesPerEvent.toFixed(1)} bytes/event on disk`);

// --- naive design: one table, targets as Nullable(String) JSON, sorted by (tenant, occurred_at) -------------
const tNaive = performance.now();
await store.command(`CREATE TABLE {db}.bench_naive (
  tenant String, event_id String, occurred_at DateTime64(3, 'UTC'), action String, crud String, outcome String,
  actor_id String, actor_type String, actor_name String, targets Nullable(String), ip String, user_agent String,
  request_id String, trace_id String, span_id String, service_name String, metadata String
) ENGINE = MergeTree ORDER BY (tenant, occurred_at)`);
await store.command(`INSERT INTO {db}.bench_naive SELECT tenant, toString(event_id), occurred_at, action, toString(crud),
  toString(outcome), actor_id, actor_type, actor_name,
  if(empty(targets), NULL, toJSONString(arrayMap(t -> map('type', t.type, 'id', t.id, 'name', t.name), targets))),
  ip, user_agent, request_id, trace_id, span_id, service_name, metadata FROM {db}.${AUDIT_TABLES.events}`);
// Merged like the audit tables: otherwise its background merges share the 2 cores with every query timed below.
await store.command('OPTIMIZE TABLE {db}.bench_naive FINAL');
log(`naive table filled and merged in ${((performance.now() - tNaive) / 1000).toFixed(1)} s`);

// --- pick hot / typical / rare targets and a typical actor ----------------------------------------------------
type Ref = { tenant: string; type: string; id: string };
const targets = await store.query<Ref>(
  `SELECT tenant, target_type AS type, target_id AS id, count() AS n FROM {db}.${AUDIT_TABLES.byTarget}
   GROUP BY tenant, type, id ORDER BY n DESC, id`,
);
const pickTarget = (quantile: number) =>
  targets[Math.min(targets.length - 1, Math.floor(quantile * targets.length))] as Ref;
const hot = pickTarget(0);
const typical = pickTarget(0.5);
const rare = targets[targets.length - 1] as Ref;
const actors = await store.query<{ tenant: string; id: string; n: string }>(
  `SELECT tenant, actor_id AS id, count() AS n FROM {db}.${AUDIT_TABLES.events} GROUP BY tenant, id ORDER BY n DESC, id`,
);
const actor = actors[Math.floor(actors.length / 2)] as { tenant: string; id: string; n: string };
// A pseudo-random sample of RUNS events (ordered by a hash: present at every size, unlike a hash filter).
const ids = await store.query<{ tenant: string; id: string }>(
  `SELECT tenant, toString(event_id) AS id FROM {db}.${AUDIT_TABLES.events} ORDER BY cityHash64(event_id) LIMIT ${RUNS}`,
);
// What each read must return, counted on the events themselves: a page holds min(page size, matching events).
const matching = async (where: string, params: Record<string, string>) => {
  const [row] = await store.query<{ n: string }>(
    `SELECT count() AS n FROM {db}.${AUDIT_TABLES.events} FINAL WHERE tenant = {tenant:String} AND ${where}`,
    params,
  );
  return Number(row?.n);
};
const inTarget = 'arrayExists(t -> t.type = {type:String} AND t.id = {id:String}, targets)';
const targetEvents = (ref: Ref) => matching(inTarget, { tenant: ref.tenant, type: ref.type, id: ref.id });
const expected = {
  actor: await matching('actor_id = {id:String}', { tenant: actor.tenant, id: actor.id }),
  hot: await targetEvents(hot),
  typical: await targetEvents(typical),
  rare: await targetEvents(rare),
  // About 3% of events fail: at small sizes the hot target may have none, and then an empty page is right.
  hotFailures: await matching(`${inTarget} AND toString(outcome) = 'failure'`, {
    tenant: hot.tenant,
    type: hot.type,
    id: hot.id,
  }),
};
log(
  `hot target ${hot.type}:${hot.id} (${expected.hot} events, ${expected.hotFailures} failed), typical ${typical.id} (${expected.typical}), rare ${rare.id} (${expected.rare}); actor ${actor.id} (${expected.actor})`,
);

// --- timing -----------------------------------------------------------------------------------------------------
// Interleaved: each round runs every read once, so a slow moment of the machine (it varies by ±20% over minutes)
// hits all of them alike instead of whichever was being timed then; the naive reads (10-30x slower) run every
// third round.
interface Timed {
  name: string;
  every: number;
  fn: (i: number) => Promise<unknown>;
  times: number[];
}
const timed: Timed[] = [];
const read = (name: string, fn: (i: number) => Promise<unknown>, every = 1) => {
  const t: Timed = { name, every, fn, times: [] };
  timed.push(t);
  return t;
};
async function runRounds(): Promise<void> {
  for (const t of timed) await t.fn(0); // warm-up: first touch of the marks and indexes
  for (let round = 0; round < RUNS; round++) {
    for (const t of timed) {
      if (round % t.every !== 0) continue;
      const start = performance.now();
      await t.fn(round);
      t.times.push(performance.now() - start);
    }
    if ((round + 1) % 10 === 0) log(`timed round ${round + 1}/${RUNS}`);
  }
}
function stats(t: Timed): { p50: number; p95: number } {
  const times = [...t.times].sort((x, y) => x - y);
  const at = (p: number) =>
    Number((times[Math.min(times.length - 1, Math.floor(p * times.length))] as number).toFixed(2));
  const result = { p50: at(0.5), p95: at(0.95) };
  log(`${t.name}: p50 ${result.p50} ms, p95 ${result.p95} ms (${times.length} runs)`);
  return result;
}
const LIMIT = 50;
/** A read is only timed if it returns what it should: a full page, or every matching event when fewer. */
const expectRows = (name: string, rows: readonly unknown[], matches: number) => {
  const want = Math.min(LIMIT, matches);
  if (rows.length !== want)
    throw new Error(`bench read "${name}" returned ${rows.length} events, expected ${want}`);
};
const expectPage = async (name: string, promise: Promise<{ events: unknown[] }>, matches: number) =>
  expectRows(name, (await promise).events, matches);

const actorTimelineRead = read('actor timeline', () =>
  expectPage(
    'actor timeline',
    store.actorTimeline(actor.tenant, { id: actor.id }, { limit: LIMIT }),
    expected.actor,
  ),
);
const history = (ref: Ref, matches: number) =>
  read(`target history ${matches} events`, () =>
    expectPage(
      `target history ${ref.type}:${ref.id}`,
      store.targetHistory(ref.tenant, { type: ref.type, id: ref.id }, { limit: LIMIT }),
      matches,
    ),
  );
const targetHotRead = history(hot, expected.hot);
const targetTypicalRead = history(typical, expected.typical);
const targetRareRead = history(rare, expected.rare);
// A target plus another filter: keys read in windows of time until the page fills (~3% of events fail).
const targetHotFailuresRead = read(`target history ${expected.hot} events, outcome failure`, () =>
  expectPage(
    'hot target, outcome failure',
    store.targetHistory(hot.tenant, { type: hot.type, id: hot.id }, { limit: LIMIT, outcome: 'failure' }),
    expected.hotFailures,
  ),
);
const getByIdRead = read('get by id', async (i) => {
  const ref = ids[i % ids.length] as { tenant: string; id: string };
  if (!(await store.getEvent(ref.tenant, ref.id))) throw new Error(`event ${ref.id} not found`);
});

const naiveTarget = (ref: Ref, matches: number) =>
  read(
    `naive target ${matches} events`,
    async () =>
      expectRows(
        `naive target ${ref.type}:${ref.id}`,
        await store.query(
          `SELECT * FROM {db}.bench_naive WHERE tenant = {tenant:String}
       AND arrayExists(x -> JSONExtractString(x, 'type') = {type:String} AND JSONExtractString(x, 'id') = {id:String},
                       JSONExtractArrayRaw(ifNull(targets, '[]')))
       ORDER BY occurred_at DESC LIMIT ${LIMIT}`,
          { tenant: ref.tenant, type: ref.type, id: ref.id },
        ),
        matches,
      ),
    3,
  );
const naiveHotRead = naiveTarget(hot, expected.hot);
const naiveTypicalRead = naiveTarget(typical, expected.typical);
const naiveActorRead = read(
  'naive actor timeline',
  async () =>
    expectRows(
      'naive actor timeline',
      await store.query(
        `SELECT * FROM {db}.bench_naive WHERE tenant = {tenant:String} AND actor_id = {id:String} ORDER BY occurred_at DESC LIMIT ${LIMIT}`,
        { tenant: actor.tenant, id: actor.id },
      ),
      expected.actor,
    ),
  3,
);

// Dedup at read time: FINAL (what the store uses) vs LIMIT 1 BY on the same target page.
const dedupSql = (mode: 'final' | 'limit1by') => `
  SELECT * FROM {db}.${AUDIT_TABLES.events} ${mode === 'final' ? 'FINAL' : ''}
  WHERE tenant = {tenant:String} AND (actor_id, occurred_at) IN (
    SELECT actor_id, occurred_at FROM {db}.${AUDIT_TABLES.byTarget} WHERE tenant = {tenant:String}
      AND target_type = {type:String} AND target_id = {id:String} ORDER BY occurred_at DESC LIMIT ${LIMIT})
  ORDER BY occurred_at DESC, event_id DESC ${mode === 'limit1by' ? 'LIMIT 1 BY event_id' : ''} LIMIT ${LIMIT}`;
const dedupFinalRead = read('dedup FINAL (typical target, raw rows)', () =>
  store.query(dedupSql('final'), { tenant: typical.tenant, type: typical.type, id: typical.id }),
);
const dedupLimitByRead = read('dedup LIMIT 1 BY (typical target, raw rows)', () =>
  store.query(dedupSql('limit1by'), { tenant: typical.tenant, type: typical.type, id: typical.id }),
);

await runRounds();
const actorTimeline = stats(actorTimelineRead);
const targetHot = stats(targetHotRead);
const targetTypical = stats(targetTypicalRead);
const targetRare = stats(targetRareRead);
const targetHotFailures = stats(targetHotFailuresRead);
const getById = stats(getByIdRead);
const naiveHot = stats(naiveHotRead);
const naiveTypical = stats(naiveTypicalRead);
const naiveActor = stats(naiveActorRead);
const dedupFinal = stats(dedupFinalRead);
const dedupLimitBy = stats(dedupLimitByRead);

await store.close();

const summary = {
  bench: 'store',
  events: N,
  ingest_rows_per_s: Math.round(N / viewsSeconds),
  plain_insert_rows_per_s: Math.round(N / plainSeconds),
  ingest_vs_plain: Number((plainSeconds / viewsSeconds).toFixed(3)),
  actor_timeline_p50_ms: actorTimeline.p50,
  actor_timeline_p95_ms: actorTimeline.p95,
  target_history_p50_ms: { hot: targetHot.p50, typical: targetTypical.p50, rare: targetRare.p50 },
  target_history_p95_ms: { hot: targetHot.p95, typical: targetTypical.p95, rare: targetRare.p95 },
  hot_target_outcome_filter_p50_ms: targetHotFailures.p50,
  naive_target_p50_ms: { hot: naiveHot.p50, typical: naiveTypical.p50 },
  naive_actor_timeline_p50_ms: naiveActor.p50,
  typical_target_speedup_vs_naive: Number((naiveTypical.p50 / targetTypical.p50).toFixed(1)),
  get_by_id_p50_ms: getById.p50,
  get_by_id_p95_ms: getById.p95,
  dedup_final_p50_ms: dedupFinal.p50,
  dedup_limit_1_by_p50_ms: dedupLimitBy.p50,
  bytes_per_event: Number(bytesPerEvent.toFixed(1)),
  page_size: LIMIT,
  targets: { hot: expected.hot, typical: expected.typical, rare: expected.rare },
  hot_target_failures: expected.hotFailures,
};
console.log(JSON.stringify(summary));
