import { tenantId, type ReceiveInboundMessage } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SESSION_COOKIE } from '../src/auth/cookies';
import { createHttpServer, listen } from '../src/http/server';
import { API_BACKENDS, openApiHarness, sessionCookieOf, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');
const PASSWORD = 'a long enough password';
const WEEK = 7 * 86_400_000;

/** The tRPC code and domain code a call failed with, or 'ok'. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const cause = error.cause as { code?: string } | undefined;
    return cause?.code ? `${error.code} ${cause.code}` : error.code;
  }
}

/** The token part of an invitation link's key: only its hash may be stored. */
const tokenOf = (key: string) => key.slice(key.indexOf('.') + 1);

describe.each(API_BACKENDS)('People (#17, decision 0035) on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let gus: Caller;
  let address = 0;

  /** Signs in with any account (not only the demo's) from an address of its own. */
  async function signIn(tenant: string, email: string, password: string) {
    const ip = `10.7.${Math.floor(address / 200)}.${address++ % 200}`;
    const anonymous = h.client(undefined, ip);
    await anonymous.caller.auth.signIn({ tenantId: tenant, email, password });
    const cookie = sessionCookieOf(anonymous.setCookies.at(-1))!;
    return { caller: h.client(cookie, ip).caller, cookie };
  }

  /** Invites an email, accepts as the invitee and signs them in. */
  async function invited(email: string, role: 'admin' | 'supervisor' | 'agent' = 'agent') {
    const { key } = await ada.admin.people.invite({ email, role });
    await h.client().caller.invitations.accept({ key, name: email.split('@')[0]!, password: PASSWORD });
    const { caller } = await signIn('demo', email, PASSWORD);
    return { caller, id: (await caller.auth.me()).agent.id };
  }

  const auditActions = async () =>
    (await ada.admin.people.audit({ limit: 200 })).map((entry) => entry.action);

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[PE4] an invitation link sets the invitee’s name and password once, and they sign in',
    async () => {
      const { key, invitation } = await ada.admin.people.invite({
        email: ' Dora@Demo.Parley.Test ',
        role: 'agent',
      });
      expect(invitation).toMatchObject({ email: 'dora@demo.parley.test', role: 'agent', status: 'pending' });
      expect(invitation.expiresAt - invitation.createdAt).toBe(WEEK);

      const anonymous = h.client().caller;
      const opened = await anonymous.invitations.open({ key });
      expect(opened).toMatchObject({ email: 'dora@demo.parley.test', role: 'agent' });
      expect(opened.workspace.length).toBeGreaterThan(0);
      const accepted = await anonymous.invitations.accept({ key, name: 'Dora', password: PASSWORD });
      expect(accepted.agent).toMatchObject({ name: 'Dora', email: 'dora@demo.parley.test', role: 'agent' });

      const dora = await signIn('demo', 'dora@demo.parley.test', PASSWORD);
      expect((await dora.caller.auth.me()).agent.name).toBe('Dora');

      // Used: the link works no more, and nothing changes.
      const people = await ada.admin.people.list();
      expect(await refusal(anonymous.invitations.accept({ key, name: 'Mallory', password: PASSWORD }))).toBe(
        'PRECONDITION_FAILED INVITATION_USED',
      );
      expect(await refusal(anonymous.invitations.open({ key }))).toBe('PRECONDITION_FAILED INVITATION_USED');
      expect(await ada.admin.people.list()).toEqual(people);
      const invitations = await ada.admin.people.invitations();
      expect(invitations.find((each) => each.id === invitation.id)).toMatchObject({
        status: 'accepted',
        agentId: accepted.agent.id,
      });
    },
  );

  it.skipIf(!enabled)('[PE3] stores only the SHA-256 of the link’s secret', async () => {
    const { key, invitation } = await ada.admin.people.invite({ email: 'hash@demo.parley.test' });
    const rows = await h.services.db.sql.query<Record<string, unknown>>(
      'SELECT * FROM invitations WHERE id = $1',
      [invitation.id],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(tokenOf(key));
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.skipIf(!enabled)('[PE4] an expired link is refused and creates nobody', async () => {
    const { key } = await ada.admin.people.invite({ email: 'late@demo.parley.test' });
    const before = await ada.admin.people.list();
    h.advance(WEEK);
    try {
      const anonymous = h.client().caller;
      expect(await refusal(anonymous.invitations.open({ key }))).toBe(
        'PRECONDITION_FAILED INVITATION_EXPIRED',
      );
      expect(await refusal(anonymous.invitations.accept({ key, name: 'Late', password: PASSWORD }))).toBe(
        'PRECONDITION_FAILED INVITATION_EXPIRED',
      );
      expect(await ada.admin.people.list()).toEqual(before);
      // An expired invitation does not stand in the way of a new one (PE5).
      const again = await ada.admin.people.invite({ email: 'late@demo.parley.test' });
      expect(again.invitation.status).toBe('pending');
    } finally {
      h.advance(-WEEK);
    }
  });

  it.skipIf(!enabled)(
    '[PE5] refuses a member’s email and a second invitation; a withdrawn link stops working',
    async () => {
      const audit = await auditActions();
      expect(await refusal(ada.admin.people.invite({ email: 'ana@demo.parley.test' }))).toBe(
        'CONFLICT AGENT_ALREADY_EXISTS',
      );
      const { key, invitation } = await ada.admin.people.invite({ email: 'twice@demo.parley.test' });
      expect(await refusal(ada.admin.people.invite({ email: 'TWICE@demo.parley.test' }))).toBe(
        'CONFLICT INVITATION_PENDING',
      );
      expect(await auditActions()).toEqual(['agent.invited', ...audit]);

      await ada.admin.people.revokeInvitation({ invitationId: invitation.id });
      expect(
        await refusal(h.client().caller.invitations.accept({ key, name: 'Twice', password: PASSWORD })),
      ).toBe('PRECONDITION_FAILED INVITATION_REVOKED');
      expect((await ada.admin.people.invite({ email: 'twice@demo.parley.test' })).invitation.status).toBe(
        'pending',
      );
      // Malformed and unknown links say the same thing.
      for (const bad of ['nonsense', `demo.${'x'.repeat(43)}`, `demo.${tokenOf(key)}x`]) {
        expect(await refusal(h.client().caller.invitations.open({ key: bad }))).toBe(
          'NOT_FOUND INVITATION_NOT_FOUND',
        );
      }
    },
  );

  it.skipIf(!enabled)('[PE2] the last active admin can be neither demoted nor deactivated', async () => {
    const people = await ada.admin.people.list();
    const audit = await auditActions();
    expect(await refusal(ada.admin.people.setRole({ agentId: 'ada', role: 'agent' }))).toBe(
      'PRECONDITION_FAILED LAST_ADMIN',
    );
    expect(await refusal(ada.admin.people.deactivate({ agentId: 'ada' }))).toBe(
      'PRECONDITION_FAILED LAST_ADMIN',
    );
    expect(await ada.admin.people.list()).toEqual(people);
    expect(await auditActions()).toEqual(audit);

    // With a second admin, the first may step down, and the change names its actor.
    const second = await invited('second@demo.parley.test', 'admin');
    await second.caller.admin.people.setRole({ agentId: 'ada', role: 'supervisor' });
    const entries = await second.caller.admin.people.audit({ limit: 200 });
    expect(entries.find((entry) => entry.action === 'agent.role-changed')).toMatchObject({
      action: 'agent.role-changed',
      actor: { id: second.id },
      subject: { id: 'ada', name: 'Ada Admin' },
      details: { from: 'admin', to: 'supervisor' },
    });
    // Now the second is the last admin, and stays one.
    expect(await refusal(second.caller.admin.people.deactivate({ agentId: second.id }))).toBe(
      'PRECONDITION_FAILED LAST_ADMIN',
    );
    await second.caller.admin.people.setRole({ agentId: 'ada', role: 'admin' });
    await ada.admin.people.deactivate({ agentId: second.id });
  });

  it.skipIf(!enabled)(
    '[PE1] a supervisor reads the reports and every inbox, and changes no setting',
    async () => {
      const sue = await invited('sue@demo.parley.test', 'supervisor');
      const from = new Date(h.now()).toISOString().slice(0, 10);
      await expect(sue.caller.reports.overview({ from, to: from })).resolves.toBeTruthy();
      // Not a member of any inbox, and sees every conversation, as an admin does.
      const all = (await ada.conversations.list({ limit: 100 })).items.map((item) => item.conversationId);
      const seen = (await sue.caller.conversations.list({ limit: 100 })).items.map(
        (item) => item.conversationId,
      );
      expect(seen.sort()).toEqual(all.sort());
      for (const call of [
        () => sue.caller.admin.settings.setRetention({ days: 30 }),
        () => sue.caller.admin.people.list(),
        () => sue.caller.admin.people.invite({ email: 'x@demo.parley.test' }),
        () => sue.caller.admin.people.setRole({ agentId: sue.id, role: 'admin' }),
        () => sue.caller.admin.inboxes.setPolicy({ inboxId: 'support', policy: 'weighted' }),
      ]) {
        expect(await refusal(call())).toBe('FORBIDDEN');
      }
      // An agent reads no reports.
      const ana = (await h.signIn('ana@demo.parley.test')).caller;
      expect(await refusal(ana.reports.overview({ from, to: from }))).toBe('FORBIDDEN');
    },
  );

  it.skipIf(!enabled)(
    'refuses another tenant’s people and invitations as if they did not exist',
    async () => {
      const people = await ada.admin.people.list();
      const { key, invitation } = await ada.admin.people.invite({ email: 'cross@demo.parley.test' });
      for (const call of [
        () => gus.admin.people.setRole({ agentId: 'ana', role: 'admin' }),
        () => gus.admin.people.deactivate({ agentId: 'ana' }),
        () => gus.admin.people.reactivate({ agentId: 'ana' }),
        () => gus.admin.people.revokeInvitation({ invitationId: invitation.id }),
        () => h.client().caller.invitations.open({ key: `globex.${tokenOf(key)}` }),
      ]) {
        expect(await refusal(call())).toMatch(/^NOT_FOUND/);
      }
      const globexPeople = JSON.stringify(await gus.admin.people.list());
      expect(globexPeople).not.toMatch(/demo\.parley\.test/);
      expect(JSON.stringify(await gus.admin.people.invitations())).not.toMatch(/cross@/);
      expect(JSON.stringify(await gus.admin.people.audit({}))).not.toMatch(/demo\.parley\.test|Ada/);
      expect(await ada.admin.people.list()).toEqual(people);
      expect((await ada.admin.people.invitations()).find((each) => each.id === invitation.id)?.status).toBe(
        'pending',
      );
    },
  );

  it.skipIf(!enabled)(
    'deactivating ends the agent’s sessions at once: requests, live stream and board socket; assignment skips them',
    async () => {
      const ben = await h.signIn('ben@demo.parley.test');
      const http = createHttpServer(h.services, { api: h.api });
      const { port } = await listen(http, 0, '127.0.0.1');
      try {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/boards/support`, {
          headers: { cookie: `${SESSION_COOKIE}=${ben.cookie}`, origin: `http://127.0.0.1:${port}` },
        });
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          socket.once('error', reject);
        });
        const socketClosed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

        const stream = await ben.caller.sync.live({ cursor: null });
        const streamEnded = (async () => {
          try {
            for await (const message of stream) void message;
            return 'ended';
          } catch (error) {
            return error instanceof TRPCError ? error.code : String(error);
          }
        })();

        const result = await ada.admin.people.deactivate({ agentId: 'ben' });
        expect(result).toMatchObject({ agentId: 'ben', changed: true, sessionsEnded: 1 });
        expect(await streamEnded).toBe('UNAUTHORIZED');
        expect(await socketClosed).toBe(4401);
        // The next request with his cookie (a new request, as over HTTP) is refused.
        expect(await refusal(h.client(ben.cookie).caller.auth.me())).toBe('UNAUTHORIZED');
        expect(await refusal(h.signIn('ben@demo.parley.test'))).toBe('UNAUTHORIZED INVALID_CREDENTIALS');

        // History keeps his name; every inbox has him offline, so the policy never picks him.
        expect((await ada.agents.list()).find((agent) => agent.id === 'ben')).toMatchObject({
          name: 'Ben Agent',
          active: false,
        });
        expect((await ada.admin.people.list()).find((person) => person.id === 'ben')).toMatchObject({
          active: false,
          presence: 'offline',
        });
        const [support] = (await ada.boards.inboxes()).filter((inbox) => inbox.inboxId === 'support');
        expect(support?.members.find((member) => member.agentId === 'ben')?.presence).toBe('offline');
        for (let n = 0; n < 4; n++) {
          const message: ReceiveInboundMessage = {
            type: 'ReceiveInboundMessage',
            data: {
              conversationId: `after-ben-${n}`,
              inboxId: 'support',
              platform: 'webchat',
              externalMessageId: `after-ben-${n}`,
              contact: { id: `c-after-${n}`, name: `After ${n}`, handle: `after${n}` },
              content: { type: 'text', text: 'hello' },
              sentAt: h.now(),
            },
          };
          await h.services.grains.conversation(demo, `after-ben-${n}`).ask(message);
        }
        await h.settle();
        const assignees = await Promise.all(
          [0, 1, 2, 3].map(
            async (n) =>
              (await h.services.grains.conversation(demo, `after-ben-${n}`).read()).state?.assigneeId,
          ),
        );
        expect(assignees.every((assignee) => typeof assignee === 'string')).toBe(true);
        expect(assignees).not.toContain('ben');
        // [PE6] Nor may a colleague hand him one by hand, and nothing changes.
        const before = (await h.services.grains.conversation(demo, 'after-ben-0').read()).state?.assigneeId;
        expect(
          await refusal(ada.conversations.assign({ conversationId: 'after-ben-0', agentId: 'ben' })),
        ).toBe('PRECONDITION_FAILED AGENT_DEACTIVATED');
        expect((await h.services.grains.conversation(demo, 'after-ben-0').read()).state?.assigneeId).toBe(
          before,
        );

        expect(await auditActions()).toContain('agent.deactivated');
        // Reactivated, he signs in again (offline until he says otherwise).
        await ada.admin.people.reactivate({ agentId: 'ben' });
        expect((await (await h.signIn('ben@demo.parley.test')).caller.auth.me()).agent.presence).toBe(
          'offline',
        );
        socket.terminate();
      } finally {
        await http.boards.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
    },
  );

  it.skipIf(!enabled)(
    '[AS1] an agent’s own availability reaches their inboxes: busy takes nothing',
    async () => {
      const chloe = (await h.signIn('chloe@demo.parley.test')).caller;
      await chloe.agents.setPresence({ presence: 'busy' });
      const [support] = (await ada.boards.inboxes()).filter((inbox) => inbox.inboxId === 'support');
      expect(support?.members.find((member) => member.agentId === 'chloe')?.presence).toBe('busy');
      expect((await ada.admin.people.list()).find((person) => person.id === 'chloe')?.presence).toBe('busy');
      await chloe.agents.setPresence({ presence: 'online' });
    },
  );
});
