import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';

export const ContactErrorCode = {
  ERASURE_REASON_REQUIRED: 'ERASURE_REASON_REQUIRED',
} as const;
export type ContactErrorCode = (typeof ContactErrorCode)[keyof typeof ContactErrorCode];

/**
 * Erases a contact (decision 0022): the server has destroyed their keys and records the fact.
 * `conversations` are the conversation ids whose personal data is now unreadable.
 */
export type EraseContact = DomainCommand<
  'EraseContact',
  { reason: string; erasedBy: string; conversations: readonly string[]; at: EpochMs }
>;
export type ContactCommand = EraseContact;

/** The fact of an erasure; it names no personal data (the stream id is a keyed hash of the contact). */
export type ContactErased = DomainEvent<
  'ContactErased',
  { reason: string; erasedBy: string; conversations: string[]; at: EpochMs }
>;
export type ContactEvent = ContactErased;

/** How often a contact was erased and when last (a contact may write again afterwards). */
export type ContactState = { readonly erasures: number; readonly lastErasedAt: EpochMs | null };
