import { tenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/api/router';
import { START } from '../src/store/checkpoint';
import {
  API_BACKENDS,
  callByPath as call,
  openApiHarness,
  sessionCookieOf,
  type ApiHarness,
  type Caller,
} from './api.support';

const TODAY = new Date().toISOString().slice(0, 10);

/**
 * The tenant-isolation matrix: every procedure of the router, called by demo's admin with globex's
 * ids. A procedure added to the router without a row here fails the first test.
 */
type Expectation =
  /** Refused as if the ids did not exist. */
  | 'NOT_FOUND'
  /** Public sign-in across tenants. */
  | 'UNAUTHORIZED'
  /** Takes no other tenant's ids: answers with its own tenant's data, none of the other's. */
  | 'own-data-only';

interface Case {
  readonly inputs: readonly unknown[];
  readonly expect: Expectation;
}

const text = { type: 'text', text: 'psst' };
const definition = (workflowId: string) => ({
  workflowId,
  name: 'Mine',
  stages: [{ id: 'a', name: 'A', wipLimit: null, entryActions: [] }],
  transitions: [],
});

/** Globex's ids are `globex-1`, `sales`, `gus`, `gina`, `closers`: demo has none of them. */
const MATRIX: Record<string, Case> = {
  health: { inputs: [undefined], expect: 'own-data-only' },
  'auth.signIn': {
    inputs: [
      { tenantId: 'globex', email: 'ada@demo.parley.test', password: 'parley-demo-admin' },
      { tenantId: 'demo', email: 'gus@globex.parley.test', password: 'parley-globex-admin' },
    ],
    expect: 'UNAUTHORIZED',
  },
  'auth.signOut': { inputs: [undefined], expect: 'own-data-only' },
  'auth.signOutEverywhere': { inputs: [undefined], expect: 'own-data-only' },
  'auth.me': { inputs: [undefined], expect: 'own-data-only' },
  'conversations.list': {
    inputs: [{ inboxId: 'sales' }, { filter: 'team', teamId: 'closers' }],
    expect: 'NOT_FOUND',
  },
  'conversations.search': { inputs: [{ query: 'licences', inboxId: 'sales' }], expect: 'NOT_FOUND' },
  'conversations.get': { inputs: [{ conversationId: 'globex-1' }], expect: 'NOT_FOUND' },
  'conversations.timeline': { inputs: [{ conversationId: 'globex-1' }], expect: 'NOT_FOUND' },
  'conversations.at': {
    inputs: [
      { conversationId: 'globex-1', at: { version: 3 } },
      { conversationId: 'globex-1', at: '2026-12-07T12:00:00Z' },
    ],
    expect: 'NOT_FOUND',
  },
  'conversations.reply': {
    inputs: [
      { conversationId: 'globex-1', clientId: 'spy', sequence: 1, clientMessageId: 'spy-1', content: text },
    ],
    expect: 'NOT_FOUND',
  },
  'conversations.replyBatch': {
    inputs: [
      {
        clientId: 'spy-batch',
        replies: [{ conversationId: 'globex-1', sequence: 1, clientMessageId: 'spy-b1', content: text }],
      },
    ],
    expect: 'NOT_FOUND',
  },
  'conversations.commandBatch': {
    inputs: [
      {
        clientId: 'spy-commands',
        commands: [{ sequence: 1, conversationId: 'globex-1', command: { type: 'AddLabel', label: 'spy' } }],
      },
      {
        clientId: 'spy-commands-2',
        commands: [
          {
            sequence: 1,
            conversationId: 'globex-1',
            command: { type: 'QueueReply', clientMessageId: 'spy-c1', content: text, tag: null },
          },
        ],
      },
    ],
    expect: 'NOT_FOUND',
  },
  'conversations.assign': {
    inputs: [
      { conversationId: 'globex-1', agentId: 'ana' },
      { conversationId: 'globex-1', agentId: null },
      { conversationId: 'demo-1', agentId: 'gina' },
    ],
    expect: 'NOT_FOUND',
  },
  'conversations.resolve': { inputs: [{ conversationId: 'globex-1' }], expect: 'NOT_FOUND' },
  'conversations.reopen': { inputs: [{ conversationId: 'globex-1' }], expect: 'NOT_FOUND' },
  'conversations.snooze': {
    inputs: [{ conversationId: 'globex-1', until: Date.now() + 3_600_000 }],
    expect: 'NOT_FOUND',
  },
  'conversations.label': {
    inputs: [{ conversationId: 'globex-1', label: 'spy', action: 'add' }],
    expect: 'NOT_FOUND',
  },
  'conversations.setPriority': {
    inputs: [{ conversationId: 'globex-1', priority: 'urgent' }],
    expect: 'NOT_FOUND',
  },
  'conversations.note': {
    inputs: [
      { conversationId: 'globex-1', noteId: 'spy', text: 'hi' },
      { conversationId: 'demo-1', noteId: 'spy', text: 'hi', mentions: ['gina'] },
    ],
    expect: 'NOT_FOUND',
  },
  'agents.list': { inputs: [undefined], expect: 'own-data-only' },
  'agents.setPresence': { inputs: [{ presence: 'online' }], expect: 'own-data-only' },
  'agents.teams': { inputs: [undefined], expect: 'own-data-only' },
  'boards.inboxes': { inputs: [undefined], expect: 'own-data-only' },
  'boards.workflows': { inputs: [undefined], expect: 'own-data-only' },
  'boards.board': { inputs: [{ workflowId: 'sales' }], expect: 'NOT_FOUND' },
  'boards.moveCard': {
    inputs: [{ conversationId: 'globex-1', toStageId: 'new', orderKey: 'a0', targetStageCount: 0 }],
    expect: 'NOT_FOUND',
  },
  'catalog.templates': { inputs: [undefined], expect: 'own-data-only' },
  'catalog.cannedResponses': { inputs: [undefined], expect: 'own-data-only' },
  'catalog.retention': { inputs: [undefined], expect: 'own-data-only' },
  'admin.channels.overview': { inputs: [undefined], expect: 'own-data-only' },
  'admin.channels.deadLetters': { inputs: [{}], expect: 'own-data-only' },
  'admin.channels.replay': { inputs: [{ id: '1' }], expect: 'NOT_FOUND' },
  'admin.channels.rotateSecret': { inputs: [{ appId: 'globex-whatsapp' }], expect: 'NOT_FOUND' },
  // No simulators run in this harness (channels.admin.spec.ts tries them across tenants).
  'admin.channels.setFaults': {
    inputs: [{ simulator: 'whatsapp', faults: { outage: true } }],
    expect: 'NOT_FOUND',
  },
  'admin.channels.clearFaults': { inputs: [{}], expect: 'NOT_FOUND' },
  'admin.channels.customerMessage': { inputs: [{ channelId: 'whatsapp' }], expect: 'NOT_FOUND' },
  // Channel setup (#17, 0038): globex's inbox, channel and app ids are refused as if they did not exist.
  'admin.channels.setup': { inputs: [undefined], expect: 'own-data-only' },
  'admin.channels.connect': {
    inputs: [{ platform: 'webchat', name: 'Spy chat', inboxId: 'sales', target: 'platform' }],
    expect: 'NOT_FOUND',
  },
  'admin.channels.replaceCredentials': {
    inputs: [{ channelId: 'globex-chat', credentials: { botToken: '123456:ABCDEFGHIJKL' } }],
    expect: 'NOT_FOUND',
  },
  'admin.channels.configureWidget': {
    inputs: [
      {
        channelId: 'globex-chat',
        settings: {
          colour: '#000000',
          greeting: '',
          preChat: { name: false, email: false },
          allowedOrigins: [],
        },
      },
    ],
    expect: 'NOT_FOUND',
  },
  'admin.channels.testMessage': { inputs: [{ channelId: 'globex-chat' }], expect: 'NOT_FOUND' },
  'admin.inboxes.create': {
    inputs: [{ name: 'Mine', channel: { platform: 'webchat', channelId: 'mine' } }],
    expect: 'own-data-only',
  },
  'admin.inboxes.addMember': {
    inputs: [
      { inboxId: 'sales', agentId: 'ana' },
      { inboxId: 'support', agentId: 'gina' },
    ],
    expect: 'NOT_FOUND',
  },
  'admin.inboxes.removeMember': { inputs: [{ inboxId: 'sales', agentId: 'gina' }], expect: 'NOT_FOUND' },
  'admin.inboxes.setCapacity': {
    inputs: [{ inboxId: 'sales', agentId: 'gina', capacity: 0 }],
    expect: 'NOT_FOUND',
  },
  'admin.inboxes.setWeight': {
    inputs: [{ inboxId: 'sales', agentId: 'gina', weight: 9 }],
    expect: 'NOT_FOUND',
  },
  'admin.inboxes.setPolicy': { inputs: [{ inboxId: 'sales', policy: 'weighted' }], expect: 'NOT_FOUND' },
  // A tenant's own settings: no ids to cross with; keeping content for ever is the default, so this records nothing.
  'admin.settings.get': { inputs: [undefined], expect: 'own-data-only' },
  'admin.settings.setRetention': { inputs: [{ days: null }], expect: 'own-data-only' },
  'admin.workflows.create': { inputs: [{ definition: definition('mine') }], expect: 'own-data-only' },
  'admin.workflows.revise': { inputs: [{ definition: definition('sales') }], expect: 'NOT_FOUND' },
  'admin.people.createAgent': {
    inputs: [{ email: 'new@demo.parley.test', name: 'New', password: 'long enough password' }],
    expect: 'own-data-only',
  },
  'admin.people.createTeam': { inputs: [{ name: 'Mine' }], expect: 'own-data-only' },
  'admin.people.addTeamMember': {
    inputs: [
      { teamId: 'closers', agentId: 'ana' },
      { teamId: 'frontline', agentId: 'gina' },
    ],
    expect: 'NOT_FOUND',
  },
  // People (#17, decision 0035): globex's agents and invitations are refused as if they did not exist.
  'admin.people.list': { inputs: [undefined], expect: 'own-data-only' },
  'admin.people.invite': { inputs: [{ email: 'someone.new@demo.parley.test' }], expect: 'own-data-only' },
  'admin.people.invitations': { inputs: [undefined], expect: 'own-data-only' },
  'admin.people.revokeInvitation': { inputs: [{ invitationId: 'iv_globex' }], expect: 'NOT_FOUND' },
  'admin.people.setRole': { inputs: [{ agentId: 'gina', role: 'admin' }], expect: 'NOT_FOUND' },
  'admin.people.deactivate': { inputs: [{ agentId: 'gina' }, { agentId: 'gus' }], expect: 'NOT_FOUND' },
  'admin.people.reactivate': { inputs: [{ agentId: 'gina' }], expect: 'NOT_FOUND' },
  'admin.people.audit': { inputs: [{}], expect: 'own-data-only' },
  // Public: a link names its tenant, and a token of nobody's (or a demo key under globex) is no invitation.
  'invitations.open': { inputs: [{ key: `globex.${'A'.repeat(43)}` }], expect: 'NOT_FOUND' },
  'invitations.accept': {
    inputs: [{ key: `globex.${'A'.repeat(43)}`, name: 'Spy', password: 'long enough password' }],
    expect: 'NOT_FOUND',
  },
  'contacts.erase': {
    inputs: [{ conversationId: 'globex-1', reason: 'their request' }],
    expect: 'NOT_FOUND',
  },
  'contacts.profile': { inputs: [{ conversationId: 'globex-1' }], expect: 'NOT_FOUND' },
  'contacts.addNote': {
    inputs: [{ conversationId: 'globex-1', noteId: 'note-foreign', text: 'hello' }],
    expect: 'NOT_FOUND',
  },
  'sync.catchUp': { inputs: [{ cursor: null, limit: 1000 }], expect: 'own-data-only' },
  'sync.live': { inputs: [{ cursor: null }], expect: 'own-data-only' },
  'presence.set': {
    inputs: [{ device: 'ada-tab-0001', conversationId: 'globex-1', activity: 'typing' }],
    expect: 'NOT_FOUND',
  },
  'presence.watch': { inputs: [{ device: 'ada-tab-0001' }], expect: 'own-data-only' },
  // An agent's own choices and devices: no ids of anyone else's are taken.
  'notifications.publicKey': { inputs: [undefined], expect: 'own-data-only' },
  'notifications.settings': { inputs: [undefined], expect: 'own-data-only' },
  'notifications.updateSettings': { inputs: [{ sound: false }], expect: 'own-data-only' },
  'notifications.subscribe': {
    inputs: [{ endpoint: 'https://push.example/ada', keys: { p256dh: 'BAbc', auth: 'xyz' } }],
    expect: 'own-data-only',
  },
  'notifications.unsubscribe': {
    inputs: [{ endpoint: 'https://push.example/gina' }],
    expect: 'own-data-only',
  },
  // Today's range holds the seeded conversations of both tenants: globex's agents and labels must not show.
  'reports.overview': { inputs: [{ from: TODAY, to: TODAY }], expect: 'own-data-only' },
  'reports.metrics': {
    inputs: [
      { from: TODAY, to: TODAY, by: 'agent' },
      { from: TODAY, to: TODAY, by: 'inbox' },
      { from: TODAY, to: TODAY, by: 'label' },
    ],
    expect: 'own-data-only',
  },
  // The audit log filtered by globex's conversation, inbox stream and agent: nothing of theirs shows.
  'audit.log': {
    inputs: [{}, { conversationId: 'globex-1' }, { streamId: 'inbox-sales' }, { actor: 'agent:gus' }],
    expect: 'own-data-only',
  },
};

/** Text that only globex's data contains. */
const FOREIGN = [
  /globex/i,
  /\bgus\b/,
  /\bgina\b/,
  /Hank/,
  /Scorpio/,
  /closers/,
  /Sales \(WhatsApp\)/,
  /Sales pipeline/,
];

const PUBLIC = new Set(['health', 'auth.signIn', 'auth.signOut', 'invitations.open', 'invitations.accept']);
const procedures = Object.keys(appRouter._def.procedures);

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(stringsIn);
}

async function outcome(caller: Caller, path: string, input: unknown) {
  try {
    return { ok: true as const, value: await call(caller, path, input) };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return { ok: false as const, code: error.code, message: error.message };
  }
}

describe('the isolation matrix', () => {
  it('covers every procedure of the router, and nothing else', () => {
    expect(Object.keys(MATRIX).sort()).toEqual([...procedures].sort());
  });
});

describe.each(API_BACKENDS)('tenant isolation on %s', (kind, enabled) => {
  let h: ApiHarness;
  let address = 0;
  /** A fresh session per call: sign-out cases must not end the others' sessions. */
  const fresh = async (email: string) =>
    (await h.signIn(email, `10.2.${Math.floor(address / 200)}.${address++ % 200}`)).caller;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    await h.settle();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    'refuses every procedure another tenant’s ids, and answers with no data of theirs',
    async () => {
      const globex = tenantId('globex');
      const before = await h.services.store.readAll(globex, START, 10_000);
      const failures: string[] = [];
      for (const path of procedures) {
        const spec = MATRIX[path]!;
        for (const input of spec.inputs) {
          const result = await outcome(await fresh('ada@demo.parley.test'), path, input);
          const shown = `${path}(${JSON.stringify(input)})`;
          const wire = JSON.stringify(result);
          // The caller's own words may be echoed back ("there is no agent gina"); nothing else of globex's may.
          const echoed = stringsIn(input).reduce((rest, word) => rest.replaceAll(word, ''), wire);
          if (FOREIGN.some((pattern) => pattern.test(echoed))) {
            failures.push(`${shown} answered with another tenant's data: ${wire.slice(0, 300)}`);
          }
          if (spec.expect === 'own-data-only' && !result.ok) failures.push(`${shown} failed: ${wire}`);
          if (spec.expect !== 'own-data-only' && (result.ok || result.code !== spec.expect)) {
            failures.push(`${shown} should be ${spec.expect}, was ${wire.slice(0, 300)}`);
          }
        }
      }
      expect(failures).toEqual([]);
      await h.settle();
      // Nothing of globex's changed either.
      expect((await h.services.store.readAll(globex, START, 10_000)).events).toEqual(before.events);
    },
  );

  it.skipIf(!enabled)('answers UNAUTHORIZED to every non-public procedure without a session', async () => {
    const anonymous = h.client().caller;
    const wrong: string[] = [];
    for (const path of procedures.filter((p) => !PUBLIC.has(p))) {
      const result = await outcome(anonymous, path, MATRIX[path]!.inputs[0]);
      if (result.ok || result.code !== 'UNAUTHORIZED')
        wrong.push(`${path}: ${JSON.stringify(result).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  });

  it.skipIf(!enabled)('answers FORBIDDEN to every admin procedure for an agent', async () => {
    const ana = await fresh('ana@demo.parley.test');
    // Reports and the audit log (#16) are for admins too.
    const admin = procedures.filter(
      (p) => p.startsWith('admin.') || p.startsWith('reports.') || p.startsWith('audit.'),
    );
    expect(admin.length).toBeGreaterThan(5);
    const wrong: string[] = [];
    for (const path of admin) {
      const result = await outcome(ana, path, MATRIX[path]!.inputs[0]);
      if (result.ok || result.code !== 'FORBIDDEN')
        wrong.push(`${path}: ${JSON.stringify(result).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  });

  it.skipIf(!enabled)(
    '[PE1] answers FORBIDDEN to every admin procedure for a supervisor, who reads the reports',
    async () => {
      const ada = await fresh('ada@demo.parley.test');
      const email = 'sue.supervisor@demo.parley.test';
      const password = 'supervisor password';
      await call(ada, 'admin.people.createAgent', { email, name: 'Sue', role: 'supervisor', password });
      const anonymous = h.client(undefined, '10.3.0.1');
      await anonymous.caller.auth.signIn({ tenantId: 'demo', email, password });
      const sue = h.client(sessionCookieOf(anonymous.setCookies.at(-1)), '10.3.0.1').caller;
      const wrong: string[] = [];
      for (const path of procedures.filter((p) => p.startsWith('admin.'))) {
        const result = await outcome(sue, path, MATRIX[path]!.inputs[0]);
        if (result.ok || result.code !== 'FORBIDDEN')
          wrong.push(`${path}: ${JSON.stringify(result).slice(0, 200)}`);
      }
      for (const path of procedures.filter((p) => p.startsWith('reports.'))) {
        const result = await outcome(sue, path, MATRIX[path]!.inputs[0]);
        if (!result.ok) wrong.push(`${path}: ${JSON.stringify(result).slice(0, 200)}`);
      }
      expect(wrong).toEqual([]);
    },
  );

  it.skipIf(!enabled)('sees globex’s own data when globex asks: the markers above are real', async () => {
    const gus = await fresh('gus@globex.parley.test');
    const wire = JSON.stringify(await call(gus, 'conversations.list', {}));
    expect(wire).toMatch(/Hank Scorpio/);
    expect(JSON.stringify(await call(gus, 'sync.catchUp', { cursor: null }))).toMatch(/globex-1/);
  });
});
