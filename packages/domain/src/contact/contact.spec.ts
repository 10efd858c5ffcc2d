import { describe, expect, it } from 'vitest';
import { spec } from '../testing/spec';
import { contact } from './decider';
import { CONTACT_NOTE_MAX } from './types';

describe('a contact', () => {
  it('[CT1] an erasure names its reason; a blank one is refused with ERASURE_REASON_REQUIRED', () => {
    const erase = (reason: string) =>
      contact.decide(
        { type: 'EraseContact', data: { reason, erasedBy: 'agent-1', conversations: ['c1'], at: 5 } },
        contact.initialState(),
      );
    expect(() => erase('   ')).toThrow(expect.objectContaining({ code: 'ERASURE_REASON_REQUIRED' }));
    const events = erase(' GDPR art. 17 request ');
    expect(events).toEqual([
      {
        type: 'ContactErased',
        data: { reason: 'GDPR art. 17 request', erasedBy: 'agent-1', conversations: ['c1'], at: 5 },
      },
    ]);
    expect(events.reduce((state, event) => contact.evolve(state, event), contact.initialState())).toEqual({
      erasures: 1,
      lastErasedAt: 5,
      noteIds: [],
    });
  });

  const note = (noteId: string, text: string) =>
    ({ type: 'AddContactNote', data: { noteId, agentId: 'ana', text, at: 7 } }) as const;

  it('[CT2] a note keeps its text trimmed; a blank or over-long one is refused and adds nothing', () => {
    spec(contact)
      .given([])
      .when(note('n1', '  Prefers e-mail  '))
      .then([
        { type: 'ContactNoteAdded', data: { noteId: 'n1', agentId: 'ana', text: 'Prefers e-mail', at: 7 } },
      ]);
    spec(contact).given([]).when(note('n1', ' \n ')).thenThrows('CONTACT_NOTE_EMPTY', 'CT2');
    spec(contact)
      .given([])
      .when(note('n1', 'x'.repeat(CONTACT_NOTE_MAX + 1)))
      .thenThrows('CONTACT_NOTE_TOO_LONG', 'CT2');
    spec(contact)
      .given([])
      .when(note('n1', '😀'.repeat(CONTACT_NOTE_MAX)))
      .then([expect.objectContaining({ type: 'ContactNoteAdded' }) as never]);
  });

  it('[CT3] a note sent again with the same id (a retried request) is added once', () => {
    const added = contact.decide(note('n1', 'VIP'), contact.initialState());
    spec(contact).given(added).when(note('n1', 'VIP')).thenNothingHappens();
    spec(contact)
      .given(added)
      .when(note('n2', 'VIP'))
      .then([{ type: 'ContactNoteAdded', data: { noteId: 'n2', agentId: 'ana', text: 'VIP', at: 7 } }]);
  });

  it('[CT4] an export is recorded with who made it, the conversations and when; a blank exporter is refused', () => {
    const exportContact = (exportedBy: string) =>
      ({ type: 'ExportContact', data: { exportedBy, conversations: ['c1', 'c2'], at: 9 } }) as const;
    spec(contact)
      .given([])
      .when(exportContact(' agent-1 '))
      .then([
        { type: 'ContactExported', data: { exportedBy: 'agent-1', conversations: ['c1', 'c2'], at: 9 } },
      ]);
    spec(contact).given([]).when(exportContact('  ')).thenThrows('EXPORTER_REQUIRED', 'CT4');
    // An export changes nothing the contact decides on: the same note after it is still added once.
    const noted = contact.decide(note('n1', 'VIP'), contact.initialState());
    const exported = contact.decide(exportContact('agent-1'), contact.initialState());
    spec(contact)
      .given([...noted, ...exported])
      .when(note('n1', 'VIP'))
      .thenNothingHappens();
    const state = [...noted, ...exported].reduce(
      (s, event) => contact.evolve(s, event),
      contact.initialState(),
    );
    expect(state).toEqual({ erasures: 0, lastErasedAt: null, noteIds: ['n1'] });
  });
});
