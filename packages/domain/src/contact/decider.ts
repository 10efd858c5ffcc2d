import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import { characterCount } from '../shared/text';
import {
  CONTACT_NOTE_MAX,
  ContactErrorCode,
  type ContactCommand,
  type ContactEvent,
  type ContactState,
} from './types';

export function initialState(): ContactState {
  return { erasures: 0, lastErasedAt: null, noteIds: [] };
}

export function decide(command: ContactCommand, state: ContactState): ContactEvent[] {
  switch (command.type) {
    case 'EraseContact': {
      const reason = command.data.reason.trim();
      if (reason === '') {
        refuse(ContactErrorCode.ERASURE_REASON_REQUIRED, 'an erasure names its reason', 'CT1');
      }
      const { erasedBy, conversations, at } = command.data;
      return [{ type: 'ContactErased', data: { reason, erasedBy, conversations: [...conversations], at } }];
    }
    case 'AddContactNote': {
      const { noteId, agentId, at } = command.data;
      // CT3: a note sent again (a retry) is added once.
      if (state.noteIds.includes(noteId)) return [];
      const text = command.data.text.trim();
      if (text === '') refuse(ContactErrorCode.CONTACT_NOTE_EMPTY, 'a contact note needs some text', 'CT2');
      if (characterCount(text) > CONTACT_NOTE_MAX) {
        const message = `a contact note is at most ${CONTACT_NOTE_MAX} characters`;
        refuse(ContactErrorCode.CONTACT_NOTE_TOO_LONG, message, 'CT2');
      }
      return [{ type: 'ContactNoteAdded', data: { noteId, agentId, text, at } }];
    }
    case 'ExportContact': {
      // CT4: an export is only ever recorded with who made it; nothing else can refuse it.
      const exportedBy = command.data.exportedBy.trim();
      if (exportedBy === '') refuse(ContactErrorCode.EXPORTER_REQUIRED, 'an export names who made it', 'CT4');
      const { conversations, at } = command.data;
      return [{ type: 'ContactExported', data: { exportedBy, conversations: [...conversations], at } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolve(state: ContactState, event: ContactEvent): ContactState {
  switch (event.type) {
    case 'ContactErased':
      return { ...state, erasures: state.erasures + 1, lastErasedAt: event.data.at };
    case 'ContactNoteAdded':
      return { ...state, noteIds: [...state.noteIds, event.data.noteId] };
    case 'ContactExported':
      return state; // an export changes nothing the contact decides on
    default:
      return assertNever(event);
  }
}

/** The contact aggregate (stream category `contact`): a contact's notes, erasures and exports. */
export const contact: Decider<ContactCommand, ContactState, ContactEvent> = { decide, evolve, initialState };
