-- The analytics projection (#16, docs/decisions/0020-metrics-as-domain-rules.md): reporting tables
-- fed from the global log by server/src/projections/analytics.ts. Every row is a function of the
-- log: `npm run parley -- projections rebuild analytics` deletes them and replays it.

-- The metrics fold of each conversation (the domain's MetricsState without its schedule) and the
-- stream version folded so far: an event is applied once, when it is the next version, so a replay
-- or a restart never counts it twice. `outbound` remembers where each queued reply was counted,
-- so a failure takes it off the same counters.
CREATE TABLE analytics_conversations (
  tenant_id       text    NOT NULL,
  conversation_id text    NOT NULL,
  version         integer NOT NULL,
  state           jsonb   NOT NULL,
  outbound        jsonb   NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, conversation_id)
);

-- One row per conversation cycle (CycleStarted to CycleEnded), rewritten from the fold on each change.
-- Durations in ms, calendar and business (the inbox's hours; 24/7 while inboxes have no schedule).
CREATE TABLE analytics_cycles (
  tenant_id                  text           NOT NULL,
  conversation_id            text           NOT NULL,
  cycle                      integer        NOT NULL,
  inbox_id                   text,
  platform                   text,
  assignee_id                text,
  labels                     text[]         NOT NULL DEFAULT '{}',
  started_at                 timestamptz(3) NOT NULL,
  reopened                   boolean        NOT NULL,
  resolved_at                timestamptz(3),
  resolution_calendar_ms     bigint,
  resolution_business_ms     bigint,
  first_customer_at          timestamptz(3),
  first_response_at          timestamptz(3),
  first_response_agent_id    text,
  first_response_calendar_ms bigint,
  first_response_business_ms bigint,
  messages_in                integer        NOT NULL,
  messages_out               integer        NOT NULL,
  sla_breached               text[]         NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, conversation_id, cycle)
);
CREATE INDEX analytics_cycles_started ON analytics_cycles (tenant_id, started_at);
CREATE INDEX analytics_cycles_resolved ON analytics_cycles (tenant_id, resolved_at);

-- Every human reply that ended a customer's wait (first and next responses), with the dimensions.
CREATE TABLE analytics_responses (
  tenant_id         text           NOT NULL,
  conversation_id   text           NOT NULL,
  cycle             integer        NOT NULL,
  seq               integer        NOT NULL,
  kind              text           NOT NULL CHECK (kind IN ('first', 'next')),
  inbox_id          text,
  platform          text,
  labels            text[]         NOT NULL DEFAULT '{}',
  agent_id          text           NOT NULL,
  customer_at       timestamptz(3) NOT NULL,
  replied_at        timestamptz(3) NOT NULL,
  calendar_ms       bigint         NOT NULL,
  business_ms       bigint         NOT NULL,
  PRIMARY KEY (tenant_id, conversation_id, cycle, seq)
);
CREATE INDEX analytics_responses_replied ON analytics_responses (tenant_id, replied_at);

-- Daily counters (UTC days) per dimension: 'tenant' (key ''), 'inbox', 'agent', 'channel', 'label'.
CREATE TABLE analytics_daily (
  tenant_id     text    NOT NULL,
  day           date    NOT NULL,
  dimension     text    NOT NULL CHECK (dimension IN ('tenant', 'inbox', 'agent', 'channel', 'label')),
  key           text    NOT NULL,
  opened        integer NOT NULL DEFAULT 0,
  resolved      integer NOT NULL DEFAULT 0,
  reopened      integer NOT NULL DEFAULT 0,
  messages_in   integer NOT NULL DEFAULT 0,
  messages_out  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day, dimension, key)
);

-- Only the projection (as the owner) writes these; a tenant-scoped session reads its own rows.
SELECT parley_protect_tenant_table('analytics_conversations', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('analytics_cycles', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('analytics_responses', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('analytics_daily', 'tenant_id', 'SELECT');
