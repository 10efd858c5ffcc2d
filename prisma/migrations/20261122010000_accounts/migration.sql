-- Accounts (tenants, agents, teams, sessions), the API's own tables, and row-level security on
-- every tenant table. Design: docs/decisions/0006-tenant-isolation-with-row-level-security.md.

-- ---- the tenant role ----

-- Tenant-scoped request work runs as parley_app (SET LOCAL ROLE in its transaction); the store and
-- system processes keep the connecting role, which owns the tables and so is not subject to the
-- policies. Roles belong to the whole cluster: another database may have created it already.
DO $$
BEGIN
  CREATE ROLE parley_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- A superuser may switch to any role; any other connecting role must be a member of parley_app.
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'parley_app', 'MEMBER') THEN
    EXECUTE format('GRANT parley_app TO %I', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO parley_app;

-- Grants parley_app a tenant table and lets it see only the rows of the tenant named by the
-- transaction's `parley.tenant_id` setting: no setting, no rows. Later migrations call it for each
-- table they add that has a tenant column.
CREATE FUNCTION parley_protect_tenant_table(
  target regclass,
  tenant_column text DEFAULT 'tenant_id',
  privileges text DEFAULT 'SELECT, INSERT, UPDATE, DELETE'
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF privileges !~ '^(SELECT|INSERT|UPDATE|DELETE)(, (SELECT|INSERT|UPDATE|DELETE))*$' THEN
    RAISE EXCEPTION 'privileges must list SELECT, INSERT, UPDATE or DELETE, got %', privileges;
  END IF;
  EXECUTE format('GRANT %s ON %s TO parley_app', privileges, target);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s TO parley_app '
    'USING (%I = current_setting(''parley.tenant_id'', true)) '
    'WITH CHECK (%I = current_setting(''parley.tenant_id'', true))',
    target, tenant_column, tenant_column
  );
END
$$;

-- ---- accounts ----

CREATE TABLE tenants (
  id         text           PRIMARY KEY CHECK (id ~ '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'),
  name       text           NOT NULL CHECK (btrim(name) <> ''),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  tenant_id     text           NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id            text           NOT NULL,
  email         text           NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
  name          text           NOT NULL CHECK (btrim(name) <> ''),
  role          text           NOT NULL CHECK (role IN ('admin', 'agent')),
  password_hash text           NOT NULL,
  presence      text           NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  updated_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);

CREATE TABLE teams (
  tenant_id  text           NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id         text           NOT NULL,
  name       text           NOT NULL CHECK (btrim(name) <> ''),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE team_members (
  tenant_id text NOT NULL,
  team_id   text NOT NULL,
  agent_id  text NOT NULL,
  PRIMARY KEY (tenant_id, team_id, agent_id),
  FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);

-- A session is found by the SHA-256 of its cookie's secret, so a copy of this table signs no one in.
CREATE TABLE sessions (
  tenant_id    text           NOT NULL,
  token_hash   text           NOT NULL,
  agent_id     text           NOT NULL,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  last_seen_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at   timestamptz(3) NOT NULL,
  PRIMARY KEY (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_by_agent ON sessions (tenant_id, agent_id);

-- ---- catalogues the PWA reads ----

CREATE TABLE message_templates (
  tenant_id   text    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text    NOT NULL,
  language    text    NOT NULL,
  approved    boolean NOT NULL,
  param_count integer NOT NULL CHECK (param_count >= 0),
  body        text    NOT NULL,
  PRIMARY KEY (tenant_id, name, language)
);

CREATE TABLE canned_responses (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id        text NOT NULL,
  shortcut  text NOT NULL CHECK (shortcut ~ '^[a-z0-9-]{1,32}$'),
  text      text NOT NULL CHECK (btrim(text) <> ''),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, shortcut)
);

-- ---- replies in client order (docs/sync-protocol.md) ----

-- The last sequence number each client (one installation of the PWA) had applied; it moves in the
-- same transaction as the reply's events.
CREATE TABLE client_sequences (
  tenant_id     text           NOT NULL,
  agent_id      text           NOT NULL,
  client_id     text           NOT NULL,
  last_sequence bigint         NOT NULL CHECK (last_sequence >= 0),
  updated_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, agent_id, client_id)
);

-- The answer given to each applied sequence number, so a resent reply gets the same answer.
CREATE TABLE client_replies (
  tenant_id         text           NOT NULL,
  agent_id          text           NOT NULL,
  client_id         text           NOT NULL,
  sequence          bigint         NOT NULL,
  client_message_id text           NOT NULL,
  outcome           jsonb          NOT NULL,
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, agent_id, client_id, sequence)
);

-- Identifies this database's event log in sync cursors, so a cursor from another database (or one
-- rebuilt from scratch) is answered with a resync instead of silently skipping events.
CREATE TABLE sync_epoch (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  epoch     text    NOT NULL
);
INSERT INTO sync_epoch (epoch) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12));

-- ---- row-level security on every tenant table ----

SELECT parley_protect_tenant_table('tenants', 'id');
SELECT parley_protect_tenant_table('agents');
SELECT parley_protect_tenant_table('teams');
SELECT parley_protect_tenant_table('team_members');
SELECT parley_protect_tenant_table('sessions');
SELECT parley_protect_tenant_table('message_templates');
SELECT parley_protect_tenant_table('canned_responses');
SELECT parley_protect_tenant_table('client_sequences');
SELECT parley_protect_tenant_table('client_replies');
-- The event store's tables, read-only for tenants: only the store writes them, as the owner, across
-- tenants in one group commit. (Day partitions get no grant: parley_app reads events through the
-- parent table, where the policy applies.)
SELECT parley_protect_tenant_table('streams', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('events', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('append_idempotency', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('snapshots', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('archived_stream_ranges', 'tenant_id', 'SELECT');
GRANT SELECT ON sync_epoch TO parley_app;
