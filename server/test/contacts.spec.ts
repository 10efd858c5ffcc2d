import { tenantId, type ReceiveInboundMessage } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASED } from '../src/crypto/event-codec';
import { openApiHarness, type ApiHarness, type TestClient } from './api.support';

const demo = tenantId('demo');
const NOTE = 'Prefers e-mail; VIP since 2021';

/** The contact panel's server part (#15 item 13): notes on the contact, their other conversations. */
describe('a contact’s notes and other conversations', () => {
  let h: ApiHarness;
  let ana: TestClient;
  let ben: TestClient;
  let gus: TestClient;

  const customerWrites = (conversationId: string, contactId: string, n: number): Promise<unknown> => {
    const command: ReceiveInboundMessage = {
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.${conversationId}.${n}`,
        contact: { id: contactId, name: 'Nadia Notes', handle: '+34 600 999 000' },
        content: { type: 'text', text: `message ${n}` },
        sentAt: h.now() - 60_000 + n,
      },
    };
    return h.services.grains.conversation(demo, conversationId).ask(command);
  };

  beforeAll(async () => {
    h = await openApiHarness('pglite');
    // The same contact on two channels' conversations (one per channel), and someone else.
    await customerWrites('notes-1', '34600999000', 1);
    await customerWrites('notes-2', '34600999000', 1);
    await customerWrites('notes-other', '34600111999', 1);
    ana = await h.signIn('ana@demo.parley.test');
    ben = await h.signIn('ben@demo.parley.test');
    gus = await h.signIn('gus@globex.parley.test');
  });
  afterAll(async () => h?.dispose());

  it('[CT2] a note one agent adds shows on the contact for another, on every conversation of the contact', async () => {
    await expect(
      ana.caller.contacts.addNote({ conversationId: 'notes-1', noteId: 'note-a1', text: `  ${NOTE} ` }),
    ).resolves.toEqual({ added: true });
    const seen = await ben.caller.contacts.profile({ conversationId: 'notes-2' });
    expect(seen.notes).toEqual([
      { noteId: 'note-a1', agentId: 'ana', text: NOTE, at: expect.any(Number) as number },
    ]);
    expect((await ben.caller.contacts.profile({ conversationId: 'notes-other' })).notes).toEqual([]);
  });

  it('[CT3] the same note sent again is kept once', async () => {
    await expect(
      ana.caller.contacts.addNote({ conversationId: 'notes-1', noteId: 'note-a1', text: NOTE }),
    ).resolves.toEqual({ added: false });
    expect((await ana.caller.contacts.profile({ conversationId: 'notes-1' })).notes).toHaveLength(1);
  });

  it('refuses a blank note with a sentence and stores nothing', async () => {
    await expect(
      ana.caller.contacts.addNote({ conversationId: 'notes-1', noteId: 'note-blank', text: '   ' }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/needs some text/) as string,
    });
    expect((await ana.caller.contacts.profile({ conversationId: 'notes-1' })).notes).toHaveLength(1);
  });

  it('lists the contact’s other conversations with their status and last message time', async () => {
    const { conversations } = await ana.caller.contacts.profile({ conversationId: 'notes-1' });
    expect(conversations).toEqual([
      {
        conversationId: 'notes-2',
        platform: 'whatsapp',
        status: 'open',
        cycle: 1,
        lastMessageAt: expect.any(Number) as number,
      },
    ]);
  });

  it('keeps the note’s text sealed in the database, and it reads as erased after the contact is erased', async () => {
    const rows = await h.services.db.sql.query<{ data: unknown }>(
      "SELECT data FROM events WHERE type = 'ContactNoteAdded'",
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0]!.data)).not.toContain('VIP since');
    const ada = await h.signIn('ada@demo.parley.test');
    const erased = await ada.caller.contacts.erase({ conversationId: 'notes-1', reason: 'their request' });
    expect(erased.conversations.sort()).toEqual(['notes-1', 'notes-2']);
    const { notes } = await ben.caller.contacts.profile({ conversationId: 'notes-2' });
    expect(notes.map((note) => note.text)).toEqual([ERASED]);
  });

  it('refuses another tenant’s conversation as if it did not exist, and writes nothing', async () => {
    await h.settle();
    const before = await h.services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
    await expect(gus.caller.contacts.profile({ conversationId: 'notes-other' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      gus.caller.contacts.addNote({ conversationId: 'notes-other', noteId: 'note-g1', text: 'hello' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const after = await h.services.db.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});
