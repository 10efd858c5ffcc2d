-- People (#17): the supervisor role, availability online/busy/offline, deactivated agents,
-- one-time invitations and the audit trail of who changed whom.
-- Design: docs/decisions/0035-people-invitations-roles-deactivation.md.

-- A supervisor sees reports and every inbox, and changes no settings.
ALTER TABLE agents DROP CONSTRAINT agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('admin', 'supervisor', 'agent'));

-- 'away' is now called 'busy': neither takes new conversations (rule AS: only online members do).
ALTER TABLE agents DROP CONSTRAINT agents_presence_check;
UPDATE agents SET presence = 'busy' WHERE presence = 'away';
ALTER TABLE agents ADD CONSTRAINT agents_presence_check CHECK (presence IN ('online', 'busy', 'offline'));

-- A deactivated agent keeps their row (history names them) and cannot sign in.
ALTER TABLE agents ADD COLUMN deactivated_at timestamptz(3);

-- An invitation is found by the SHA-256 of its link's secret, so a copy of this table invites nobody.
CREATE TABLE invitations (
  tenant_id   text           NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          text           NOT NULL,
  email       text           NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
  role        text           NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
  token_hash  text           NOT NULL,
  invited_by  text           NOT NULL,
  created_at  timestamptz(3) NOT NULL,
  expires_at  timestamptz(3) NOT NULL,
  accepted_at timestamptz(3),
  revoked_at  timestamptz(3),
  agent_id    text,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, invited_by) REFERENCES agents (tenant_id, id)
);
CREATE INDEX invitations_by_email ON invitations (tenant_id, email);

-- Who changed what, newest first: written in the same transaction as the change it records.
CREATE TABLE audit_entries (
  tenant_id    text           NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           text           NOT NULL,
  at           timestamptz(3) NOT NULL,
  actor_id     text           NOT NULL,
  actor_name   text           NOT NULL,
  action       text           NOT NULL,
  subject_type text           NOT NULL,
  subject_id   text           NOT NULL,
  subject_name text           NOT NULL,
  details      jsonb          NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_entries_by_time ON audit_entries (tenant_id, at DESC, id DESC);

SELECT parley_protect_tenant_table('invitations');
-- The trail is only ever added to: no UPDATE or DELETE for request work.
SELECT parley_protect_tenant_table('audit_entries', 'tenant_id', 'SELECT, INSERT');
