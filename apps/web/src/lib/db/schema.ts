import Dexie, { type DexieOptions, type EntityTable } from 'dexie';
import type { ConversationEvent, ConversationSummary, MessageTag, ReplyContent } from '@parley/domain';

/** A committed server event as the PWA keeps it; `(streamId, version)` is its identity. */
export interface EventRow {
  readonly streamId: string;
  readonly version: number;
  /** The conversation id for `conversation-*` streams, else ''. Indexed with `version`. */
  readonly conversationId: string;
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly recordedAt: number;
  readonly cursor: string;
  /** Written by the outbox from an acknowledgement, before the event itself arrives by sync. */
  readonly provisional?: true;
}

/**
 * A conversation as the inbox list shows it: the domain's summary (the server's list item, kept up
 * to date by sync with the same fold), plus this device's index keys.
 */
export interface ConversationRow extends ConversationSummary {
  /** Lower-case name and handle, for search (schema v2). */
  readonly searchText: string;
  /** `assigneeId ?? ''`, so "unassigned" is an indexable key (schema v2). */
  readonly assigneeKey: string;
  /** False when the list came from a resync: the events must be fetched when it is opened. */
  readonly hydrated: boolean;
}

/** Why the server (or this device, for a request it cannot ever accept) refused a reply for good. */
export interface Refusal {
  readonly code: string;
  readonly rule: string | null;
  readonly message: string;
  readonly hint: string | null;
}

/**
 * A reply in the outbox. While `sequence` is set it waits to be sent, in sequence order; a refused
 * reply loses its sequence (so it leaves the index the flusher reads) and keeps its reason until
 * the agent edits, replaces or discards it.
 */
export interface OutboxRow {
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly sequence?: number;
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly agentId: string;
  readonly createdAt: number;
  /** How many times a request carried it; 0 means the server has never seen it. */
  readonly attempts: number;
  readonly lastError: string | null;
  readonly refusal: Refusal | null;
  /** The sequence the refused reply had; kept for the record only. */
  readonly refusedSequence?: number;
  /**
   * What the domain's `decide` made of the reply on this device when it was queued (decision
   * 0019): shown as provisional events once the server has acknowledged it. Absent on rows queued
   * by a build before 0019, which show no provisional event (sync brings the real one).
   */
  readonly decided?: readonly ConversationEvent[];
}

export interface CursorRow {
  readonly name: 'events';
  readonly cursor: string;
  readonly updatedAt: number;
}

export interface DraftRow {
  readonly conversationId: string;
  readonly text: string;
  readonly updatedAt: number;
}

/** Small values: the client id, the next sequence number, catalogues. */
export interface MetaRow {
  readonly key: string;
  readonly value: unknown;
}

/** The newest schema version; each older one is kept below so the upgrade path stays tested. */
export const SCHEMA_VERSION = 2;

/** The stores of schema v1 (the first shipped); v2 adds drafts and the list's indexes. */
export const SCHEMA_V1 = {
  conversations: 'conversationId, lastActivityAt',
  events: '[streamId+version], [conversationId+version]',
  outbox: 'clientMessageId, sequence, conversationId',
  cursors: 'name',
  meta: 'key',
} as const;

export const SCHEMA_V2 = {
  ...SCHEMA_V1,
  conversations:
    'conversationId, lastActivityAt, [status+lastActivityAt], [assigneeKey+lastActivityAt], [assigneeKey+status+lastActivityAt]',
  drafts: 'conversationId',
} as const;

/** The PWA's local copy of one account's data. One database per (tenant, agent). */
export class ParleyDb extends Dexie {
  conversations!: EntityTable<ConversationRow, 'conversationId'>;
  events!: Dexie.Table<EventRow, [string, number]>;
  outbox!: EntityTable<OutboxRow, 'clientMessageId'>;
  cursors!: EntityTable<CursorRow, 'name'>;
  drafts!: EntityTable<DraftRow, 'conversationId'>;
  meta!: EntityTable<MetaRow, 'key'>;

  constructor(name: string, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores(SCHEMA_V1);
    this.version(2)
      .stores(SCHEMA_V2)
      .upgrade(async (tx) => {
        // v1 rows lacked the search and assignee keys and the outbox's retry bookkeeping.
        await tx
          .table('conversations')
          .toCollection()
          .modify((row: Record<string, unknown>) => {
            const contact = row.contact as { name?: string; handle?: string } | undefined;
            row.searchText = `${contact?.name ?? ''} ${contact?.handle ?? ''}`.toLowerCase();
            row.assigneeKey = typeof row.assigneeId === 'string' ? row.assigneeId : '';
            row.hydrated ??= true;
          });
        await tx
          .table('outbox')
          .toCollection()
          .modify((row: Record<string, unknown>) => {
            row.attempts ??= 0;
            row.lastError ??= null;
            row.refusal ??= null;
          });
      });
  }
}

/** The database name for an account: each agent of each tenant has a copy of their own. */
export function databaseName(tenantId: string, agentId: string): string {
  return `parley:${tenantId}:${agentId}`;
}

/** Derived keys of a conversation row, from its list fields. */
export function withKeys(
  row: Omit<ConversationRow, 'searchText' | 'assigneeKey' | 'hydrated'> & { hydrated?: boolean },
): ConversationRow {
  return {
    ...row,
    searchText: `${row.contact.name} ${row.contact.handle}`.toLowerCase(),
    assigneeKey: row.assigneeId ?? '',
    hydrated: row.hydrated ?? true,
  };
}

/** The conversation id of a `conversation-<id>` stream, or '' for other streams. */
export function conversationIdOf(streamId: string): string {
  return streamId.startsWith('conversation-') ? streamId.slice('conversation-'.length) : '';
}
