-- The secret sync cursors are sealed with (docs/decisions/0016-opaque-sync-cursors.md): 32 random
-- bytes in hex, written once by the first process that needs it (server/src/sync/cursor.ts), so
-- cursors survive restarts and every process of a deployment opens the others' cursors. No grant
-- to parley_app: only the owner role reads it.
CREATE TABLE sync_cursor_key (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  secret    text    NOT NULL CHECK (secret ~ '^[0-9a-f]{64}$')
);
