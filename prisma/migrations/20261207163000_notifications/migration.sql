-- Notifications (#15 item 8, docs/decisions/0026-presence-and-push.md). Each tenant has its own
-- VAPID key pair, made on first start (or first need); the private key is sealed with the tenant
-- key like the channels' secrets. An agent's devices register a Web Push subscription each; the
-- notifications follower writes one row per (event, agent) into push_notifications in the same
-- transaction as its checkpoint, and the sender marks each row sent, so a restart sends nothing twice.
CREATE TABLE push_vapid_keys (
  tenant_id   text           PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  public_key  text           NOT NULL,
  private_key text           NOT NULL,
  created_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE push_subscriptions (
  tenant_id  text           NOT NULL,
  endpoint   text           NOT NULL CHECK (length(endpoint) <= 2000),
  agent_id   text           NOT NULL,
  p256dh     text           NOT NULL,
  auth       text           NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, endpoint),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX push_subscriptions_by_agent ON push_subscriptions (tenant_id, agent_id);

CREATE TABLE notification_settings (
  tenant_id        text           NOT NULL,
  agent_id         text           NOT NULL,
  assigned         boolean        NOT NULL DEFAULT true,
  customer_replied boolean        NOT NULL DEFAULT true,
  mentioned        boolean        NOT NULL DEFAULT true,
  sound            boolean        NOT NULL DEFAULT true,
  updated_at       timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, agent_id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);

-- payload is sealed (it names the contact and quotes the message).
CREATE TABLE push_notifications (
  tenant_id  text           NOT NULL,
  event_id   uuid           NOT NULL,
  agent_id   text           NOT NULL,
  trigger    text           NOT NULL CHECK (trigger IN ('assigned', 'customer_replied', 'mentioned')),
  payload    text           NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  sent_at    timestamptz(3),
  PRIMARY KEY (tenant_id, event_id, agent_id)
);
CREATE INDEX push_notifications_unsent ON push_notifications (created_at) WHERE sent_at IS NULL;

-- The key pair is written by the server process (as the owner); a tenant session only reads it.
SELECT parley_protect_tenant_table('push_vapid_keys', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('push_subscriptions');
SELECT parley_protect_tenant_table('notification_settings');
SELECT parley_protect_tenant_table('push_notifications', 'tenant_id', 'SELECT');
