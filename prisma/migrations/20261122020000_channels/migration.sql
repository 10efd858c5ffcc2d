-- Channels: webhook apps and channels per tenant, the durable inbox of webhook deliveries, the
-- rejections kept for inspection, the transactional outbox of replies and the web chat mailbox.
-- Design: docs/decisions/0008-channel-inbox-and-outbox.md. Every table carries tenant_id and a
-- row-level security policy on parley.tenant_id (the owner role the server uses bypasses it).

-- An app is what signs webhooks: a Meta app (WhatsApp, or Instagram + Messenger), a Telegram bot,
-- a web chat widget. Its secret rotates: the previous one stays valid until it expires.
CREATE TABLE channel_apps (
  app_id                     text           PRIMARY KEY CHECK (app_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  tenant_id                  text           NOT NULL,
  kind                       text           NOT NULL CHECK (kind IN ('whatsapp', 'meta', 'telegram', 'webchat')),
  secret                     text           NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz(3),
  verify_token               text,
  created_at                 timestamptz(3) NOT NULL DEFAULT now(),
  updated_at                 timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX channel_apps_tenant ON channel_apps (tenant_id);

-- One channel is one address customers write to: a phone number, a page, an Instagram account, a bot.
CREATE TABLE channels (
  tenant_id    text           NOT NULL,
  channel_id   text           NOT NULL,
  app_id       text           NOT NULL REFERENCES channel_apps (app_id) ON DELETE CASCADE,
  platform     text           NOT NULL CHECK (platform IN ('whatsapp', 'instagram', 'messenger', 'telegram', 'webchat')),
  external_id  text           NOT NULL,
  name         text           NOT NULL,
  inbox_id     text           NOT NULL,
  -- 'simulator:<kind>' for the local simulators, or the platform's real API base URL.
  api_base_url text           NOT NULL,
  access_token text           NOT NULL DEFAULT '',
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  updated_at   timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, channel_id),
  UNIQUE (platform, external_id)
);
CREATE INDEX channels_app ON channels (app_id);

-- Where a conversation's replies go: written when its first customer message is processed.
CREATE TABLE channel_contacts (
  tenant_id       text           NOT NULL,
  conversation_id text           NOT NULL,
  channel_id      text           NOT NULL,
  contact_id      text           NOT NULL,
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, conversation_id)
);

-- Every signed delivery, raw, before it is processed. dedupe_key (sha256 of the sender and the
-- body) makes a platform's identical redelivery store nothing new.
CREATE TABLE webhook_inbox (
  id              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text           NOT NULL,
  app_id          text           NOT NULL,
  kind            text           NOT NULL CHECK (kind IN ('whatsapp', 'meta', 'telegram', 'webchat')),
  -- Who the delivery is authenticated as beyond the app: the web chat visitor; null otherwise.
  subject         text,
  body            text           NOT NULL,
  dedupe_key      text           NOT NULL,
  status          text           NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'processing', 'processed', 'dead')),
  attempts        integer        NOT NULL DEFAULT 0,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  locked_until    timestamptz(3),
  last_error_code text,
  last_error      text,
  received_at     timestamptz(3) NOT NULL DEFAULT now(),
  processed_at    timestamptz(3),
  UNIQUE (app_id, dedupe_key)
);
CREATE INDEX webhook_inbox_due ON webhook_inbox (id) WHERE status IN ('pending', 'processing');
CREATE INDEX webhook_inbox_dead ON webhook_inbox (tenant_id, id) WHERE status = 'dead';

-- Deliveries refused after the app was known (malformed JSON, too large), kept for inspection.
-- Unsigned or forged deliveries are not kept: anyone could fill this table with them.
CREATE TABLE webhook_rejections (
  id          bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text           NOT NULL,
  app_id      text           NOT NULL,
  reason      text           NOT NULL CHECK (reason IN ('malformed', 'too_large')),
  http_status integer        NOT NULL,
  size_bytes  integer        NOT NULL,
  excerpt     text           NOT NULL,
  received_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX webhook_rejections_tenant ON webhook_rejections (tenant_id, id);

-- The transactional outbox: one row per queued reply, written in the transaction of its
-- ReplyQueued event. id order is queue order within a conversation (its grain runs one command at
-- a time), and a row is sent only once no earlier row of its conversation is pending or sending.
CREATE TABLE channel_outbox (
  id                  bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id           text           NOT NULL,
  conversation_id     text           NOT NULL,
  client_message_id   text           NOT NULL,
  -- Null when the conversation has no channel route: the dispatcher fails the reply, visibly.
  channel_id          text,
  recipient           text,
  reply               jsonb          NOT NULL,
  status              text           NOT NULL DEFAULT 'pending'
                                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
  attempts            integer        NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz(3) NOT NULL DEFAULT now(),
  locked_until        timestamptz(3),
  platform_message_id text,
  last_error          text,
  created_at          timestamptz(3) NOT NULL DEFAULT now(),
  sent_at             timestamptz(3),
  UNIQUE (tenant_id, conversation_id, client_message_id)
);
CREATE INDEX channel_outbox_due ON channel_outbox (id) WHERE status IN ('pending', 'sending');
CREATE INDEX channel_outbox_open ON channel_outbox (tenant_id, conversation_id, id)
  WHERE status IN ('pending', 'sending');
CREATE INDEX channel_outbox_platform_id ON channel_outbox (tenant_id, platform_message_id)
  WHERE platform_message_id IS NOT NULL;

-- Replies to web chat visitors, fetched by the widget: web chat's "platform API" is this table.
CREATE TABLE webchat_messages (
  id          bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text           NOT NULL,
  channel_id  text           NOT NULL,
  visitor_id  text           NOT NULL,
  message_id  text           NOT NULL,
  -- The sender's idempotency key: a resend of the same reply finds its first row.
  send_key    text           NOT NULL,
  content     jsonb          NOT NULL,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, send_key)
);
CREATE INDEX webchat_messages_visitor ON webchat_messages (channel_id, visitor_id, id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['channel_apps', 'channels', 'channel_contacts', 'webhook_inbox',
                           'webhook_rejections', 'channel_outbox', 'webchat_messages'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''parley.tenant_id'', true))',
      t);
    -- The request-scoped role is made by the accounts migration; grant only where it exists.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'parley_app') THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO parley_app', t);
    END IF;
  END LOOP;
END
$$;
