-- Which conversations each stored file belongs to (#18, docs/decisions/0022-crypto-shredding.md), so
-- that erasing a contact deletes the bytes of the files only their conversations name. A file is
-- stored once per tenant by content (0027): one sent to two contacts has one row in `attachments`
-- and two here. A row is written in the transaction that records the event naming the file (an
-- agent's reply, a customer's message whose media Parley downloaded); `named_at` is the latest
-- such event's time.
CREATE TABLE attachment_owners (
  tenant_id       text           NOT NULL,
  sha256          text           NOT NULL,
  conversation_id text           NOT NULL,
  named_at        timestamptz(3) NOT NULL,
  PRIMARY KEY (tenant_id, sha256, conversation_id),
  -- Deleting a file's row takes its owners with it; a reply naming a file an erasure is deleting
  -- waits for it and then fails (the file is gone) instead of naming bytes about to vanish.
  FOREIGN KEY (tenant_id, sha256) REFERENCES attachments (tenant_id, sha256) ON DELETE CASCADE
);
CREATE INDEX attachment_owners_by_conversation ON attachment_owners (tenant_id, conversation_id);

-- Files whose row an erasure deleted and whose bytes are still to be deleted from the blob store:
-- the row goes once the bytes are gone. Drained by the erasure itself, its retry and every start.
CREATE TABLE attachment_erasures (
  tenant_id text           NOT NULL,
  sha256    text           NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  queued_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sha256)
);

-- Files stored before this migration have no owners recorded: `owners_known` is false for them
-- until a scan of the tenant's conversations (the tenant's first erasure that touches one) has
-- recorded every conversation naming them. Files stored from now on start known.
ALTER TABLE attachments ADD COLUMN owners_known boolean NOT NULL DEFAULT false;
ALTER TABLE attachments ALTER COLUMN owners_known SET DEFAULT true;

SELECT parley_protect_tenant_table('attachment_owners', 'tenant_id', 'SELECT, INSERT, UPDATE, DELETE');
SELECT parley_protect_tenant_table('attachment_erasures', 'tenant_id', 'SELECT, INSERT, DELETE');
-- An erasure deletes a tenant's file rows (locking them first: SELECT ... FOR UPDATE needs UPDATE).
GRANT UPDATE (owners_known), DELETE ON attachments TO parley_app;
