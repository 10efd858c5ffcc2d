import type { SnippetPart } from '@parley/domain';
import { useEffect, useState } from 'react';
import type { ConversationRow, ParleyDb } from '../lib/db/schema';
import { mergeHits, searchDevice, SEARCH_LIMIT, type SearchHit } from '../lib/list-search';
import { hrefOf, navigate } from '../lib/router';
import type { Session } from '../lib/session';

/** A result row: the conversation's id and contact, as both the device and the server give them. */
type Found = Pick<ConversationRow, 'conversationId' | 'contact'>;

const KIND_LABEL = { customer: 'Customer', reply: 'Reply', note: 'Note' } as const;

/**
 * Search results: what this device holds at once (works offline), then the server's full-text
 * results when online, merged; each with its matched words marked (SR3).
 */
export function SearchResults({
  db,
  session,
  query,
  online,
  selectedId,
}: {
  db: ParleyDb;
  session: Session | undefined;
  query: string;
  online: boolean;
  selectedId: string | null;
}) {
  const [device, setDevice] = useState<SearchHit<Found>[] | undefined>(undefined);
  const [server, setServer] = useState<SearchHit<Found>[]>([]);
  const [serverState, setServerState] = useState<'idle' | 'searching' | 'done' | 'failed'>('idle');
  useEffect(() => {
    let current = true;
    void searchDevice(db, query).then((hits) => current && setDevice(hits));
    return () => {
      current = false;
    };
  }, [db, query]);
  useEffect(() => {
    setServer([]);
    if (!session || !online) return setServerState('idle');
    let current = true;
    setServerState('searching');
    // Typing settles before the server is asked.
    const timer = setTimeout(() => {
      session.client.conversations.search
        .query({ query, limit: SEARCH_LIMIT })
        .then((hits) => {
          if (!current) return;
          setServer(hits);
          setServerState('done');
        })
        .catch(() => current && setServerState('failed'));
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [session, query, online]);
  const hits = mergeHits(device ?? [], server);
  const status =
    device === undefined
      ? 'Searching…'
      : `${hits.length} ${hits.length === 1 ? 'result' : 'results'}${
          serverState === 'searching'
            ? ', searching the server…'
            : serverState === 'idle'
              ? ' on this device (offline)'
              : serverState === 'failed'
                ? ' on this device (the server could not be reached)'
                : ''
        }`;
  return (
    <>
      <p className="list-count" aria-live="polite">
        {status}
      </p>
      <div className="list-scroll search-results" data-testid="search-results">
        <ul aria-label="Search results">
          {hits.map((hit) => (
            <li key={hit.conversation.conversationId}>
              <a
                href={hrefOf({ screen: 'conversation', conversationId: hit.conversation.conversationId })}
                aria-current={hit.conversation.conversationId === selectedId ? 'page' : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  navigate({ screen: 'conversation', conversationId: hit.conversation.conversationId });
                }}
              >
                <span className="row-top">
                  <span className="contact-name" dir="auto">
                    {hit.match.field === 'name' ? (
                      <Marked parts={hit.match.parts} />
                    ) : (
                      hit.conversation.contact.name
                    )}
                  </span>
                  {hit.match.field === 'message' ? (
                    <span className="search-kind">{KIND_LABEL[hit.match.kind]}</span>
                  ) : null}
                </span>
                <span className="row-bottom">
                  <span className="preview search-snippet" dir="auto">
                    {hit.match.field === 'name' ? (
                      hit.conversation.contact.handle
                    ) : (
                      <Marked parts={hit.match.parts} />
                    )}
                  </span>
                </span>
              </a>
            </li>
          ))}
        </ul>
      </div>
    </>
  );
}

/** Text with the matched words in `<mark>`: parts are rendered as text, never as markup. */
function Marked({ parts }: { parts: readonly SnippetPart[] }) {
  return (
    <>
      {parts.map((part, index) =>
        part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
      )}
    </>
  );
}
