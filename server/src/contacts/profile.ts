import {
  contact,
  fold,
  StreamCategory,
  streamFor,
  type ContactEvent,
  type ConversationStatus,
  type Platform,
  type StreamId,
  type TenantId,
} from '@parley/domain';
import type { InboxScope } from '../auth/inbox-scope';
import type { Services } from '../services';
import { ConcurrencyError } from '../store/errors';

type ProfileServices = Pick<Services, 'keys' | 'store' | 'grains'>;

/** A note on a contact, as the contact panel lists it. */
export interface ContactNoteView {
  readonly noteId: string;
  readonly agentId: string;
  readonly text: string;
  readonly at: number;
}

/** Another conversation of the same contact, as the contact panel links it. */
export interface ContactConversationView {
  readonly conversationId: string;
  readonly platform: Platform;
  readonly status: ConversationStatus['kind'];
  readonly cycle: number;
  /** The latest customer message or reply of the conversation. */
  readonly lastMessageAt: number;
}

/**
 * The contact's own stream (`contact-<first 40 hex of their keyed hash>`, the stream erasures are
 * recorded on) for one of their conversations; null when the conversation has no contact key.
 */
export async function contactStreamOf(
  services: Pick<Services, 'keys'>,
  tenantId: TenantId,
  conversationId: string,
): Promise<StreamId | null> {
  const ref = await services.keys.refOfStream(
    tenantId,
    streamFor(StreamCategory.conversation, conversationId),
  );
  return ref === undefined ? null : (`${StreamCategory.contact}-${ref.slice(0, 40)}` as StreamId);
}

/** The notes on a contact, oldest first (their text opened with the contact's key, or erased). */
export async function contactNotes(
  services: Pick<Services, 'store'>,
  tenantId: TenantId,
  streamId: StreamId,
): Promise<ContactNoteView[]> {
  const events = await services.store.readStream(tenantId, streamId);
  return events.flatMap((event) => {
    if (event.type !== 'ContactNoteAdded') return [];
    const { noteId, agentId, text, at } = event.data as unknown as ContactNoteView;
    return [{ noteId, agentId, text, at }];
  });
}

/** Every conversation of the conversation's contact, this one included: each stream that ever held a key of theirs. */
export async function contactConversationIds(
  services: Pick<ProfileServices, 'keys'>,
  tenantId: TenantId,
  conversationId: string,
): Promise<string[]> {
  const ref = await services.keys.refOfStream(
    tenantId,
    streamFor(StreamCategory.conversation, conversationId),
  );
  if (ref === undefined) return [conversationId];
  const prefix = `${StreamCategory.conversation}-`;
  const ids = (await services.keys.streamsOf(tenantId, ref))
    .filter((stream) => stream.startsWith(prefix))
    .map((stream) => stream.slice(prefix.length));
  return [...new Set([conversationId, ...ids])];
}

/**
 * The contact's other conversations the agent may see (decision 0015), newest first: every
 * conversation stream that ever held a key of theirs, but this one.
 */
export async function otherConversations(
  services: ProfileServices,
  tenantId: TenantId,
  conversationId: string,
  scope: InboxScope,
): Promise<ContactConversationView[]> {
  const views: ContactConversationView[] = [];
  for (const id of await contactConversationIds(services, tenantId, conversationId)) {
    if (id === conversationId || !(await scope.hasConversation(id))) continue;
    const { state } = await services.grains.conversation(tenantId, id).read();
    if (!state) continue;
    const replies = [...state.replies.values()].map((reply) => reply.queuedAt);
    views.push({
      conversationId: id,
      platform: state.platform,
      status: state.status.kind,
      cycle: state.cycle,
      lastMessageAt: Math.max(state.lastCustomerMessageAt, ...replies),
    });
  }
  return views.sort((a, b) => b.lastMessageAt - a.lastMessageAt);
}

/**
 * Adds a note to the contact through the contact decider (CT2, CT3), appended on the contact's
 * stream at the version it was decided on; a concurrent note makes it decide once more.
 */
export async function addContactNote(
  services: Pick<Services, 'store'>,
  tenantId: TenantId,
  streamId: StreamId,
  note: { noteId: string; agentId: string; text: string; at: number },
): Promise<{ added: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const recorded = await services.store.readStream(tenantId, streamId);
    const state = fold(
      contact,
      contact.initialState(),
      recorded.map((event) => ({ type: event.type, data: event.data }) as unknown as ContactEvent),
    );
    const events = contact.decide({ type: 'AddContactNote', data: note }, state);
    if (events.length === 0) return { added: false };
    try {
      await services.store.append(
        tenantId,
        streamId,
        events.map((event) => ({
          type: event.type,
          data: event.data,
          metadata: { actor: { kind: 'agent', id: note.agentId } },
        })),
        { expectedVersion: recorded.at(-1)?.version ?? 0 },
      );
      return { added: true };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= 2) throw error;
    }
  }
}
