/**
 * `node --import tsx server/bench/codec.bench.ts`: the sealed append rate against the plain one,
 * in rounds that alternate in one process (decision 0034), for a machine others are loading: the
 * median of the rounds' ratios, and the CPU time of the main thread (where PGlite runs) per event.
 * Uses PostgreSQL when DATABASE_URL is set, else PGlite. Not a test: it asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { streamId, tenantId, type JsonObject } from '@parley/domain';
import { createEventCodec } from '../src/crypto/event-codec';
import { KeyStore } from '../src/crypto/keys';
import { loadMasterKeyring } from '../src/crypto/master-key';
import { SqlEventStore } from '../src/store/sql-store';
import { concurrently, scratchDatabase } from './support';

const WRITERS = 32;
const CALLS = Number(process.env.BENCH_CALLS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const tenant = tenantId('bench');

/** A customer's message, as in `bench:store`: its contact and its text are personal data. */
const inbound = (w: number, call: number): { type: string; data: JsonObject } => ({
  type: 'InboundMessageReceived',
  data: {
    externalMessageId: `m-${w}-${call}`,
    contact: { id: `49151${w}`, name: `Customer ${w}`, handle: `+49151${w}` },
    content: { type: 'text', text: 'hello from the benchmark' },
    sentAt: 0,
  },
});

/** This thread's CPU time in µs (Linux), which other processes' load changes far less than time. */
function mainThreadCpu(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const { db, label, drop } = await scratchDatabase();
console.log(`bench:codec on ${label}: ${ROUNDS} rounds of ${WRITERS} writers x ${CALLS} messages each way\n`);
try {
  const keyring = loadMasterKeyring(
    { PARLEY_MASTER_KEY: randomBytes(32).toString('base64') },
    '/nonexistent',
  );
  const stores = {
    plain: await SqlEventStore.open({ db, archiveDir: '/nonexistent-bench-archive' }),
    sealed: await SqlEventStore.open({
      db,
      archiveDir: '/nonexistent-bench-archive',
      codec: createEventCodec(new KeyStore(db.sql, keyring)),
    }),
  };
  // Each round writes new conversations, so the sealed side makes their keys as a server would.
  const round = async (store: SqlEventStore, tag: string) => {
    const cpu = mainThreadCpu();
    const seconds = await concurrently(WRITERS, CALLS, async (w, call) => {
      await store.append(tenant, streamId(`conversation-${tag}-${w}`), [inbound(w, call)], {
        expectedVersion: call,
      });
    });
    return { rate: (WRITERS * CALLS) / seconds, cpu: (mainThreadCpu() - cpu) / (WRITERS * CALLS) };
  };
  await round(stores.plain, 'warmplain');
  await round(stores.sealed, 'warmsealed');
  const rates: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const plain = await round(stores.plain, `plain${r}`);
    const sealed = await round(stores.sealed, `sealed${r}`);
    rates.push(sealed.rate / plain.rate);
    cpus.push(sealed.cpu / plain.cpu);
    process.stderr.write(
      `  round ${r + 1}: ${Math.round(plain.rate)} and ${Math.round(sealed.rate)} events/s, ` +
        `${plain.cpu.toFixed(0)} and ${sealed.cpu.toFixed(0)} µs of main-thread CPU an event\n`,
    );
  }
  await stores.sealed.close();
  await stores.plain.close();
  console.log(`rounds' encrypted/plain rate: ${rates.map((r) => r.toFixed(2)).join(' ')}`);
  console.log(
    `median encrypted/plain ${median(rates).toFixed(2)}; main-thread CPU an event, sealed/plain ${median(cpus).toFixed(2)}`,
  );
} finally {
  await drop();
}
