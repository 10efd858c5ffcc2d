import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';

export const ContactErrorCode = {
  ERASURE_REASON_REQUIRED: 'ERASURE_REASON_REQUIRED',
  CONTACT_NOTE_EMPTY: 'CONTACT_NOTE_EMPTY',
  CONTACT_NOTE_TOO_LONG: 'CONTACT_NOTE_TOO_LONG',
  EXPORTER_REQUIRED: 'EXPORTER_REQUIRED',
} as const;

/** The longest contact note, in characters (code points). */
export const CONTACT_NOTE_MAX = 5000;
export type ContactErrorCode = (typeof ContactErrorCode)[keyof typeof ContactErrorCode];

/**
 * Erases a contact (decision 0022): the server has destroyed their keys and records the fact.
 * `conversations` are the conversation ids whose personal data is now unreadable.
 */
export type EraseContact = DomainCommand<
  'EraseContact',
  { reason: string; erasedBy: string; conversations: readonly string[]; at: EpochMs }
>;
/** An agent's note on the contact (not on one conversation): every conversation's panel shows it. */
export type AddContactNote = DomainCommand<
  'AddContactNote',
  { noteId: string; agentId: string; text: string; at: EpochMs }
>;
/**
 * Records that an admin (agent id) or the CLI (`cli:<user>`) exported everything Parley holds about
 * the contact (decision 0030): the audit trail of a copy of personal data leaving Parley.
 */
export type ExportContact = DomainCommand<
  'ExportContact',
  { exportedBy: string; conversations: readonly string[]; at: EpochMs }
>;
export type ContactCommand = EraseContact | AddContactNote | ExportContact;

/** The fact of an erasure; it names no personal data (the stream id is a keyed hash of the contact). */
export type ContactErased = DomainEvent<
  'ContactErased',
  { reason: string; erasedBy: string; conversations: string[]; at: EpochMs }
>;
/** A note on the contact; its text is personal data, sealed with the contact's key like a message. */
export type ContactNoteAdded = DomainEvent<
  'ContactNoteAdded',
  { noteId: string; agentId: string; text: string; at: EpochMs }
>;
/** The fact of an export: who, which conversations, when; it names no personal data either. */
export type ContactExported = DomainEvent<
  'ContactExported',
  { exportedBy: string; conversations: string[]; at: EpochMs }
>;
export type ContactEvent = ContactErased | ContactNoteAdded | ContactExported;

/**
 * How often a contact was erased and when last (a contact may write again afterwards), and the
 * ids of the notes on them.
 */
export type ContactState = {
  readonly erasures: number;
  readonly lastErasedAt: EpochMs | null;
  readonly noteIds: readonly string[];
};
