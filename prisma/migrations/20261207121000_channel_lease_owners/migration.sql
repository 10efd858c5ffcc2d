-- Leases name their owner (#13 SC, SD). Each process running the channels registers itself here
-- and beats every few seconds; on start it frees the leases of its own dead predecessor (same
-- node, process gone) at once, and any process frees those of an owner whose heartbeat is stale,
-- instead of waiting for the rows' `locked_until`.
CREATE TABLE channel_workers (
  id           text           PRIMARY KEY,
  -- PARLEY_NODE_ID, or host name and DATA_DIR: the slot a restarted process takes over.
  node         text           NOT NULL,
  pid          integer        NOT NULL,
  started_at   timestamptz(3) NOT NULL DEFAULT now(),
  heartbeat_at timestamptz(3) NOT NULL DEFAULT now()
);

ALTER TABLE webhook_inbox ADD COLUMN locked_by text;
-- The conversations a delivery failed in, kept with its retry: later deliveries of those
-- conversations wait for it, in this process and in the next one after a restart.
ALTER TABLE webhook_inbox ADD COLUMN conversation_ids text[];
CREATE INDEX webhook_inbox_locked_by ON webhook_inbox (locked_by) WHERE status = 'processing';

-- `send_started_at` is set just before a send's request and cleared when its outcome is recorded:
-- a row claimed with it set was mid-send when its sender died (the platform may have it).
ALTER TABLE channel_outbox ADD COLUMN locked_by text;
ALTER TABLE channel_outbox ADD COLUMN send_started_at timestamptz(3);
CREATE INDEX channel_outbox_locked_by ON channel_outbox (locked_by) WHERE status = 'sending';
