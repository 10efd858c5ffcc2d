import type { RecordedEvent } from '@parley/domain';
import type { SyncViewer } from './catch-up';

/**
 * What a device learns of a contact's erasure (decision 0029): the `ContactErased` event with the
 * ids of the erased conversations this viewer may see, and nothing else. The reason (free text an
 * admin wrote, which may name the customer), who erased and the metadata stay on the server. Null
 * when the viewer sees none of the conversations (an agent outside their inboxes): nothing to drop.
 */
export async function erasureNotice(
  event: RecordedEvent,
  viewer?: SyncViewer,
): Promise<RecordedEvent | null> {
  const named = Array.isArray(event.data.conversations) ? event.data.conversations : [];
  const conversations: string[] = [];
  for (const id of named) {
    if (typeof id !== 'string') continue;
    if (!viewer || viewer.scope.all || (await viewer.scope.hasConversation(id))) conversations.push(id);
  }
  if (conversations.length === 0) return null;
  return { ...event, data: { conversations }, metadata: {} };
}
