-- Crypto-shredding (#18, docs/decisions/0022-crypto-shredding.md). A tenant key per tenant, sealed
-- (AES-256-GCM) by the master key named by master_key_id; a contact key per conversation of a
-- contact, sealed by its tenant key. Destroying a contact key (iv and ct set to NULL) leaves the
-- personal data in that conversation's events unreadable without rewriting one event.
CREATE TABLE tenant_keys (
  tenant_id     text           PRIMARY KEY,
  master_key_id text           NOT NULL,
  iv            text           NOT NULL,
  ct            text           NOT NULL,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  rewrapped_at  timestamptz(3)
);

-- contact_ref is an HMAC of the platform's contact id under the tenant key: it finds a contact's
-- keys on erasure without keeping the phone number or handle in clear.
CREATE TABLE contact_keys (
  tenant_id    text           NOT NULL,
  key_id       uuid           NOT NULL,
  contact_ref  text           NOT NULL,
  stream_id    text           NOT NULL,
  iv           text,
  ct           text,
  created_at   timestamptz(3) NOT NULL DEFAULT now(),
  destroyed_at timestamptz(3),
  PRIMARY KEY (tenant_id, key_id),
  CHECK ((destroyed_at IS NULL) = (iv IS NOT NULL AND ct IS NOT NULL))
);
CREATE UNIQUE INDEX contact_keys_live_by_stream ON contact_keys (tenant_id, stream_id) WHERE destroyed_at IS NULL;
CREATE INDEX contact_keys_by_contact ON contact_keys (tenant_id, contact_ref);

-- Only the store's process writes keys (as the owner); a tenant-scoped session may read its own.
SELECT parley_protect_tenant_table('tenant_keys', 'tenant_id', 'SELECT');
SELECT parley_protect_tenant_table('contact_keys', 'tenant_id', 'SELECT');
