/**
 * `npm run bench:actors`: 10,000 conversation grains, 50,000 mixed commands from 64 concurrent
 * callers, on the real store (PostgreSQL with DATABASE_URL, else PGlite). Not a test.
 */
import { tenantId, type ConversationCommand } from '@parley/domain';
import { createGrainRuntime } from '../src/actors/runtime';
import { createSqlSnapshotStore } from '../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../src/broadcast/local';
import { conversationGrain } from '../src/grains';
import { SqlEventStore } from '../src/store/sql-store';
import { percentile, scratchDatabase, table } from './support';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 10_000);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 50_000);
const CALLERS = 64;
const tenant = tenantId('bench');
const { db, label, drop } = await scratchDatabase();
console.log(
  `bench:actors on ${label}: ${CONVERSATIONS} conversations, ${COMMANDS} commands, ${CALLERS} callers\n`,
);
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

// A fixed-seed generator, so every run issues the same commands.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
let clock = Date.parse('2026-11-22T09:00:00Z');
const now = () => (clock += 7);
let counter = 0;

function inbound(conversationId: string): ConversationCommand {
  const at = now();
  return {
    type: 'ReceiveInboundMessage',
    data: {
      conversationId,
      inboxId: `inbox-${conversationId.length % 4}`,
      platform: 'whatsapp',
      externalMessageId: `wamid.${++counter}`,
      contact: {
        id: `c-${conversationId}`,
        name: `Customer ${conversationId}`,
        handle: `+4915${conversationId}`,
      },
      content: { type: 'text', text: `Hello, I have a question about order ${counter}` },
      sentAt: at,
    },
  };
}

function mixed(conversationId: string): ConversationCommand {
  const roll = random();
  const at = now();
  if (roll < 0.35) return inbound(conversationId);
  if (roll < 0.65) {
    return {
      type: 'QueueReply',
      data: {
        clientMessageId: `client-${++counter}`,
        agentId: 'agent-1',
        content: { type: 'text', text: 'Thanks, looking into it now.' },
        tag: null,
        now: at,
        templates: [],
      },
    };
  }
  if (roll < 0.75) return { type: 'AddLabel', data: { label: `label-${Math.floor(random() * 5)}`, at } };
  if (roll < 0.85) {
    return {
      type: 'AddNote',
      data: { noteId: `note-${++counter}`, agentId: 'agent-1', text: 'Checked the order.', mentions: [], at },
    };
  }
  return { type: 'AssignConversation', data: { agentId: `agent-${Math.floor(random() * 8)}`, at } };
}

async function callers(count: number, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < count) await work(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

try {
  const store = await SqlEventStore.open({ db, archiveDir: '/nonexistent-bench-archive' });
  const snapshots = createSqlSnapshotStore(db);
  const broadcast = createLocalBroadcast();
  const open = () =>
    createGrainRuntime({ store, snapshots, broadcast, maxActive: CONVERSATIONS * 2, sweepEveryMs: 0 });
  let runtime = open();
  const ids = Array.from({ length: CONVERSATIONS }, (_, i) => String(100_000 + i));

  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  progress(`starting ${CONVERSATIONS} conversations`);
  await callers(CONVERSATIONS, async (i) => {
    await runtime.get(conversationGrain, tenant, ids[i]!).ask(inbound(ids[i]!));
  });

  progress(`${COMMANDS} mixed commands`);
  const latencies: number[] = [];
  const plan = Array.from({ length: COMMANDS }, () => ids[Math.floor(random() * CONVERSATIONS)]!);
  const seconds = await callers(COMMANDS, async (i) => {
    const id = plan[i]!;
    const started = performance.now();
    await runtime.get(conversationGrain, tenant, id).ask(mixed(id));
    latencies.push(performance.now() - started);
  });
  latencies.sort((a, b) => a - b);

  progress('hot reads');
  const hot: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const ref = runtime.get(conversationGrain, tenant, ids[Math.floor(random() * CONVERSATIONS)]!);
    const started = performance.now();
    await ref.read();
    hot.push(performance.now() - started);
  }
  hot.sort((a, b) => a - b);
  global.gc?.();
  const active = runtime.stats().active;
  const heapPerConversation = (process.memoryUsage().heapUsed - heapBefore) / active;
  const rssPerConversation = process.memoryUsage().rss / active;

  progress('cold activations');
  await runtime.close();
  store.hot.clear();
  runtime = open();
  const cold: number[] = [];
  await callers(2000, async (i) => {
    const ref = runtime.get(conversationGrain, tenant, ids[i * Math.floor(CONVERSATIONS / 2000)]!);
    const started = performance.now();
    await ref.read();
    cold.push(performance.now() - started);
  });
  cold.sort((a, b) => a - b);
  await runtime.close();
  await store.close();
  await broadcast.close();

  console.log(
    table([
      ['measure', 'value'],
      ['commands per second', Math.round(COMMANDS / seconds)],
      ['command latency p50 ms', percentile(latencies, 50).toFixed(2)],
      ['command latency p99 ms', percentile(latencies, 99).toFixed(2)],
      ['cold activation p99 ms (snapshot + tail)', percentile(cold, 99).toFixed(2)],
      ['hot read p50 ms', percentile(hot, 50).toFixed(4)],
      ['hot read p99 ms', percentile(hot, 99).toFixed(4)],
      ['active conversations', active],
      ['heap per active conversation KiB (state + runtime)', (heapPerConversation / 1024).toFixed(1)],
      ['process RSS / active conversations KiB', (rssPerConversation / 1024).toFixed(1)],
    ]),
  );
  console.log(`\nhot read p99 ms: ${percentile(hot, 99).toFixed(4)}`);
} finally {
  await drop();
}
