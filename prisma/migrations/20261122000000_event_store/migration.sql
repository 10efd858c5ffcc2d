-- The event store: streams with their versions, and immutable events range-partitioned by the
-- UTC day they were recorded. Hand-written: see docs/decisions/0002-hand-written-migrations.md.

CREATE TABLE streams (
  tenant_id  text           NOT NULL,
  stream_id  text           NOT NULL,
  version    integer        NOT NULL CHECK (version > 0),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, stream_id)
);

-- Position orders events within one transaction; the transaction id orders transactions.
-- (tx_id, position) is the checkpoint: docs/decisions/0003-gap-safe-global-order.md.
CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE events (
  tenant_id   text           NOT NULL,
  stream_id   text           NOT NULL,
  version     integer        NOT NULL,
  event_id    uuid           NOT NULL,
  type        text           NOT NULL,
  data        jsonb          NOT NULL,
  metadata    jsonb          NOT NULL DEFAULT '{}',
  recorded_at timestamptz(3) NOT NULL,
  tx_id       xid8           NOT NULL DEFAULT pg_current_xact_id(),
  position    bigint         NOT NULL DEFAULT nextval('events_position_seq'),
  PRIMARY KEY (tenant_id, stream_id, version, recorded_at)
) PARTITION BY RANGE (recorded_at);
-- No DEFAULT partition on purpose: a row for a missing day fails its insert, the store creates
-- the day and retries, so no row can sit unnoticed outside a day partition.

CREATE INDEX events_global_order ON events (tx_id, position);
CREATE INDEX events_tenant_order ON events (tenant_id, tx_id, position);

-- Creates the partition for one UTC day if it is missing; safe when several processes race.
CREATE FUNCTION parley_ensure_event_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  partition_name text := 'events_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(724203112);
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format(
    'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
    partition_name,
    (day::timestamp AT TIME ZONE 'UTC'),
    ((day + 1)::timestamp AT TIME ZONE 'UTC')
  );
  RETURN true;
END
$$;

CREATE TABLE append_idempotency (
  tenant_id     text           NOT NULL,
  stream_id     text           NOT NULL,
  key           text           NOT NULL,
  first_version integer,
  last_version  integer,
  checkpoint    text,
  created_at    timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, stream_id, key)
);

CREATE TABLE snapshots (
  tenant_id  text           NOT NULL,
  stream_id  text           NOT NULL,
  version    integer        NOT NULL,
  state      jsonb          NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, stream_id)
);

-- Archived day partitions: the NDJSON file that holds each, and how to check it.
CREATE TABLE archive_segments (
  day            date           PRIMARY KEY,
  file           text           NOT NULL,
  sha256         text           NOT NULL,
  row_count      integer        NOT NULL,
  min_checkpoint text,
  max_checkpoint text,
  archived_at    timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE archived_stream_ranges (
  tenant_id    text    NOT NULL,
  stream_id    text    NOT NULL,
  day          date    NOT NULL REFERENCES archive_segments (day) ON DELETE CASCADE,
  from_version integer NOT NULL,
  to_version   integer NOT NULL,
  PRIMARY KEY (tenant_id, stream_id, day)
);
