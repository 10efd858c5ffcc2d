/**
 * `npm run bench:ingest`: signed WhatsApp webhooks posted at rising rates while 1,000 live
 * subscribers listen on the tenant's topic. Prints accepted deliveries per second and the latency
 * from posting a webhook to its event reaching a subscriber. PostgreSQL with DATABASE_URL, else
 * PGlite. Not a test: it asserts nothing. Everything stays on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fork } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { tenantId } from '@parley/domain';
import pino from 'pino';
import { createGrainRuntime } from '../src/actors/runtime';
import { createSqlSnapshotStore } from '../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../src/broadcast/local';
import { startChannels } from '../src/channels';
import { createGrains } from '../src/grains';
import { SqlEventStore } from '../src/store/sql-store';
import type { LoadReport, LoadRequest } from './ingest-load';
import { percentile, scratchDatabase, table } from './support';

const RATES = (process.env.BENCH_RATES ?? '100,250,500,750').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1_000);
const CONTACTS = 500;
const tenant = tenantId('bench');
const SECRET = 'bench-secret-0123456789';
const PHONE = '100000000000777';

const { db, label, drop } = await scratchDatabase();
const store = await SqlEventStore.open({ db, archiveDir: join(tmpdir(), 'parley-bench-archive') });
const broadcast = createLocalBroadcast({ bufferSize: 8192 });
const runtime = createGrainRuntime({
  store,
  snapshots: createSqlSnapshotStore(db),
  broadcast,
  sweepEveryMs: 0,
});
const channels = await startChannels(
  { sql: db.sql, grains: createGrains(runtime), logger: pino({ level: 'warn' }) },
  { processor: { batchSize: 128 } },
);
await channels.repo.ensureApp({ appId: 'bench-wa', tenantId: tenant, kind: 'whatsapp', secret: SECRET });
await channels.repo.saveChannel({
  tenantId: tenant,
  channelId: 'wa',
  appId: 'bench-wa',
  platform: 'whatsapp',
  externalId: PHONE,
  name: 'bench',
  inboxId: 'support',
  apiBaseUrl: 'simulator:whatsapp',
  accessToken: '',
});
const server = createServer((req, res) => {
  if (!channels.handle(req, res)) res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp/bench-wa`;

/** Absolute ms, comparable with the load worker's clock. */
const now = () => performance.timeOrigin + performance.now();

// 1,000 subscribers, as 1,000 agents watching the tenant; one of them is the probe that times.
const arrived = new Map<string, number>();
let deliveries = 0;
const abort = new AbortController();
// Every subscriber listens on this one signal: 1,000 listeners are expected, not a leak.
setMaxListeners(SUBSCRIBERS + 10, abort.signal);
const readers = Array.from({ length: SUBSCRIBERS }, async (_, i) => {
  const subscription = broadcast.subscribe([{ kind: 'tenant', tenantId: tenant }], { signal: abort.signal });
  for await (const delivery of subscription) {
    if (delivery.kind !== 'event' || delivery.event.type !== 'InboundMessageReceived') continue;
    deliveries += 1;
    if (i === 0) arrived.set((delivery.event.data as { externalMessageId: string }).externalMessageId, now());
  }
});

// A process of its own, so posting webhooks does not take the server's CPU.
const load = fork(new URL('./ingest-load.ts', import.meta.url).pathname, { execArgv: ['--import', 'tsx'] });
let sequence = 0;

/** Posts at `rate` per second for `seconds` from the load process, then waits for every event. */
async function run(rate: number, seconds: number) {
  const first = sequence + 1;
  const total = Math.round(rate * seconds);
  sequence += total;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const request: LoadRequest = {
    url,
    secret: SECRET,
    phone: PHONE,
    contacts: CONTACTS,
    first,
    rate,
    seconds,
  };
  const report = await new Promise<LoadReport>((resolve) => {
    load.once('message', (message: LoadReport) => resolve(message));
    load.send(request);
  });
  const cpu = process.cpuUsage(cpuBefore);
  const cpuShare = (cpu.user + cpu.system) / 1e6 / ((performance.now() - started) / 1000);
  const deadline = performance.now() + 30_000;
  while (report.sent.some(([id]) => !arrived.has(id)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const latencies = report.sent.filter(([id]) => arrived.has(id)).map(([id, at]) => arrived.get(id)! - at);
  latencies.sort((a, b) => a - b);
  return {
    perSecond: report.perSecond,
    delivered: latencies.length,
    total,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuShare,
  };
}

console.log(
  `bench:ingest on ${label}: ${SUBSCRIBERS} subscribers, ${CONTACTS} contacts, ${SECONDS} s per rate\n`,
);
// Warm-up: every contact writes once (their conversations start and their grains activate),
// so the rates below measure ingest into live conversations, as in a running inbox.
await run(100, CONTACTS / 100);
const rows: (string | number)[][] = [['target/s', 'accepted/s', 'delivered', 'p50 ms', 'p99 ms', 'CPU']];
const results = new Map<number, number>();
for (const rate of RATES) {
  const r = await run(rate, SECONDS);
  results.set(rate, r.p99);
  rows.push([
    rate,
    r.perSecond.toFixed(0),
    `${r.delivered}/${r.total}`,
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    `${(r.cpuShare * 100).toFixed(0)}%`,
  ]);
  process.stderr.write(`  ${rate}/s done\n`);
}
console.log(table(rows));
console.log(`\nfan-out: ${deliveries} deliveries to subscribers (${SUBSCRIBERS} per event)`);

abort.abort();
load.kill();
await Promise.allSettled(readers);
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));
await channels.close();
await runtime.close();
await broadcast.close();
await store.close();
await drop();
console.log(`ingest p99 ms at 500/s: ${(results.get(500) ?? Number.NaN).toFixed(1)}`);
