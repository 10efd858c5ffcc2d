-- Attachments (#15 item 9, docs/decisions/0027-attachment-storage.md): one row per file a tenant
-- stored, named by the SHA-256 of its bytes. The bytes live in the blob store (DATA_DIR/attachments
-- or an S3 bucket) under <tenant>/<aa>/<sha256>; the same file in two tenants is two rows and two
-- blobs, so no tenant can learn what another holds. `mime` is read from the bytes (rule PL5).
CREATE TABLE attachments (
  tenant_id  text           NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  sha256     text           NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  mime       text           NOT NULL CHECK (length(mime) <= 200),
  size       bigint         NOT NULL CHECK (size > 0),
  name       text           NOT NULL CHECK (length(name) <= 200),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sha256)
);

SELECT parley_protect_tenant_table('attachments', 'tenant_id', 'SELECT, INSERT');
