import { tenantId, type ReceiveInboundMessage } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { appRouter } from '../../src/api/router';
import { SESSION_COOKIE } from '../../src/auth/cookies';
import { loadConfig } from '../../src/config';
import { createHttpServer, listen, type ParleyHttpServer } from '../../src/http/server';
import {
  API_BACKENDS,
  callByPath as call,
  openApiHarness,
  sessionCookieOf,
  type ApiHarness,
  type Caller,
} from '../api.support';

const demo = tenantId('demo');

async function outcome(caller: Caller, path: string, input: unknown) {
  try {
    return { ok: true as const, value: await call(caller, path, input) };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { ok: false as const, code: error.code, message: error.message };
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(stringsIn);
}

/** The upgrade's HTTP status for a board socket (101 when it opens). */
function upgradeStatus(origin: string, boardId: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${origin}/boards/${boardId}`, {
      headers: { cookie: `${SESSION_COOKIE}=${cookie}` },
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('#13 S14: the simulators’ fault routes and where the demo listens', () => {
  let h: ApiHarness;
  let http: ParleyHttpServer;
  let base: string;

  beforeAll(async () => {
    // As `npm start` runs: the embedded database with the simulators on (api.support turns them off).
    const saved = { sims: process.env.PARLEY_SIMULATORS, every: process.env.PARLEY_CUSTOMER_SIMULATOR_MS };
    process.env.PARLEY_SIMULATORS = 'on';
    process.env.PARLEY_CUSTOMER_SIMULATOR_MS = '0';
    try {
      h = await openApiHarness('pglite');
    } finally {
      process.env.PARLEY_SIMULATORS = saved.sims;
      process.env.PARLEY_CUSTOMER_SIMULATOR_MS = saved.every;
    }
    http = createHttpServer(h.services, { api: h.api });
    const { port } = await listen(http, 0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await http.boards.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await h.dispose();
  });

  const inboxRows = async () =>
    Number(
      (await h.services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_inbox'))[0]!.n,
    );

  it('[S14] a cross-site text/plain POST to /dev/* with no session sets no fault and posts no message', async () => {
    const simulators = h.services.channels.simulators;
    expect(Object.keys(simulators).length).toBe(3);
    const before = await inboxRows();
    const crossSite = { 'content-type': 'text/plain', origin: 'https://evil.example' };
    await fetch(`${base}/dev/faults`, {
      method: 'POST',
      headers: crossSite,
      body: JSON.stringify({ simulator: 'all', outage: true, errorRate: 1 }),
    });
    await fetch(`${base}/dev/customer-message`, { method: 'POST', headers: crossSite });
    for (const simulator of Object.values(simulators)) {
      expect(simulator.faults()).toMatchObject({ outage: false, errorRate: 0 });
    }
    expect(await inboxRows()).toBe(before);
    // Nor does anyone read every tenant's breakers, outbox and webhook counters there.
    const shown = await (await fetch(`${base}/dev/faults`)).text();
    expect(shown).not.toMatch(/breakers|outbox|webhooks/);
  });

  it('[S14] each simulator’s own /_faults takes JSON only: a text/plain post (no preflight) is refused', async () => {
    const whatsapp = h.services.channels.simulators.whatsapp!;
    const refused = await fetch(`${whatsapp.url}/_faults`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ outage: true }),
    });
    expect(refused.status).toBe(415);
    expect(whatsapp.faults().outage).toBe(false);
  });

  it('[S14] faults go through admin.channels.*: an admin of the tenant only, for their own channels', async () => {
    const ana = (await h.signIn('ana@demo.parley.test')).caller;
    const gus = (await h.signIn('gus@globex.parley.test')).caller;
    const ada = (await h.signIn('ada@demo.parley.test')).caller;
    await expect(
      h.client().caller.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      ana.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Globex's admin reaches no channel of demo's.
    expect(await gus.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } })).toEqual({
      simulator: 'whatsapp',
      channels: 0,
    });
    const overview = await ada.admin.channels.overview();
    expect(overview.channels.filter((channel) => channel.faults?.outage)).toEqual([]);
    expect(
      await ada.admin.channels.setFaults({ simulator: 'whatsapp', faults: { outage: true } }),
    ).toMatchObject({ channels: 1 });
    await ada.admin.channels.clearFaults({});
  });

  it('[S14] channel setup goes through admin.channels.*: an admin of the tenant only, for their own channels', async () => {
    const ana = (await h.signIn('ana@demo.parley.test')).caller;
    const gus = (await h.signIn('gus@globex.parley.test')).caller;
    const ada = (await h.signIn('ada@demo.parley.test')).caller;
    const widget = {
      colour: '#000000',
      greeting: '',
      preChat: { name: false, email: false },
      allowedOrigins: [],
    };
    await expect(ana.admin.channels.testMessage({ channelId: 'whatsapp' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(ana.admin.channels.setup()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Demo's seeded channels (`whatsapp`, `webchat`) do not exist for globex's admin.
    const before = await inboxRows();
    await expect(gus.admin.channels.testMessage({ channelId: 'whatsapp' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      gus.admin.channels.configureWidget({ channelId: 'webchat', settings: widget }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await inboxRows()).toBe(before);
    expect(JSON.stringify(await gus.admin.channels.setup())).not.toMatch(/demo-(whatsapp|webchat)/);
    expect(await ada.admin.channels.testMessage({ channelId: 'whatsapp' })).toMatchObject({
      webhookStatus: 200,
    });
  });

  it('[S14] the embedded demo listens on 127.0.0.1 unless HOST says otherwise', () => {
    expect(loadConfig({}, '/tmp').host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }, '/tmp').host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgresql://parley@db:5432/parley' }, '/tmp').host).toBe('0.0.0.0');
  });
});

/**
 * The isolation matrix's "agent outside the inbox" column (#13 S15, decision 0015): demo gets a
 * second inbox `vip` with its own workflow (board) and conversation `vip-1`; Ben works in it,
 * Chloe only in `support`. Every procedure an agent may call is called by Chloe with vip's ids.
 */
type Expectation = 'NOT_FOUND' | 'own-data-only';
const text = { type: 'text', text: 'psst' };
const OUTSIDE: Record<string, readonly { readonly input: unknown; readonly expect: Expectation }[]> = {
  health: [{ input: undefined, expect: 'own-data-only' }],
  'auth.me': [{ input: undefined, expect: 'own-data-only' }],
  'conversations.list': [
    { input: {}, expect: 'own-data-only' },
    { input: { search: 'Vera' }, expect: 'own-data-only' },
    { input: { inboxId: 'vip' }, expect: 'NOT_FOUND' },
  ],
  'conversations.search': [
    { input: { query: 'VIP order' }, expect: 'own-data-only' },
    { input: { query: 'Vera' }, expect: 'own-data-only' },
    { input: { query: 'order', inboxId: 'vip' }, expect: 'NOT_FOUND' },
  ],
  'conversations.get': [{ input: { conversationId: 'vip-1' }, expect: 'NOT_FOUND' }],
  'conversations.timeline': [{ input: { conversationId: 'vip-1' }, expect: 'NOT_FOUND' }],
  'conversations.at': [{ input: { conversationId: 'vip-1', at: { version: 3 } }, expect: 'NOT_FOUND' }],
  'conversations.reply': [
    {
      input: {
        conversationId: 'vip-1',
        clientId: 'chloe-1',
        sequence: 1,
        clientMessageId: 'c-1',
        content: text,
      },
      expect: 'NOT_FOUND',
    },
  ],
  'conversations.replyBatch': [
    {
      input: {
        clientId: 'chloe-2',
        replies: [{ conversationId: 'vip-1', sequence: 1, clientMessageId: 'c-2', content: text }],
      },
      expect: 'NOT_FOUND',
    },
  ],
  'conversations.commandBatch': [
    ...[
      { type: 'AddLabel', label: 'spy' },
      { type: 'SetStatus', status: 'resolved' },
      { type: 'MarkConversationRead', upTo: 1 },
      { type: 'QueueReply', clientMessageId: 'c-3', content: text, tag: null },
    ].map((command, i) => ({
      input: { clientId: `chloe-c${i}`, commands: [{ sequence: 1, conversationId: 'vip-1', command }] },
      expect: 'NOT_FOUND' as const,
    })),
  ],
  'conversations.assign': [
    { input: { conversationId: 'vip-1', agentId: 'chloe' }, expect: 'NOT_FOUND' },
    { input: { conversationId: 'vip-1', agentId: null }, expect: 'NOT_FOUND' },
  ],
  'conversations.resolve': [{ input: { conversationId: 'vip-1' }, expect: 'NOT_FOUND' }],
  'conversations.reopen': [{ input: { conversationId: 'vip-1' }, expect: 'NOT_FOUND' }],
  'conversations.snooze': [
    { input: { conversationId: 'vip-1', until: Date.now() + 3_600_000 }, expect: 'NOT_FOUND' },
  ],
  'conversations.label': [
    { input: { conversationId: 'vip-1', label: 'spy', action: 'add' }, expect: 'NOT_FOUND' },
  ],
  'conversations.setPriority': [
    { input: { conversationId: 'vip-1', priority: 'urgent' }, expect: 'NOT_FOUND' },
  ],
  'conversations.note': [
    { input: { conversationId: 'vip-1', noteId: 'spy', text: 'hi' }, expect: 'NOT_FOUND' },
  ],
  'boards.inboxes': [{ input: undefined, expect: 'own-data-only' }],
  'boards.workflows': [{ input: undefined, expect: 'own-data-only' }],
  'boards.board': [{ input: { workflowId: 'vip' }, expect: 'NOT_FOUND' }],
  'boards.moveCard': [
    {
      input: { conversationId: 'vip-1', toStageId: 'b', orderKey: 'a0', targetStageCount: 0 },
      expect: 'NOT_FOUND',
    },
  ],
  'contacts.profile': [{ input: { conversationId: 'vip-1' }, expect: 'NOT_FOUND' }],
  'contacts.addNote': [
    { input: { conversationId: 'vip-1', noteId: 'note-outside', text: 'psst' }, expect: 'NOT_FOUND' },
  ],
  'sync.catchUp': [{ input: { cursor: null, limit: 1000 }, expect: 'own-data-only' }],
  'sync.live': [{ input: { cursor: null }, expect: 'own-data-only' }],
  'presence.set': [
    { input: { device: 'chloe-tab-01', conversationId: 'vip-1', activity: 'viewing' }, expect: 'NOT_FOUND' },
  ],
  'presence.watch': [{ input: { device: 'chloe-tab-01' }, expect: 'own-data-only' }],
};
/** Neither in scope nor by nature tenant data an agent reads: sign-in, sign-out, the catalogue, people. */
const NOT_INBOX_DATA = new Set([
  'auth.signIn',
  'auth.signOut',
  'auth.signOutEverywhere',
  'agents.list',
  'agents.setPresence',
  'agents.teams',
  'catalog.templates',
  'catalog.cannedResponses',
  'catalog.retention', // the tenant's retention of message content: a number, no inbox's data
  // The agent's own notification choices and devices (server/test/notifications.spec.ts).
  'notifications.publicKey',
  'notifications.settings',
  'notifications.updateSettings',
  'notifications.subscribe',
  'notifications.unsubscribe',
  // An invitation link, opened before signing in: a workspace name, an email and a role (0035).
  'invitations.open',
  'invitations.accept',
]);
/**
 * Admin-only procedures outside `admin.*` and `reports.*` (an agent's FORBIDDEN:
 * server/test/crypto/erasure.spec.ts, server/test/audit.spec.ts).
 */
const ADMIN_ONLY = new Set(['contacts.erase', 'audit.log']);
/** Text only vip's data contains. */
const VIP = [/\bvip\b/i, /vip-1/, /Vera Important/, /the VIP order/];

describe('the "agent outside the inbox" column', () => {
  it('[S15] covers every procedure an agent may call (admin.* and reports.* are FORBIDDEN to agents)', () => {
    const agentProcedures = Object.keys(appRouter._def.procedures).filter(
      (path) =>
        !path.startsWith('admin.') &&
        !path.startsWith('reports.') &&
        !ADMIN_ONLY.has(path) &&
        !NOT_INBOX_DATA.has(path),
    );
    expect(Object.keys(OUTSIDE).sort()).toEqual(agentProcedures.sort());
  });
});

describe.each(API_BACKENDS)('#13 S15: agents are scoped to their inboxes on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let ben: Caller;
  let chloe: Caller;
  let chloeCookie: string;
  let benCookie: string;

  const vipMessage = (n: number): ReceiveInboundMessage => ({
    type: 'ReceiveInboundMessage',
    data: {
      conversationId: 'vip-1',
      inboxId: 'vip',
      platform: 'webchat',
      externalMessageId: `vip-m${n}`,
      contact: { id: 'c-vera', name: 'Vera Important', handle: 'vera' },
      content: { type: 'text', text: `the VIP order, message ${n}` },
      sentAt: h.now(),
    },
  });

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    const signedBen = await h.signIn('ben@demo.parley.test');
    ben = signedBen.caller;
    benCookie = signedBen.cookie;
    const signedChloe = await h.signIn('chloe@demo.parley.test');
    chloe = signedChloe.caller;
    chloeCookie = signedChloe.cookie;
    await ada.admin.workflows.create({
      definition: {
        workflowId: 'vip',
        name: 'VIP board',
        stages: [
          { id: 'a', name: 'A', wipLimit: null, entryActions: [] },
          { id: 'b', name: 'B', wipLimit: null, entryActions: [] },
        ],
        transitions: [],
      },
    });
    await ada.admin.inboxes.create({
      inboxId: 'vip',
      name: 'VIP (web chat)',
      channel: { platform: 'webchat', channelId: 'vip' },
    });
    await ada.admin.inboxes.addMember({ inboxId: 'vip', agentId: 'ben' });
    await h.services.grains.conversation(demo, 'vip-1').ask(vipMessage(1));
    await h.settle();
    // The engine put vip-1's card on the vip board, as it does for every inbox's conversations.
    expect((await h.services.grains.card(demo, 'vip-1').read()).state?.workflowId).toBe('vip');
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[S15] an agent outside the inbox gets NOT_FOUND for its conversation, board and card, and none of its data',
    async () => {
      const before = await h.services.store.readStream(demo, 'conversation-vip-1' as never);
      const failures: string[] = [];
      for (const [path, cases] of Object.entries(OUTSIDE)) {
        for (const spec of cases) {
          const result = await outcome(chloe, path, spec.input);
          const shown = `${path}(${JSON.stringify(spec.input)})`;
          const wire = JSON.stringify(result);
          const echoed = stringsIn(spec.input).reduce((rest, word) => rest.replaceAll(word, ''), wire);
          if (VIP.some((pattern) => pattern.test(echoed))) {
            failures.push(`${shown} answered with the vip inbox's data: ${wire.slice(0, 300)}`);
          }
          if (spec.expect === 'own-data-only' && !result.ok) failures.push(`${shown} failed: ${wire}`);
          if (spec.expect === 'NOT_FOUND' && (result.ok || result.code !== 'NOT_FOUND')) {
            failures.push(`${shown} should be NOT_FOUND, was ${wire.slice(0, 300)}`);
          }
        }
      }
      expect(failures).toEqual([]);
      await h.settle();
      // Nothing of vip-1 changed either.
      expect(await h.services.store.readStream(demo, 'conversation-vip-1' as never)).toEqual(before);
    },
  );

  it.skipIf(!enabled)(
    '[PE1] a supervisor, member of no inbox, sees and works on every inbox like an admin',
    async () => {
      const email = 'sam.supervisor@demo.parley.test';
      const password = 'supervisor password';
      await ada.admin.people.createAgent({ email, name: 'Sam', role: 'supervisor', password });
      const anonymous = h.client(undefined, '10.4.0.1');
      await anonymous.caller.auth.signIn({ tenantId: 'demo', email, password });
      const sam = h.client(sessionCookieOf(anonymous.setCookies.at(-1)), '10.4.0.1').caller;
      expect((await sam.conversations.list({})).items.map((item) => item.conversationId)).toContain('vip-1');
      expect((await sam.conversations.get({ conversationId: 'vip-1' })).conversation).toBeTruthy();
      expect((await sam.boards.workflows()).map((workflow) => workflow.workflowId)).toContain('vip');
      expect(JSON.stringify(await sam.sync.catchUp({ cursor: null, limit: 1000 }))).toMatch(
        /conversation-vip-1/,
      );
      // BA4: he views the vip board and moves nothing on it; he is no member of its inbox.
      expect(
        await outcome(sam, 'boards.moveCard', {
          conversationId: 'vip-1',
          toStageId: 'b',
          orderKey: 'a0',
          targetStageCount: 0,
        }),
      ).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    },
  );

  it.skipIf(!enabled)('[S15] a member of the inbox and an admin still see and work on it', async () => {
    for (const caller of [ben, ada]) {
      const list = await caller.conversations.list({});
      expect(list.items.map((item) => item.conversationId)).toContain('vip-1');
      expect((await caller.conversations.get({ conversationId: 'vip-1' })).conversation).toBeTruthy();
      expect((await caller.boards.workflows()).map((workflow) => workflow.workflowId)).toContain('vip');
      const board = await caller.boards.board({ workflowId: 'vip' });
      expect(board.cards.map((card) => card.conversationId)).toEqual(['vip-1']);
      const page = await caller.sync.catchUp({ cursor: null, limit: 1000 });
      expect(JSON.stringify(page)).toMatch(/conversation-vip-1/);
    }
    // Chloe still sees and works on her own inbox's conversations.
    expect((await chloe.conversations.list({})).items.map((item) => item.conversationId)).toContain('demo-2');
    await chloe.conversations.label({ conversationId: 'demo-2', label: 'mine', action: 'add' });
  });

  it.skipIf(!enabled)(
    '[S15] the board socket of an inbox the agent does not work in answers 404; its member’s opens',
    async () => {
      const http = createHttpServer(h.services, { api: h.api });
      const { port } = await listen(http, 0, '127.0.0.1');
      try {
        expect(await upgradeStatus(`127.0.0.1:${port}`, 'vip', chloeCookie)).toBe(404);
        expect(await upgradeStatus(`127.0.0.1:${port}`, 'vip', benCookie)).toBe(101);
        expect(await upgradeStatus(`127.0.0.1:${port}`, 'support', chloeCookie)).toBe(101);
      } finally {
        await http.boards.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
    },
  );

  it.skipIf(!enabled)(
    '[S15] the live feed skips the other inbox’s events, and a new membership makes the client resync',
    async () => {
      let head: string | null = null;
      for (;;) {
        const page = await chloe.sync.catchUp({ cursor: head, limit: 1000 });
        if (page.kind !== 'events') throw new Error(JSON.stringify(page));
        head = page.cursor;
        if (!page.hasMore) break;
      }
      const stream = await chloe.sync.live({ cursor: head });
      const iterator = stream[Symbol.asyncIterator]();
      const next = async () => JSON.stringify((await iterator.next()).value);
      let joined = false;
      try {
        // vip-1 first, then demo-2: the first event Chloe hears is demo-2's.
        await h.services.grains.conversation(demo, 'vip-1').ask(vipMessage(2));
        await chloe.conversations.label({ conversationId: 'demo-2', label: 'later', action: 'add' });
        const first = await next();
        expect(first).toMatch(/conversation-demo-2/);
        expect(first).not.toMatch(/vip/);

        // Chloe joins vip: what she may see changed, so her stream says resync and ends.
        await ada.admin.inboxes.addMember({ inboxId: 'vip', agentId: 'chloe' });
        joined = true;
        const resync = await next();
        expect(resync).toMatch(/"kind":"resync"/);
        expect(resync).toMatch(/scope-changed/);
        // Catching up from before the change says so too; after it, vip-1 is hers.
        expect(await chloe.sync.catchUp({ cursor: head, limit: 1000 })).toMatchObject({
          kind: 'resync',
          reason: 'scope-changed',
        });
        expect((await chloe.conversations.list({})).items.map((item) => item.conversationId)).toContain(
          'vip-1',
        );
      } finally {
        void iterator.return?.();
        if (joined) await ada.admin.inboxes.removeMember({ inboxId: 'vip', agentId: 'chloe' });
      }
    },
  );
});
