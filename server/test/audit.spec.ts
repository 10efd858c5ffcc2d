import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSummary } from '../src/audit/summary';
import { API_BACKENDS, openApiHarness, sessionCookieOf, type ApiHarness, type Caller } from './api.support';

/**
 * #16, decision 0036: `audit.log`, the admin's view of who changed what, read from the tenant's
 * event log newest first, a page at a time.
 */
const SEEDED_PERSONAL = [
  'Maria Lopez',
  '+34 600 111 222',
  'c-maria',
  'My order #1042',
  'Do you ship to Japan?',
  'Yuki Tanaka',
];

describe('auditSummary', () => {
  const nameOf = (id: string) => (id === 'ana' ? 'Ana Agent' : id);

  it('names the agent an event is about, from the tenant’s people', () => {
    expect(auditSummary('ConversationAssigned', { agentId: 'ana', at: 1 }, nameOf)).toBe(
      'Assigned to Ana Agent',
    );
    expect(auditSummary('LabelAdded', { label: 'vip', at: 1 }, nameOf)).toBe('Label "vip" added');
    expect(
      auditSummary('StatusChanged', { status: { kind: 'resolved' }, reason: 'agent', at: 1 }, nameOf),
    ).toBe('Status set to resolved by an agent');
  });

  it('never repeats sealed or free text: message content, note text, contact, an erasure’s reason', () => {
    const lines = [
      auditSummary(
        'InboundMessageReceived',
        { contact: { id: '+1 555', name: 'Zed' }, content: { type: 'text', text: 'my card 4111' } },
        nameOf,
      ),
      auditSummary('NoteAdded', { agentId: 'ana', text: 'call Zed', mentions: [] }, nameOf),
      auditSummary('ReplyQueued', { agentId: 'ana', content: { type: 'text', text: 'hi Zed' } }, nameOf),
      auditSummary('ContactErased', { reason: 'Zed asked', erasedBy: 'ana', conversations: ['x'] }, nameOf),
      auditSummary('ReplyFailed', { reason: 'number +1 555 unreachable', clientMessageId: 'r' }, nameOf),
    ];
    expect(lines.join('\n')).not.toMatch(/Zed|4111|\+1 555/);
    expect(lines[0]).toBe('Customer message received (content sealed)');
  });

  it('names an event type it does not know, nothing more', () => {
    expect(auditSummary('SomethingNew', { secret: 'x' }, nameOf)).toBe('SomethingNew');
  });
});

describe.each(API_BACKENDS)('audit.log on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let gus: Caller;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    await h.settle();
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    await ada.conversations.label({ conversationId: 'demo-2', label: 'audit-check', action: 'add' });
    await ada.conversations.setPriority({ conversationId: 'demo-2', priority: 'urgent' });
    await h.settle();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)('shows an admin who changed what, newest first, with readable summaries', async () => {
    const { entries } = await ada.audit.log({ limit: 20 });
    expect(entries.length).toBeGreaterThan(0);
    const latest = entries.find((entry) => entry.type === 'PriorityChanged');
    expect(latest).toMatchObject({
      streamId: 'conversation-demo-2',
      category: 'conversation',
      conversationId: 'demo-2',
      actor: { kind: 'agent', id: 'ada', name: 'Ada Admin' },
      summary: 'Priority set to urgent',
    });
    const label = entries.find((entry) => entry.type === 'LabelAdded' && entry.conversationId === 'demo-2');
    expect(label?.summary).toBe('Label "audit-check" added');
    // Newest first: the priority came after the label.
    expect(entries.indexOf(latest!)).toBeLessThan(entries.indexOf(label!));
    // The log is in commit order; an event's time is taken just before its transaction commits, so
    // two transactions committing together may have their times a few milliseconds the other way.
    const times = entries.map((entry) => Date.parse(entry.at));
    for (const [i, time] of times.entries())
      if (i > 0) expect(time).toBeLessThanOrEqual(times[i - 1]! + 1_000);
  });

  it.skipIf(!enabled)('pages through the whole log with the cursor, each event once', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<Caller['audit']['log']>> = await ada.audit.log({ limit: 7, cursor });
      expect(page.entries.length).toBeLessThanOrEqual(7);
      all.push(...page.entries.map((entry) => entry.id));
      cursor = page.next;
      pages += 1;
    } while (cursor !== null && pages < 500);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(all).size).toBe(all.length);
    const [row] = await h.services.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE tenant_id = 'demo'`,
    );
    expect(all.length).toBe(row!.n);
  });

  it.skipIf(!enabled)('filters by actor and by conversation', async () => {
    const byAda = await ada.audit.log({ actor: 'agent:ada', limit: 100 });
    expect(byAda.entries.length).toBeGreaterThanOrEqual(2);
    expect(byAda.entries.every((entry) => entry.actor.id === 'ada')).toBe(true);

    const customers = await ada.audit.log({ actor: 'customer', limit: 100 });
    expect(customers.entries.length).toBeGreaterThan(0);
    // A customer's platform id is personal: the row says "Customer", no id.
    expect(
      customers.entries.every((entry) => entry.actor.id === null && entry.actor.name === 'Customer'),
    ).toBe(true);

    const demo2 = await ada.audit.log({ conversationId: 'demo-2', limit: 100 });
    expect(new Set(demo2.entries.map((entry) => entry.streamId))).toEqual(
      new Set(['conversation-demo-2', 'card-demo-2']),
    );
    const inbox = await ada.audit.log({ streamId: 'inbox-support', limit: 100 });
    expect(inbox.entries.map((entry) => entry.type)).toContain('InboxCreated');
    expect(inbox.entries.every((entry) => entry.streamId === 'inbox-support')).toBe(true);
  });

  it.skipIf(!enabled)(
    'holds no customer content: contact names, numbers and message text are sealed',
    async () => {
      const wire = JSON.stringify(await ada.audit.log({ limit: 100 }));
      for (const personal of SEEDED_PERSONAL) expect(wire).not.toContain(personal);
      expect(wire).toContain('Customer message received (content sealed)');
    },
  );

  it.skipIf(!enabled)(
    'answers only the caller’s tenant: another tenant’s ids and cursors get nothing',
    async () => {
      expect((await ada.audit.log({ conversationId: 'globex-1' })).entries).toEqual([]);
      expect((await ada.audit.log({ streamId: 'inbox-sales' })).entries).toEqual([]);
      expect((await ada.audit.log({ actor: 'agent:gus' })).entries).toEqual([]);
      const theirs = await gus.audit.log({ limit: 1 });
      expect(theirs.next).not.toBeNull();
      await expect(ada.audit.log({ cursor: theirs.next })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      const wire = JSON.stringify(await gus.audit.log({ limit: 100 }));
      expect(wire).not.toMatch(/demo-\d|inbox-support|Ada Admin/);
    },
  );

  it.skipIf(!enabled)(
    'is for admins: an agent and a supervisor (who reads reports) are FORBIDDEN, no session UNAUTHORIZED',
    async () => {
      const ana = (await h.signIn('ana@demo.parley.test')).caller;
      await expect(ana.audit.log({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(h.client().caller.audit.log({})).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      const email = 'sid.supervisor@demo.parley.test';
      const password = 'supervisor password';
      await ada.admin.people.createAgent({ email, name: 'Sid', role: 'supervisor', password });
      const anonymous = h.client(undefined, '10.5.0.1');
      await anonymous.caller.auth.signIn({ tenantId: 'demo', email, password });
      const sid = h.client(sessionCookieOf(anonymous.setCookies.at(-1)), '10.5.0.1').caller;
      // The demo's conversations start hours before the seed ran: just after midnight UTC they are
      // yesterday's, so the supervisor reads the last two days.
      const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const [from, to] = [dayOf(h.now() - 24 * 60 * 60 * 1000), dayOf(h.now())];
      expect((await sid.reports.overview({ from, to })).counters.opened).toBeGreaterThan(0);
      await expect(sid.audit.log({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    },
  );

  it.skipIf(!enabled)('refuses bad input with a clear error', async () => {
    await expect(ada.audit.log({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ada.audit.log({ actor: 'root' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ada.audit.log({ cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'this audit cursor was not issued for this workspace',
    });
  });
});
