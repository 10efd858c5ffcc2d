-- Channel setup from Settings (#17, decision 0038): a web chat widget's look, pre-chat form and
-- allowed origins, and channel names unique per tenant (without case) so two admins connecting
-- "Sales" at once cannot both win. The table keeps its row-level security policy.
ALTER TABLE channels ADD COLUMN widget jsonb;
CREATE UNIQUE INDEX channels_tenant_name ON channels (tenant_id, lower(name));
-- The setup screen shows each app's latest delivery: one index step per app.
CREATE INDEX webhook_inbox_app_latest ON webhook_inbox (app_id, id);
