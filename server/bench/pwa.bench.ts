// `npm run bench:pwa`: the PWA in Debian Chromium against a real server (not a test).
// Seeds 10,000 conversations and 100,000 events into the app's IndexedDB, then measures a cold
// start offline to an interactive inbox, the inbox's first render, and the time to flush 1,000
// replies queued offline once the network is back (none lost, none duplicated), then the same for
// 1,000 mixed commands (issue #14: half replies, the rest notes, labels, assignments and status
// changes) over the demo's conversations (4: the server has no more to act on).
// Needs `npm run build` first. Last line: `flush 1000 mixed commands s: X`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromium,
  request as apiRequest,
  type APIRequestContext,
  type Browser,
  type Page,
} from '@playwright/test';

const PORT = Number(process.env.BENCH_PORT ?? 3196);
const BASE = `http://127.0.0.1:${PORT}`;
const CONVERSATIONS = 10_000;
const EVENTS_PER_CONVERSATION = 10;
const REPLIES = 1_000;
const TARGETS = ['demo-1', 'demo-2', 'demo-3', 'demo-4'];
const DB_NAME = 'parley:demo:ana';

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The browser side, as plain JavaScript (the server's tsconfig has no DOM types): raw IndexedDB on
 * the app's schema (v3). `seed` writes list rows and events; `queue` writes outbox rows (each a
 * `ClientCommand`: replies only, or mixed) and the counter in one transaction, as the app does;
 * `outboxCount` reads how many rows remain.
 */
const BROWSER_HELPERS = String.raw`
window.__bench = (() => {
  const open = (name) => new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  return {
    async seed(name, conversations, perConversation) {
      const db = await open(name);
      const now = Date.now();
      for (let start = 0; start < conversations; start += 500) {
        const tx = db.transaction(['conversations', 'events'], 'readwrite');
        for (let i = start; i < Math.min(conversations, start + 500); i++) {
          const id = 'bench-' + i;
          const contact = { id: 'k' + i, name: 'Customer ' + i, handle: '+1 555 ' + String(i).padStart(6, '0') };
          const at = now - i * 60000;
          tx.objectStore('conversations').put({
            conversationId: id, inboxId: 'support', platform: 'whatsapp', contact,
            status: i % 5 === 4 ? 'resolved' : 'open', snoozedUntil: null,
            assigneeId: i % 3 === 0 ? 'ana' : null, assigneeKey: i % 3 === 0 ? 'ana' : '',
            labels: [], priority: 'none', cycle: 1, unreadCount: i % 4,
            lastMessage: { preview: 'Message ' + perConversation + ' of ' + id, at, from: 'customer' },
            lastCustomerMessageAt: at, windowClosesAt: at + 86400000, lastActivityAt: at,
            version: perConversation, searchText: (contact.name + ' ' + contact.handle).toLowerCase(), hydrated: true,
          });
          for (let v = 1; v <= perConversation; v++) {
            tx.objectStore('events').put({
              streamId: 'conversation-' + id, version: v, conversationId: id, id: id + '-' + v,
              type: v === 1 ? 'ConversationStarted' : 'InboundMessageReceived',
              data: v === 1
                ? { conversationId: id, inboxId: 'support', platform: 'whatsapp', contact, at }
                : { externalMessageId: id + '-' + v, contact, content: { type: 'text', text: 'Message ' + v }, sentAt: at },
              metadata: {}, recordedAt: at, cursor: 'bench.' + i + ':' + v,
            });
          }
        }
        await done(tx);
      }
      db.close();
    },
    async queue(name, count, targets, prefix, mixed) {
      const db = await open(name);
      const tx = db.transaction(['outbox', 'meta'], 'readwrite');
      const get = tx.objectStore('meta').get('outbox');
      // Half replies; the other half in turn a note, a label added, that label removed, an
      // assignment (alternating agents) and a status change (alternating pending and open).
      const commandFor = (i) => {
        const id = crypto.randomUUID();
        if (!mixed || i % 2 === 0) {
          return { type: 'QueueReply', clientMessageId: id, content: { type: 'text', text: prefix + ' ' + i }, tag: null };
        }
        const turn = Math.floor(i / 2);
        switch (turn % 5) {
          case 0: return { type: 'AddNote', noteId: id, text: prefix + ' note ' + i, mentions: [] };
          case 1: return { type: 'AddLabel', label: prefix + '-' + turn };
          case 2: return { type: 'RemoveLabel', label: prefix + '-' + (turn - 1) };
          case 3: return { type: 'AssignConversation', agentId: turn % 2 ? 'ben' : 'ana' };
          default: return { type: 'SetStatus', status: turn % 2 ? 'pending' : 'open' };
        }
      };
      get.onsuccess = () => {
        const counter = (get.result && get.result.value) || { clientId: crypto.randomUUID(), nextSequence: 1 };
        for (let i = 0; i < count; i++) {
          const command = commandFor(i);
          // A label and its removal go to the same conversation (a removal is two commands later).
          const target = mixed && i % 2 === 1 ? targets[Math.floor(Math.floor(i / 2) / 5) % targets.length] : targets[i % targets.length];
          tx.objectStore('outbox').put({
            clientMessageId: command.clientMessageId || command.noteId || crypto.randomUUID(),
            conversationId: target, sequence: counter.nextSequence + i, command,
            agentId: 'ana', createdAt: Date.now(), attempts: 0, lastError: null, refusal: null,
          });
        }
        tx.objectStore('meta').put({ key: 'outbox', value: { ...counter, nextSequence: counter.nextSequence + count } });
      };
      await done(tx);
      db.close();
    },
    async outboxCount(name) {
      const db = await open(name);
      const request = db.transaction('outbox').objectStore('outbox').count();
      const count = await new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      db.close();
      return count;
    },
  };
})();
`;

async function seed(page: Page): Promise<void> {
  await page.evaluate(BROWSER_HELPERS);
  await page.evaluate(
    `window.__bench.seed(${JSON.stringify(DB_NAME)}, ${CONVERSATIONS}, ${EVENTS_PER_CONVERSATION})`,
  );
}

async function queueCommands(page: Page, prefix: string, mixed: boolean): Promise<void> {
  await page.evaluate(BROWSER_HELPERS);
  await page.evaluate(
    `window.__bench.queue(${JSON.stringify(DB_NAME)}, ${REPLIES}, ${JSON.stringify(TARGETS)}, ${JSON.stringify(prefix)}, ${mixed})`,
  );
}

async function outboxCount(page: Page): Promise<number> {
  return Number(await page.evaluate(`window.__bench.outboxCount(${JSON.stringify(DB_NAME)})`));
}

/** A Parley server in a child process; `exited` rejects if it stops before `stop()` is called. */
interface BenchServer {
  readonly exited: Promise<never>;
  stop(): Promise<void>;
}

function startServer(dataDir: string): BenchServer {
  const child = spawn('node', ['--import', 'tsx', 'server/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      PARLEY_CUSTOMER_SIMULATOR_MS: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The last lines the server wrote to stderr, to say why it stopped.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  let stopping = false;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const exited = new Promise<never>((_resolve, reject) => {
    const fail = (why: string) => {
      if (!stopping)
        reject(new Error(`the server stopped before the bench finished (${why})\n${stderr.trim()}`));
    };
    child.once('exit', (code, signal) => fail(signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (error) => fail(error.message));
  });
  exited.catch(() => undefined); // observed by the race in main; never an unhandled rejection
  return {
    exited,
    async stop() {
      stopping = true;
      // An already finished child has exitCode or signalCode set and emits nothing more.
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A server that ignores SIGTERM is killed, never left behind.
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(kill);
    },
  };
}

async function main(): Promise<void> {
  if (!existsSync('apps/web/dist/index.html')) throw new Error('build the PWA first: npm run build');
  // The browser first: when it cannot start, there is no server to leave behind.
  const browser = await chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-pwa-'));
  const server = startServer(dataDir);
  try {
    // Every step races the server's exit, so a crashed server fails the bench at once, loudly.
    await Promise.race([server.exited, run(browser)]);
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function run(browser: Browser): Promise<void> {
  await waitFor('the server', async () => ((await fetch(`${BASE}/trpc/health`)).ok ? true : undefined));
  const context = await browser.newContext({ baseURL: BASE });
  let page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Workspace').fill('demo');
  await page.getByLabel('Email').fill('ana@demo.parley.test');
  await page.getByLabel('Password').fill('parley-demo-agent');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: /Maria Lopez/ }).waitFor();
  await page.waitForFunction('navigator.serviceWorker.controller !== null');

  const seeding = Date.now();
  await seed(page);
  console.log(
    `seeded ${CONVERSATIONS} conversations and ${CONVERSATIONS * EVENTS_PER_CONVERSATION} events in ${((Date.now() - seeding) / 1000).toFixed(1)} s`,
  );

  // Cold start offline: a new tab, no network, everything from the service worker and IndexedDB.
  await page.close();
  await context.setOffline(true);
  page = await context.newPage();
  const started = Date.now();
  await page.goto('/');
  await page.getByRole('link', { name: /Customer 0\b/ }).waitFor();
  await page.getByRole('searchbox', { name: 'Search conversations' }).isEnabled();
  const coldStart = Date.now() - started;
  const firstRender = Number(
    await page.evaluate("performance.getEntriesByName('parley:inbox-first-render')[0]?.startTime ?? NaN"),
  );
  console.log(`cold start offline to interactive ms: ${coldStart}`);
  console.log(`inbox first render ms (since navigation): ${firstRender.toFixed(0)}`);

  // 1,000 replies queued offline, then the network comes back.
  const api = await apiRequest.newContext({ baseURL: BASE });
  await api.post('/trpc/auth.signIn', {
    data: { tenantId: 'demo', email: 'ada@demo.parley.test', password: 'parley-demo-admin' },
  });
  const replies = await flushRound(page, api, `bench-${Date.now()}`, false);
  console.log(
    `replies on the server: ${replies.seen} (${replies.unique} distinct; lost ${REPLIES - replies.unique}, duplicated ${replies.seen - replies.unique})`,
  );
  console.log(`flush ${REPLIES} replies s: ${replies.seconds.toFixed(2)}`);

  // The same offline, for 1,000 mixed commands (#14).
  await context.setOffline(true);
  const mixed = await flushRound(page, api, `mixed-${Date.now()}`, true);
  console.log(
    `mixed commands with a mark of their own on the server (replies, notes, labels added and removed): ${mixed.seen} of ${mixed.expected} (${mixed.unique} distinct; lost ${mixed.expected - mixed.unique}, duplicated ${mixed.seen - mixed.unique})`,
  );
  console.log(`flush ${REPLIES} mixed commands s: ${mixed.seconds.toFixed(2)}`);
  await api.dispose();
  await context.close();
}

/**
 * Queues 1,000 commands while offline, goes online and times the outbox emptying; then counts on
 * the server the events that carry the round's prefix (replies, notes, labels added and removed),
 * each of which must be there exactly once.
 */
async function flushRound(
  page: Page,
  api: APIRequestContext,
  prefix: string,
  mixed: boolean,
): Promise<{ seconds: number; seen: number; unique: number; expected: number }> {
  await queueCommands(page, prefix, mixed);
  const flushStarted = Date.now();
  await page.context().setOffline(false);
  await waitFor(
    'the outbox to empty',
    async () => ((await outboxCount(page)) === 0 ? true : undefined),
    600_000,
  );
  const seconds = (Date.now() - flushStarted) / 1000;
  const seen: string[] = [];
  for (const conversationId of TARGETS) {
    let afterVersion = 0;
    for (;;) {
      const input = encodeURIComponent(JSON.stringify({ conversationId, afterVersion }));
      const body = (await (await api.get(`/trpc/conversations.get?input=${input}`)).json()) as {
        result: {
          data: {
            events: {
              version: number;
              type: string;
              data: { content?: { text?: string }; text?: string; label?: string };
            }[];
          };
        };
      };
      const events = body.result.data.events;
      for (const event of events) {
        const mark =
          event.type === 'ReplyQueued'
            ? event.data.content?.text
            : event.type === 'NoteAdded'
              ? event.data.text
              : event.type === 'LabelAdded' || event.type === 'LabelRemoved'
                ? `${event.type} ${event.data.label}`
                : undefined;
        if (mark?.startsWith(prefix) || (mark?.startsWith('Label') && mark.includes(` ${prefix}-`)))
          seen.push(mark);
      }
      if (events.length < 500) break;
      afterVersion = events.at(-1)!.version;
    }
  }
  // Replies are half of a mixed round; of the other half, notes, label adds and removals are 3/5.
  const expected = mixed ? REPLIES / 2 + (3 * REPLIES) / 10 : REPLIES;
  return { seconds, seen: seen.length, unique: new Set(seen).size, expected };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
