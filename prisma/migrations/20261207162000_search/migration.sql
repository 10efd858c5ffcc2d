-- Full-text search over conversations (#15, docs/decisions/0025-full-text-search.md), fed from the
-- log by server/src/search/search-index.ts. The words are the domain's terms (`searchTerms`: lower-
-- cased runs of letters and digits) in PostgreSQL's `simple` configuration, which PGlite has too.
-- The message text itself stays sealed in the log (0022): a result's snippet is made from the event
-- read through the store. These rows hold a contact's words, so erasing the contact deletes them.

-- Which inbox each conversation belongs to (it never moves), so a search keeps to an agent's inboxes.
CREATE TABLE search_conversations (
  tenant_id       text NOT NULL,
  conversation_id text NOT NULL,
  inbox_id        text NOT NULL,
  PRIMARY KEY (tenant_id, conversation_id)
);
CREATE INDEX search_conversations_inbox ON search_conversations (tenant_id, inbox_id);

-- The searchable words of each message, reply and note: one row per event (its stream version).
CREATE TABLE search_messages (
  tenant_id       text           NOT NULL,
  conversation_id text           NOT NULL,
  version         integer        NOT NULL,
  kind            text           NOT NULL CHECK (kind IN ('customer', 'reply', 'note')),
  at              timestamptz(3) NOT NULL,
  words           tsvector       NOT NULL,
  PRIMARY KEY (tenant_id, conversation_id, version)
);
CREATE INDEX search_messages_words ON search_messages USING gin (words);

-- Only the index (as the owner) writes these; a tenant-scoped session reads its own rows.
SELECT parley_protect_tenant_table('search_conversations', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('search_messages', 'tenant_id', 'SELECT');
