import { DomainError, tenantId as toTenantId, type Contact, type TenantId } from '@parley/domain';
import {
  addTeamMember,
  AccountErrorCode,
  createAgent,
  createTeam,
  createTenant,
  findAgentForSignIn,
  type Role,
} from './auth/accounts';
import { withTenant } from './auth/tenant-scope';
import { routeReplies } from './channels/routes';
import type { Database } from './db/database';
import type { Grains } from './grains';

/** A sign-in the demo creates; README.md lists them. */
export interface DemoAccount {
  readonly tenantId: string;
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly password: string;
}

/** The demo's sign-ins: an admin and three agents at `demo`, and an admin and an agent at `globex`. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  {
    tenantId: 'demo',
    id: 'ada',
    email: 'ada@demo.parley.test',
    name: 'Ada Admin',
    role: 'admin',
    password: 'parley-demo-admin',
  },
  {
    tenantId: 'demo',
    id: 'ana',
    email: 'ana@demo.parley.test',
    name: 'Ana Agent',
    role: 'agent',
    password: 'parley-demo-agent',
  },
  {
    tenantId: 'demo',
    id: 'ben',
    email: 'ben@demo.parley.test',
    name: 'Ben Agent',
    role: 'agent',
    password: 'parley-demo-agent',
  },
  {
    tenantId: 'demo',
    id: 'chloe',
    email: 'chloe@demo.parley.test',
    name: 'Chloe Agent',
    role: 'agent',
    password: 'parley-demo-agent',
  },
  {
    tenantId: 'globex',
    id: 'gus',
    email: 'gus@globex.parley.test',
    name: 'Gus Admin',
    role: 'admin',
    password: 'parley-globex-admin',
  },
  {
    tenantId: 'globex',
    id: 'gina',
    email: 'gina@globex.parley.test',
    name: 'Gina Agent',
    role: 'agent',
    password: 'parley-globex-agent',
  },
];

/** What seeding needs: the database for accounts, the grains for inboxes and conversations. */
export interface SeedServices {
  readonly db: Database;
  readonly grains: Grains;
}

/** The demo inboxes' WhatsApp channel, as the channels' demo seed names it. */
const DEMO_CHANNEL_ID = 'whatsapp';

interface DemoConversation {
  readonly id: string;
  readonly contact: Contact;
  readonly text: string;
  readonly minutesAgo: number;
  readonly assignee?: string;
  readonly labels?: readonly string[];
}

const TENANTS = [
  {
    id: 'demo',
    name: 'Demo Support',
    inbox: { id: 'support', name: 'Support (WhatsApp)' },
    workflow: { id: 'support', name: 'Support' },
    team: { id: 'frontline', name: 'Frontline', members: ['ana', 'ben'] },
    conversations: [
      {
        id: 'demo-1',
        contact: { id: 'c-maria', name: 'Maria Lopez', handle: '+34 600 111 222' },
        text: 'Hi! My order #1042 has not arrived yet.',
        minutesAgo: 42,
        assignee: 'ana',
        labels: ['shipping'],
      },
      {
        id: 'demo-2',
        contact: { id: 'c-tom', name: 'Tom Baker', handle: '+44 7700 900123' },
        text: 'Can I change the size of the shoes I bought?',
        minutesAgo: 17,
      },
      {
        id: 'demo-3',
        contact: { id: 'c-yuki', name: 'Yuki Tanaka', handle: '+81 90 1234 5678' },
        text: 'Do you ship to Japan?',
        minutesAgo: 8,
        assignee: 'ben',
      },
      {
        id: 'demo-4',
        contact: { id: 'c-li', name: 'Li Wei', handle: '+86 131 0000 1111' },
        text: 'The app says my payment failed twice.',
        minutesAgo: 3,
        labels: ['billing'],
      },
    ],
  },
  {
    id: 'globex',
    name: 'Globex Sales',
    inbox: { id: 'sales', name: 'Sales (WhatsApp)' },
    workflow: { id: 'sales', name: 'Sales pipeline' },
    team: { id: 'closers', name: 'Closers', members: ['gina'] },
    conversations: [
      {
        id: 'globex-1',
        contact: { id: 'c-hank', name: 'Hank Scorpio', handle: '+1 555 0100' },
        text: 'I would like a quote for 40 licences.',
        minutesAgo: 25,
        assignee: 'gina',
      },
    ],
  },
] as const satisfies readonly {
  id: string;
  name: string;
  inbox: { id: string; name: string };
  workflow: { id: string; name: string };
  team: { id: string; name: string; members: readonly string[] };
  conversations: readonly DemoConversation[];
}[];

/**
 * Seeds the embedded default's demo: two tenants, their accounts, a WhatsApp inbox each, a
 * workflow, templates, canned responses and a few conversations, so a first sign-in shows a
 * working inbox and another tenant to test isolation against. Every step is idempotent: running it
 * again (each start does) changes nothing that exists.
 */
export async function seedDemo(services: SeedServices, now: number = Date.now()): Promise<void> {
  for (const tenant of TENANTS) {
    const tenantId = toTenantId(tenant.id);
    await ignoring(AccountErrorCode.TENANT_ALREADY_EXISTS, () =>
      createTenant(services.db.sql, tenantId, tenant.name),
    );
    for (const account of DEMO_ACCOUNTS.filter((each) => each.tenantId === tenant.id)) {
      await ensureAgent(services.db, tenantId, account);
    }
    await withTenant(services.db.sql, tenantId, async (tx) => {
      await ignoring(AccountErrorCode.TEAM_ALREADY_EXISTS, () => createTeam(tx, tenantId, tenant.team));
      for (const member of tenant.team.members) await addTeamMember(tx, tenantId, tenant.team.id, member);
      await tx.query(
        `INSERT INTO message_templates (tenant_id, name, language, approved, param_count, body) VALUES
           ($1, 'order_update', 'en', true, 2, 'Hi {{1}}, your order {{2}} is on its way.'),
           ($1, 'follow_up', 'en', true, 1, 'Hi {{1}}, is there anything else we can help with?'),
           ($1, 'promo_draft', 'en', false, 0, 'Our spring sale starts soon!')
         ON CONFLICT DO NOTHING`,
        [tenantId],
      );
      await tx.query(
        `INSERT INTO canned_responses (tenant_id, id, shortcut, text) VALUES
           ($1, 'greet', 'greet', 'Hello! Thanks for reaching out, let me take a look.'),
           ($1, 'thanks', 'thanks', 'Thank you for your patience. Is there anything else I can do?')
         ON CONFLICT DO NOTHING`,
        [tenantId],
      );
    });
    // The workflow first: the engine puts each new conversation's card on its inbox's workflow.
    await seedWorkflow(services.grains, tenantId, tenant.workflow, now);
    await seedInbox(services.grains, tenantId, tenant, now);
    for (const conversation of tenant.conversations) {
      await seedConversation(services.grains, tenantId, tenant, conversation, now);
    }
  }
}

/**
 * Routes the demo conversations' replies through their workspace's demo WhatsApp channel, where it
 * exists (the simulators' seed makes it: server/src/channels/seed.ts). A webhook writes this route
 * for a real conversation; the seeded ones never had one, and a reply to them would fail with
 * NO_ROUTE. The customer's WhatsApp id is their number's digits. Idempotent, like the rest.
 */
export async function routeDemoConversations(services: Pick<SeedServices, 'db'>): Promise<number> {
  let routed = 0;
  for (const tenant of TENANTS) {
    const tenantId = toTenantId(tenant.id);
    await withTenant(services.db.sql, tenantId, async (tx) => {
      const channel = await tx.query(
        "SELECT 1 FROM channels WHERE tenant_id = $1 AND channel_id = $2 AND platform = 'whatsapp'",
        [tenantId, DEMO_CHANNEL_ID],
      );
      if (channel.length === 0) return;
      for (const conversation of tenant.conversations) {
        const waId = conversation.contact.handle.replace(/\D/g, '');
        await routeReplies(tx, tenantId, conversation.id, DEMO_CHANNEL_ID, waId);
        routed += 1;
      }
    });
  }
  return routed;
}

async function ensureAgent(db: Database, tenantId: TenantId, account: DemoAccount): Promise<void> {
  // Looked up first, so a restart does not pay for hashing passwords it will not store.
  const existing = await withTenant(db.sql, tenantId, (tx) => findAgentForSignIn(tx, account.email));
  if (existing) return;
  const { tenantId: _tenant, ...agent } = account;
  await ignoring(AccountErrorCode.EMAIL_ALREADY_EXISTS, () =>
    createAgent(db.sql, tenantId, { ...agent, presence: 'online' }),
  );
}

async function seedInbox(
  grains: Grains,
  tenantId: TenantId,
  tenant: (typeof TENANTS)[number],
  at: number,
): Promise<void> {
  const inbox = grains.inbox(tenantId, tenant.inbox.id);
  const metadata = { actor: { kind: 'system', id: 'seed' } };
  if ((await inbox.read()).state === null) {
    await inbox.ask(
      {
        type: 'CreateInbox',
        data: {
          inboxId: tenant.inbox.id,
          name: tenant.inbox.name,
          // The channel the channels' demo seed points at this inbox (server/src/channels/seed.ts).
          channel: { platform: 'whatsapp', channelId: DEMO_CHANNEL_ID },
          policy: 'round-robin',
          at,
        },
      },
      { metadata },
    );
  }
  const members = (await inbox.read()).state?.members ?? [];
  for (const account of DEMO_ACCOUNTS.filter(
    (each) => each.tenantId === tenant.id && each.role === 'agent',
  )) {
    if (members.some((member) => member.agentId === account.id)) continue;
    await inbox.ask(
      { type: 'AddMember', data: { agentId: account.id, weight: 1, capacity: 10, presence: 'online', at } },
      { metadata },
    );
  }
}

async function seedWorkflow(
  grains: Grains,
  tenantId: TenantId,
  seed: { readonly id: string; readonly name: string },
  at: number,
): Promise<void> {
  const workflow = grains.workflow(tenantId, seed.id);
  if ((await workflow.read()).state !== null) return;
  await workflow.ask(
    {
      type: 'CreateWorkflow',
      data: {
        at,
        definition: {
          workflowId: seed.id,
          name: seed.name,
          stages: [
            { id: 'new', name: 'New', wipLimit: null, entryActions: [{ type: 'assign' }] },
            { id: 'working', name: 'Working on it', wipLimit: 5, entryActions: [] },
            {
              id: 'waiting',
              name: 'Waiting on customer',
              wipLimit: null,
              entryActions: [{ type: 'set-status', status: 'pending' }],
            },
            {
              id: 'done',
              name: 'Done',
              wipLimit: null,
              entryActions: [{ type: 'set-status', status: 'resolved' }],
            },
          ],
          transitions: [],
        },
      },
    },
    { metadata: { actor: { kind: 'system', id: 'seed' } } },
  );
}

async function seedConversation(
  grains: Grains,
  tenantId: TenantId,
  tenant: (typeof TENANTS)[number],
  seed: DemoConversation,
  now: number,
): Promise<void> {
  const inboxId = tenant.inbox.id;
  const conversation = grains.conversation(tenantId, seed.id);
  const metadata = { actor: { kind: 'customer', id: seed.contact.id } };
  // A fixed external message id makes the message a duplicate on later runs (rule CV3).
  await conversation.ask(
    {
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: seed.id,
        inboxId,
        platform: 'whatsapp',
        externalMessageId: `seed-${seed.id}-1`,
        contact: seed.contact,
        content: { type: 'text', text: seed.text },
        sentAt: now - seed.minutesAgo * 60_000,
      },
    },
    { metadata },
  );
  const system = { metadata: { actor: { kind: 'system', id: 'seed' } } };
  // The workflow engine gives every new conversation an agent (round-robin) and a card on the inbox's
  // workflow; a chosen agent goes through the inbox too, so its load counts it (rule AS9).
  if (seed.assignee) {
    await grains
      .inbox(tenantId, inboxId)
      .ask(
        { type: 'AssignManually', data: { conversationId: seed.id, agentId: seed.assignee, at: now } },
        { ...system, idempotencyKey: `seed-assign-${seed.id}` },
      );
  }
  for (const label of seed.labels ?? []) {
    await conversation.ask({ type: 'AddLabel', data: { label, at: now } }, system);
  }
}

async function ignoring<T>(code: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof DomainError && error.code === code) return undefined;
    throw error;
  }
}
