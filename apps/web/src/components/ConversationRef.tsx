import { useLiveQuery } from '../lib/hooks';
import type { ParleyDb } from '../lib/db/schema';
import { hrefOf, navigate } from '../lib/router';
import { ChannelIcon } from './ChannelIcon';

/**
 * A conversation named as people know it, its contact and channel, as a link to it: admins' lists
 * of retries and dead letters say "Maria Lopez", not a UUID.
 */
export function ConversationRef({ db, conversationId }: { db: ParleyDb; conversationId: string }) {
  const row = useLiveQuery(() => db.conversations.get(conversationId), [db, conversationId]);
  const route = { screen: 'conversation', conversationId } as const;
  return (
    <a
      className="conversation-ref"
      href={hrefOf(route)}
      onClick={(event) => {
        event.preventDefault();
        navigate(route);
      }}
    >
      {row ? (
        <>
          <ChannelIcon platform={row.platform} />
          <bdi dir="auto">{row.contact.name}</bdi>
        </>
      ) : (
        'A conversation not on this device'
      )}
    </a>
  );
}
