import Dexie, { type DexieOptions, type EntityTable } from 'dexie';
import {
  searchableText,
  searchTerms,
  type ClientCommand,
  type ConversationEvent,
  type ConversationSummary,
} from '@parley/domain';

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
  /** The words of a message, reply or note (rule SR2), for offline search (schema v4); set on every write. */
  readonly terms?: readonly string[];
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
  /**
   * Set while the row shows this device's acknowledged events ahead of sync: the row as sync last
   * confirmed it, onto which sync folds the real events (`sync/summary.ts`, `withDeviceEvents`).
   */
  readonly confirmed?: ConversationRow;
}

/** Why the server (or this device, for a request it cannot ever accept) refused a reply for good. */
export interface Refusal {
  readonly code: string;
  readonly rule: string | null;
  readonly message: string;
  readonly hint: string | null;
  /** The refused command was queued offline: its sentence may say so (`describeRefusal`, CC3). */
  readonly queuedOffline?: boolean;
}

/**
 * A command in the outbox (issue #14: every agent command on a conversation, not only replies).
 * While `sequence` is set it waits to be sent, in sequence order, numbered in one sequence with
 * every other command of this device; a refused command loses its sequence (so it leaves the
 * index the flusher reads) and keeps its reason until the agent edits, replaces or discards it.
 */
export interface OutboxRow {
  /**
   * The command's id, the table's key: a reply's `clientMessageId`, a note's `noteId`, a fresh id
   * for the others. (The name is the v1 key path, which IndexedDB cannot rename.)
   */
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly sequence?: number;
  /** What the agent asked, as the server's `conversations.commandBatch` takes it (schema v3). */
  readonly command: ClientCommand;
  readonly agentId: string;
  readonly createdAt: number;
  /** How many times a request carried it; 0 means the server has never seen it. */
  readonly attempts: number;
  /**
   * The client id and number the last request carried it under (set by the flusher as it sends).
   * The server names them in the metadata of the events the command makes (`command`), so once
   * sync brings those the screens stop showing it as pending, even if its answer was lost.
   */
  readonly sent?: CommandRef;
  readonly lastError: string | null;
  readonly refusal: Refusal | null;
  /** Queued while the device was offline (the refusal's wording depends on it, rule CC3). */
  readonly queuedOffline?: true;
  /** The sequence the refused command had; kept for the record only. */
  readonly refusedSequence?: number;
  /**
   * What the domain's `decide` made of the command on this device when it was queued (decision
   * 0019). The screens decide pending commands again on the newest state (`rebase`); this copy is
   * what the flusher shows as provisional events once the server has acknowledged a reply.
   */
  readonly decided?: readonly ConversationEvent[];
}

/** Which numbered command of which device made an event: the server's `metadata.command`. */
export interface CommandRef {
  readonly clientId: string;
  readonly sequence: number;
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
export const SCHEMA_VERSION = 4;

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

/** v3 changes no index: outbox rows hold a command (`OutboxRow.command`) instead of a reply's content. */
export const SCHEMA_V3 = SCHEMA_V2;

/** v4 indexes the words of messages, replies and notes (`EventRow.terms`) for offline search. */
export const SCHEMA_V4 = {
  ...SCHEMA_V3,
  events: '[streamId+version], [conversationId+version], *terms',
} as const;

/** What the server reads for a field whose key was destroyed (decisions 0022, 0031). */
const ERASED_TEXT = '[erased]';

/** The distinct search words of a stored event (SR2, SR4); none for events that carry no text. */
export function termsOf(row: Pick<EventRow, 'type' | 'data' | 'conversationId'>): string[] {
  if (row.conversationId === '') return [];
  try {
    const found = searchableText({ type: row.type, data: row.data } as unknown as ConversationEvent);
    // Content the server reads as erased (an erasure, retention) has no words to find.
    if (found === null || found.text === ERASED_TEXT) return [];
    return [...new Set(searchTerms(found.text))];
  } catch {
    // An event of another shape (a newer server's) is stored all the same, unsearchable.
    return [];
  }
}

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
    this.version(3)
      .stores(SCHEMA_V3)
      .upgrade(async (tx) => {
        // Replies queued before #14 become `QueueReply` commands, keeping their key, number and state.
        await tx
          .table('outbox')
          .toCollection()
          .modify((row: Record<string, unknown>) => {
            if (row.command !== undefined) return;
            row.command = {
              type: 'QueueReply',
              clientMessageId: row.clientMessageId,
              content: row.content,
              tag: row.tag ?? null,
            };
            delete row.content;
            delete row.tag;
          });
      });
    this.version(4)
      .stores(SCHEMA_V4)
      .upgrade(async (tx) => {
        await tx
          .table('events')
          .toCollection()
          .modify((row: EventRow & { terms?: string[] }) => {
            row.terms = termsOf(row);
          });
      });
    // Every event written (sync, the outbox's provisional copies) gets its words, whoever writes it.
    this.use({
      stack: 'dbcore',
      name: 'event-terms',
      create: (down) => ({
        ...down,
        table: (name) => {
          const table = down.table(name);
          if (name !== 'events') return table;
          return {
            ...table,
            mutate: (request) =>
              request.type === 'add' || request.type === 'put'
                ? table.mutate({
                    ...request,
                    values: request.values.map((value: EventRow) => ({ ...value, terms: termsOf(value) })),
                  })
                : table.mutate(request),
          };
        },
      }),
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
