-- Retention by period keys (#18, docs/decisions/0031-retention-by-period-keys.md). A contact key
-- now belongs to a conversation and, for message content, to a retention period: the UTC week
-- starting on `period` (a Monday). The conversation's long-lived key, which seals who the contact
-- is (and everything sealed before this migration), has no period. The retention sweep destroys a
-- period's keys once the whole week is older than the tenant's limit; nothing is rewritten.
ALTER TABLE contact_keys ADD COLUMN period date CHECK (period IS NULL OR extract(isodow FROM period) = 1);

-- One live key per conversation and period, and one live long-lived key per conversation.
DROP INDEX contact_keys_live_by_stream;
CREATE UNIQUE INDEX contact_keys_live_by_stream ON contact_keys (tenant_id, stream_id)
  WHERE destroyed_at IS NULL AND period IS NULL;
CREATE UNIQUE INDEX contact_keys_live_by_stream_period ON contact_keys (tenant_id, stream_id, period)
  WHERE destroyed_at IS NULL AND period IS NOT NULL;
-- The sweep: a tenant's live period keys, oldest first.
CREATE INDEX contact_keys_live_periods ON contact_keys (tenant_id, period)
  WHERE destroyed_at IS NULL AND period IS NOT NULL;
