import { contactReach } from '../lib/contact-facts';
import type { ConversationRow } from '../lib/db/schema';
import { goBack } from '../lib/router';
import { Avatar } from './Avatar';
import { ChannelIcon } from './ChannelIcon';
import { LineIcon } from './LineIcon';
import { RelativeTime } from './RelativeTime';

/**
 * A conversation's header, on one line: back (narrow screens), the contact's avatar, name, channel,
 * handle and last activity, and the contact drawer's toggle (narrow screens).
 */
export function ConversationHeader({
  row,
  now,
  contactOpen,
  onContact,
}: {
  row: ConversationRow;
  now: number;
  contactOpen: boolean;
  onContact: () => void;
}) {
  return (
    <header className="conversation-header">
      <button
        type="button"
        className="ghost back icon-button"
        aria-label="Back to inbox"
        onClick={() => goBack({ screen: 'inbox' })}
      >
        <LineIcon name="back" />
      </button>
      <Avatar name={row.contact.name} id={row.contact.id} size={36} />
      <div className="conversation-title">
        <h2 id="conversation-heading" dir="auto">
          {row.contact.name}
        </h2>
        <span className="muted conversation-sub">
          <ChannelIcon platform={row.platform} />{' '}
          {row.contact.handle || row.platform === 'webchat' ? (
            <>
              {/* A web-chat visitor has no handle: their e-mail, or "Web visitor" and the page. */}
              <bdi dir="auto">{contactReach(row.platform, row.contact)}</bdi> ·{' '}
            </>
          ) : null}
          <RelativeTime at={row.lastActivityAt} now={now} />
        </span>
      </div>
      <button
        type="button"
        className="ghost contact-toggle icon-button"
        aria-label="Contact details"
        aria-expanded={contactOpen}
        onClick={onContact}
      >
        <LineIcon name="info" />
      </button>
    </header>
  );
}
