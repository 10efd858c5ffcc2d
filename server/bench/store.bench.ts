/**
 * `npm run bench:store`: the event store against the raw ceiling of its database, side by side.
 * Uses PostgreSQL when DATABASE_URL is set, else PGlite. Not a test: it asserts nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { streamId, tenantId, type Checkpoint, type JsonObject } from '@parley/domain';
import { createEventCodec } from '../src/crypto/event-codec';
import { KeyStore } from '../src/crypto/keys';
import { loadMasterKeyring } from '../src/crypto/master-key';
import { START } from '../src/store/checkpoint';
import { SqlEventStore } from '../src/store/sql-store';
import { concurrently, percentile, scratchDatabase, table } from './support';

const WRITERS = 32;
const CALLS = Number(process.env.BENCH_CALLS ?? 60);
const tenant = tenantId('bench');

const { db, label, drop } = await scratchDatabase();
console.log(`bench:store on ${label}: ${WRITERS} concurrent writers, ${CALLS} calls each\n`);
const rows: (string | number)[][] = [['measure', 'events/s', 'calls/s', 'p50 ms', 'p99 ms']];
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** A customer's message as a conversation stream holds it: its contact and text are personal data. */
const inbound = (w: number, call: number, i: number): { type: string; data: JsonObject } => ({
  type: 'InboundMessageReceived',
  data: {
    externalMessageId: `m-${w}-${call}-${i}`,
    contact: { id: `49151${w}`, name: `Customer ${w}`, handle: `+49151${w}` },
    content: { type: 'text', text: 'hello from the benchmark' },
    sentAt: 0,
  },
});

async function storeAppends(
  store: SqlEventStore,
  perCall: number,
  tag: string,
  make: (w: number, call: number, i: number) => { type: string; data: JsonObject } = (w, call, i) => ({
    type: 'Measured',
    data: { w, call, i, text: 'hello from the benchmark' },
  }),
) {
  const latencies: number[] = [];
  const seconds = await concurrently(WRITERS, CALLS, async (w, call) => {
    const started = performance.now();
    await store.append(
      tenant,
      streamId(`${tag}-${w}`),
      Array.from({ length: perCall }, (_, i) => make(w, call, i)),
      { expectedVersion: call * perCall },
    );
    latencies.push(performance.now() - started);
  });
  latencies.sort((a, b) => a - b);
  const events = WRITERS * CALLS * perCall;
  return {
    rate: events / seconds,
    calls: (WRITERS * CALLS) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function rawInserts(perCall: number, tag: string) {
  const latencies: number[] = [];
  const recordedAt = new Date();
  const seconds = await concurrently(WRITERS, CALLS, async (w, call) => {
    const values: string[] = [];
    const params: unknown[] = [];
    for (let i = 0; i < perCall; i++) {
      const o = params.length;
      values.push(`($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7})`);
      params.push(
        'bench',
        `${tag}-${w}`,
        call * perCall + i + 1,
        randomUUID(),
        'Measured',
        JSON.stringify({ w, call, i, text: 'hello from the benchmark' }),
        recordedAt,
      );
    }
    const started = performance.now();
    await db.sql.query(
      `INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, recorded_at) VALUES ${values.join(', ')}`,
      params,
    );
    latencies.push(performance.now() - started);
  });
  latencies.sort((a, b) => a - b);
  const events = WRITERS * CALLS * perCall;
  return {
    rate: events / seconds,
    calls: (WRITERS * CALLS) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toString() : n.toFixed(2));
const add = (name: string, r: { rate: number; calls: number; p50: number; p99: number }) =>
  rows.push([name, fmt(r.rate), fmt(r.calls), r.p50.toFixed(2), r.p99.toFixed(2)]);

try {
  const store = await SqlEventStore.open({ db, archiveDir: '/nonexistent-bench-archive' });
  // Warm up connections, prepared plans and the JIT before measuring.
  await storeAppends(store, 1, 'warm');
  await rawInserts(1, 'warmraw');

  progress('appends, 1 event per call');
  const store1 = await storeAppends(store, 1, 's1');
  add('store append, 1 event/call (group commit)', store1);
  const unbatched = await SqlEventStore.open({
    db,
    archiveDir: '/nonexistent-bench-archive',
    maxBatch: 1,
    maxInFlight: 1,
  });
  const oneTx = await storeAppends(unbatched, 1, 'u1');
  add('store append, 1 event/call, one tx per append', oneTx);
  await unbatched.close();
  const raw1 = await rawInserts(1, 'r1');
  add('raw INSERT, 1 row/statement', raw1);

  progress('appends of personal data (conversation messages), sealed and plain');
  const keyring = loadMasterKeyring(
    { PARLEY_MASTER_KEY: randomBytes(32).toString('base64') },
    '/nonexistent',
  );
  const sealing = await SqlEventStore.open({
    db,
    archiveDir: '/nonexistent-bench-archive',
    codec: createEventCodec(new KeyStore(db.sql, keyring)),
  });
  await storeAppends(sealing, 1, 'conversation-warmenc', inbound);
  const plainPii = await storeAppends(store, 1, 'conversation-plain', inbound);
  add('store append, messages, 1 event/call, plain', plainPii);
  const sealedPii = await storeAppends(sealing, 1, 'conversation-enc', inbound);
  add('store append, messages, 1 event/call, encrypted', sealedPii);
  await sealing.close();

  progress('appends, 10 events per call');
  const store10 = await storeAppends(store, 10, 's10');
  add('store append, 10 events/call (group commit)', store10);
  const raw10 = await rawInserts(10, 'r10');
  add('raw multi-row INSERT, 10 rows/statement', raw10);

  progress('catch-up reads');
  let cursor: Checkpoint = START;
  let read = 0;
  let started = performance.now();
  for (;;) {
    const page = await store.readAll(tenant, cursor, 1000);
    if (page.events.length === 0) break;
    read += page.events.length;
    cursor = page.next;
  }
  const catchUp = read / ((performance.now() - started) / 1000);
  started = performance.now();
  let rawRead = 0;
  let last = 0n;
  for (;;) {
    const page = await db.sql.query<{ position: string }>(
      `SELECT tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at, tx_id::text, position::text AS position
         FROM events WHERE tenant_id = 'bench' AND position > $1 ORDER BY position LIMIT 1000`,
      [last.toString()],
    );
    if (page.length === 0) break;
    rawRead += page.length;
    last = BigInt(page.at(-1)!.position);
  }
  const plainSelect = rawRead / ((performance.now() - started) / 1000);
  rows.push(['catch-up readAll, pages of 1000', fmt(catchUp), '', '', '']);
  rows.push(['plain SELECT by position, pages of 1000', fmt(plainSelect), '', '', '']);

  progress('hot tier against the database');
  const hotLatencies: number[] = [];
  const coldLatencies: number[] = [];
  const cold = await SqlEventStore.open({ db, archiveDir: '/nonexistent-bench-archive', hotTierEvents: 0 });
  for (let i = 0; i < 2000; i++) {
    const s = streamId(`s10-${i % WRITERS}`);
    let t = performance.now();
    await store.readStream(tenant, s, { fromVersion: CALLS * 10 - 49 });
    hotLatencies.push(performance.now() - t);
    t = performance.now();
    await cold.readStream(tenant, s, { fromVersion: CALLS * 10 - 49 });
    coldLatencies.push(performance.now() - t);
  }
  await cold.close();
  hotLatencies.sort((a, b) => a - b);
  coldLatencies.sort((a, b) => a - b);
  rows.push([
    'readStream last 50, hot tier',
    fmt(2000 / (hotLatencies.reduce((a, b) => a + b) / 1000)),
    '',
    percentile(hotLatencies, 50).toFixed(3),
    percentile(hotLatencies, 99).toFixed(3),
  ]);
  rows.push([
    'readStream last 50, database',
    fmt(2000 / (coldLatencies.reduce((a, b) => a + b) / 1000)),
    '',
    percentile(coldLatencies, 50).toFixed(3),
    percentile(coldLatencies, 99).toFixed(3),
  ]);
  const stats = store.stats;
  await store.close();

  console.log(table(rows));
  console.log(
    `\ngroup commit: ${stats.batches} transactions for ${stats.appends} appends (largest batch ${stats.largestBatch})`,
  );
  console.log(
    `single-event appends, group commit vs one tx per append: ${(store1.rate / oneTx.rate).toFixed(2)}x`,
  );
  console.log(`store/raw append ratio at 1 event per call: ${(store1.rate / raw1.rate).toFixed(2)}`);
  console.log(
    `append rate with personal data encrypted: ${fmt(sealedPii.rate)} events/s, without: ${fmt(plainPii.rate)} events/s (encrypted/plain ${(sealedPii.rate / plainPii.rate).toFixed(2)})`,
  );
  console.log(`store/raw append ratio at 10 events per call: ${(store10.rate / raw10.rate).toFixed(2)}`);
} finally {
  await drop();
}
