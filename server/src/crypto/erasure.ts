import { contact, StreamCategory, type StreamId, type TenantId } from '@parley/domain';
import type { GrainRuntime } from '../actors/runtime';
import type { Attachments } from '../attachments';
import { completeFileOwners } from '../attachments/owners';
import type { Database } from '../db/database';
import type { SqlEventStore } from '../store/sql-store';
import { ERASED } from './event-codec';
import type { KeyStore } from './keys';

/** What erasing needs of a Parley process; without a runtime or projections (the CLI) they are skipped. */
export interface ErasureServices {
  readonly db: Database;
  readonly store: SqlEventStore;
  readonly keys: KeyStore;
  readonly runtime?: Pick<GrainRuntime, 'forget'>;
  readonly projections?: Readonly<Record<string, { rebuild(): Promise<void> }>>;
  /** The stored files; without it (a test of the log alone) no file's bytes are deleted. */
  readonly attachments?: Pick<Attachments, 'releaseConversations'>;
}

/** Which contact: their platform id (as in the conversation's contact), or one of their conversations. */
export type ContactSelector = { readonly contactId: string } | { readonly conversationId: string };

export interface ErasureRequest {
  readonly tenantId: TenantId;
  readonly contact: ContactSelector;
  readonly reason: string;
  /** The admin (agent id) or `cli:<user>` who erased. */
  readonly erasedBy: string;
  readonly at: number;
}

export interface ErasureResult {
  readonly conversations: string[];
  readonly keysDestroyed: number;
  /** The stored files whose bytes were deleted: those no other contact's conversation names. */
  readonly filesDeleted: number;
  /** The stream that records the erasure (`contact-<keyed hash>`). */
  readonly streamId: string;
}

export class ContactNotFoundError extends Error {
  override readonly name = 'ContactNotFoundError';
}

const EMPTY_CONTENT = JSON.stringify({ type: 'text', text: ERASED });

/**
 * Erases a contact by crypto-shredding (docs/decisions/0022): decides `ContactErased` (refused
 * before anything is destroyed when the reason is blank), records which stored files the contact's
 * conversations name (it needs their keys), destroys the contact's keys, appends the event,
 * deletes or scrubs the clear copies outside the event log (snapshots, the channels' queues and
 * routes), drops the clear values this process holds in memory, and last deletes the files only
 * those conversations named. Every step is idempotent: a run cut short is completed by running
 * it again (the contact is found by their keys' rows, which stay).
 */
export async function eraseContact(
  services: ErasureServices,
  request: ErasureRequest,
): Promise<ErasureResult> {
  const { db, store, keys, tenantId } = { ...services, tenantId: request.tenantId };
  const ref =
    'contactId' in request.contact
      ? await keys.contactRef(tenantId, request.contact.contactId)
      : await keys.refOfStream(tenantId, `${StreamCategory.conversation}-${request.contact.conversationId}`);
  if (ref === undefined)
    throw new ContactNotFoundError('no conversation of that contact holds personal data');
  const streamIds = await keys.streamsOf(tenantId, ref);
  if (streamIds.length === 0)
    throw new ContactNotFoundError('no conversation of that contact holds personal data');
  // The contact's own stream (their notes) has a key of theirs too; it is no conversation.
  const conversations = streamIds
    .filter((s) => s.startsWith(`${StreamCategory.conversation}-`))
    .map((s) => s.slice(StreamCategory.conversation.length + 1));
  const streamId = `${StreamCategory.contact}-${ref.slice(0, 40)}`;
  // The decider looks only at the command, so the stream's earlier erasures need not be read.
  const events = contact.decide(
    {
      type: 'EraseContact',
      data: { reason: request.reason, erasedBy: request.erasedBy, conversations, at: request.at },
    },
    contact.initialState(),
  );

  // Before the keys go: which files the conversations name is read from their sealed events.
  if (services.attachments) await completeFileOwners({ sql: db.sql, store }, tenantId, conversations);
  const destroyed = await keys.destroyContactRef(tenantId, ref);
  await store.append(
    tenantId,
    streamId as StreamId,
    events.map((event) => ({ type: event.type, data: event.data, metadata: { actor: request.erasedBy } })),
    { expectedVersion: 'any' },
  );
  const forget = () => {
    for (const stream of streamIds) {
      store.hot.invalidate(`${tenantId}/${stream}`);
      services.runtime?.forget(tenantId, stream as StreamId);
    }
  };
  forget(); // first, so no activation saves a clear snapshot after the scrub deletes them
  await scrubOutsideTheLog(db, tenantId, streamIds, conversations, request.contact);
  forget();
  for (const projection of Object.values(services.projections ?? {})) await projection.rebuild();
  // Last: the bytes are gone for good, so everything before must have been done (or be redone).
  const files = (await services.attachments?.releaseConversations(tenantId, conversations)) ?? [];
  return { conversations, keysDestroyed: destroyed, filesDeleted: files.length, streamId };
}

/**
 * The clear copies of a contact's data outside the event log: grain snapshots (deleted, the
 * next load folds the erased events), the search index's words, the channels' routes and queues,
 * and raw webhook bodies.
 * A reply still waiting to be sent is not sent: it becomes `dead` with its content erased.
 */
async function scrubOutsideTheLog(
  db: Database,
  tenantId: TenantId,
  streamIds: readonly string[],
  conversations: readonly string[],
  selector: ContactSelector,
): Promise<void> {
  await db.sql.transaction(async (tx) => {
    await tx.query('DELETE FROM snapshots WHERE tenant_id = $1 AND stream_id = ANY($2::text[])', [
      tenantId,
      streamIds,
    ]);
    // The search index's words of the contact's messages (0025); it writes none of them again.
    await tx.query('DELETE FROM search_messages WHERE tenant_id = $1 AND conversation_id = ANY($2::text[])', [
      tenantId,
      conversations,
    ]);
    const routes = await tx.query<{ contact_id: string }>(
      `DELETE FROM channel_contacts WHERE tenant_id = $1 AND conversation_id = ANY($2::text[])
       RETURNING contact_id`,
      [tenantId, conversations],
    );
    await tx.query(
      `UPDATE channel_outbox
          SET reply = jsonb_set(reply, '{content}', $3::jsonb), recipient = NULL,
              status = CASE WHEN status IN ('pending', 'sending') THEN 'dead' ELSE status END,
              last_error = CASE WHEN status IN ('pending', 'sending') THEN 'the contact was erased' ELSE last_error END,
              locked_until = NULL
        WHERE tenant_id = $1 AND conversation_id = ANY($2::text[])`,
      [tenantId, conversations, EMPTY_CONTENT],
    );
    const platformIds = new Set(routes.map((r) => r.contact_id));
    if ('contactId' in selector) platformIds.add(selector.contactId);
    for (const platformId of platformIds) {
      await tx.query(
        `UPDATE webhook_inbox SET body = '{}', subject = NULL, last_error = NULL
          WHERE tenant_id = $1 AND status IN ('processed', 'dead')
            AND (strpos(body, $2) > 0 OR subject = $2)`,
        [tenantId, platformId],
      );
      await tx.query(
        `UPDATE webhook_rejections SET excerpt = $3 WHERE tenant_id = $1 AND strpos(excerpt, $2) > 0`,
        [tenantId, platformId, ERASED],
      );
      await tx.query('DELETE FROM webchat_messages WHERE tenant_id = $1 AND visitor_id = $2', [
        tenantId,
        platformId,
      ]);
    }
  });
}
