import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import { ContactErrorCode, type ContactCommand, type ContactEvent, type ContactState } from './types';

export function initialState(): ContactState {
  return { erasures: 0, lastErasedAt: null };
}

export function decide(command: ContactCommand, _state: ContactState): ContactEvent[] {
  switch (command.type) {
    case 'EraseContact': {
      const reason = command.data.reason.trim();
      if (reason === '') {
        refuse(ContactErrorCode.ERASURE_REASON_REQUIRED, 'an erasure names its reason', 'CT1');
      }
      const { erasedBy, conversations, at } = command.data;
      return [{ type: 'ContactErased', data: { reason, erasedBy, conversations: [...conversations], at } }];
    }
    default:
      return assertNever(command.type);
  }
}

export function evolve(state: ContactState, event: ContactEvent): ContactState {
  switch (event.type) {
    case 'ContactErased':
      return { erasures: state.erasures + 1, lastErasedAt: event.data.at };
    default:
      return assertNever(event.type);
  }
}

/** The contact aggregate (stream category `contact`): the record of a contact's erasures. */
export const contact: Decider<ContactCommand, ContactState, ContactEvent> = { decide, evolve, initialState };
