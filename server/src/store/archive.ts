import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import type { Checkpoint, JsonObject, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import type { Database } from '../db/database';
import { listPartitions, partitionName, utcDay } from '../db/partitions';
import { compareCheckpoints, formatCheckpoint } from './checkpoint';

/** One line of an archive file: an event row exactly as the events table held it. */
interface ArchivedRow {
  tenant_id: string;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: JsonObject;
  recorded_at: string;
  tx: string;
  position: string;
}

export interface SegmentRow {
  day: string;
  file: string;
  sha256: string;
  row_count: number;
  min_checkpoint: string | null;
  max_checkpoint: string | null;
}

/** Progress of a long archive or restore, for the CLI to print. */
export interface ArchiveProgress {
  readonly day: string;
  readonly dayIndex: number;
  readonly days: number;
  readonly rows: number;
  readonly totalRows: number;
  readonly done: boolean;
}

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PAGE = 5000;

/**
 * Reads events that were archived out of the database: the slower path behind the store's reads.
 * It costs nothing while no day is archived; the list of archived days is cached for a few seconds.
 */
export class ArchiveReader {
  private segmentsCache: { at: number; rows: SegmentRow[] } | undefined;
  private readonly files = new Map<string, RecordedEvent[]>();

  constructor(
    private readonly db: Database,
    private readonly dir: string,
  ) {}

  /** Forget cached segment lists and files, after an archive or restore in this process. */
  refresh(): void {
    this.segmentsCache = undefined;
    this.files.clear();
  }

  async readStream(
    tenantId: TenantId,
    streamId: StreamId,
    fromVersion: number,
    beforeVersion: number | undefined,
  ): Promise<RecordedEvent[]> {
    if ((await this.segments()).length === 0) return [];
    const ranges = await this.db.sql.query<{ day: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day FROM archived_stream_ranges
        WHERE tenant_id = $1 AND stream_id = $2 AND to_version >= $3 AND ($4::int IS NULL OR from_version < $4)
        ORDER BY day`,
      [tenantId, streamId, fromVersion, beforeVersion ?? null],
    );
    const events: RecordedEvent[] = [];
    for (const { day } of ranges) {
      for (const event of await this.load(day)) {
        if (
          event.tenantId === tenantId &&
          event.streamId === streamId &&
          event.version >= fromVersion &&
          (beforeVersion === undefined || event.version < beforeVersion)
        ) {
          events.push(event);
        }
      }
    }
    return events.sort((a, b) => a.version - b.version);
  }

  async readAll(tenantId: TenantId | undefined, after: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    const segments = (await this.segments()).filter(
      (s) => s.max_checkpoint !== null && compareCheckpoints(s.max_checkpoint as Checkpoint, after) > 0,
    );
    const events: RecordedEvent[] = [];
    for (const segment of segments) {
      for (const event of await this.load(segment.day)) {
        if (
          (tenantId === undefined || event.tenantId === tenantId) &&
          compareCheckpoints(event.checkpoint, after) > 0
        ) {
          events.push(event);
        }
      }
    }
    return events.sort((a, b) => compareCheckpoints(a.checkpoint, b.checkpoint)).slice(0, limit);
  }

  private async segments(): Promise<SegmentRow[]> {
    const now = Date.now();
    if (this.segmentsCache && now - this.segmentsCache.at < 5000) return this.segmentsCache.rows;
    const rows = await listSegments(this.db);
    this.segmentsCache = { at: now, rows };
    return rows;
  }

  private async load(day: string): Promise<RecordedEvent[]> {
    const cached = this.files.get(day);
    if (cached) return cached;
    let segment = (await this.segments()).find((s) => s.day === day);
    if (segment && !existsSync(join(this.dir, segment.file))) {
      // Restored by another process since the list was cached: ask the database again.
      this.segmentsCache = undefined;
      segment = (await this.segments()).find((s) => s.day === day);
    }
    if (!segment) return [];
    const bytes = readFileSync(join(this.dir, segment.file));
    verifyChecksum(segment, bytes);
    const events = gunzipSync(bytes)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => fromArchived(JSON.parse(line) as ArchivedRow));
    if (this.files.size >= 8) this.files.delete(this.files.keys().next().value!);
    this.files.set(day, events);
    return events;
  }
}

/**
 * Moves every day partition older than `before` (and older than today) out of the database into
 * `dir/events-<day>.ndjson.gz`, with a checksum in `archive_segments` and `dir/manifest.json`.
 * The file is written and synced first; the segment record, detach and drop then commit together,
 * so a crash leaves either the partition or the archive, never neither.
 */
export async function archiveBefore(
  db: Database,
  options: { before: string; dir: string; now?: number; onProgress?: (progress: ArchiveProgress) => void },
): Promise<string[]> {
  if (!DAY.test(options.before) || Number.isNaN(Date.parse(`${options.before}T00:00:00Z`))) {
    throw new ArchiveError(`--before must be a date as YYYY-MM-DD, got ${JSON.stringify(options.before)}`);
  }
  const today = utcDay(options.now ?? Date.now());
  const days = (await listPartitions(db.sql)).filter((day) => day < options.before && day < today);
  mkdirSync(options.dir, { recursive: true });
  // SE: a run that was killed leaves half-written files; their days are still in the database.
  for (const file of readdirSync(options.dir)) {
    if (file.endsWith('.partial')) rmSync(join(options.dir, file), { force: true });
  }
  const archived: string[] = [];
  for (const [index, day] of days.entries()) {
    await archiveDay(db, options.dir, day, (rows, totalRows, done) =>
      options.onProgress?.({ day, dayIndex: index, days: days.length, rows, totalRows, done }),
    );
    archived.push(day);
    await writeManifest(db, options.dir); // after each committed day, so a kill loses no entry
  }
  await writeManifest(db, options.dir);
  return archived;
}

async function archiveDay(
  db: Database,
  dir: string,
  day: string,
  progress: (rows: number, total: number, done: boolean) => void,
): Promise<void> {
  const table = partitionName(day);
  const existing = await listSegments(db);
  if (existing.some((s) => s.day === day)) {
    throw new ArchiveError(
      `day ${day} is archived already and has new rows; restore it before archiving again`,
    );
  }
  const [{ count } = { count: 0 }] = await db.sql.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM ${table}`,
  );
  const file = `events-${day}.ndjson.gz`;
  const temporary = join(dir, `${file}.partial`);
  const ranges = new Map<string, { tenant: string; stream: string; from: number; to: number }>();
  let min: string | null = null;
  let max: string | null = null;
  let written = 0;

  const gzip = createGzip();
  const sink = pipeline(gzip, createWriteStream(temporary));
  let after = { tx: '0', position: '0' };
  for (;;) {
    const rows = await db.sql.query<ArchivedRow & { recorded_at: Date | string }>(
      `SELECT tenant_id, stream_id, version, event_id::text AS event_id, type, data, metadata, recorded_at,
              tx_id::text AS tx, position::text AS position
         FROM ${table} AS e WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint)
        ORDER BY e.tx_id, e.position LIMIT ${PAGE}`,
      [after.tx, after.position],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const line: ArchivedRow = { ...row, recorded_at: new Date(row.recorded_at).toISOString() };
      if (!gzip.write(`${JSON.stringify(line)}\n`)) await new Promise((r) => gzip.once('drain', r));
      const checkpoint = formatCheckpoint(row.tx, row.position);
      min ??= checkpoint;
      max = checkpoint;
      const key = `${row.tenant_id}/${row.stream_id}`;
      const range = ranges.get(key);
      if (range) {
        range.from = Math.min(range.from, row.version);
        range.to = Math.max(range.to, row.version);
      } else {
        ranges.set(key, { tenant: row.tenant_id, stream: row.stream_id, from: row.version, to: row.version });
      }
    }
    written += rows.length;
    after = { tx: rows.at(-1)!.tx, position: rows.at(-1)!.position };
    progress(written, count, false);
  }
  gzip.end();
  await sink;
  const bytes = readFileSync(temporary);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  renameSync(temporary, join(dir, file));

  const all = [...ranges.values()];
  await db.sql.transaction(async (tx) => {
    // Nobody may add to the day between the copy and the detach: lock it, then check the count.
    await tx.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const [{ now } = { now: -1 }] = await tx.query<{ now: number }>(
      `SELECT count(*)::int AS now FROM ${table}`,
    );
    if (now !== written) {
      throw new ArchiveError(
        `day ${day} changed while it was being archived (${written} rows copied, ${now} now); run archive again`,
      );
    }
    await tx.query(
      `INSERT INTO archive_segments (day, file, sha256, row_count, min_checkpoint, max_checkpoint)
       VALUES ($1::date, $2, $3, $4, $5, $6)`,
      [day, file, sha256, written, min, max],
    );
    if (all.length > 0) {
      await tx.query(
        `INSERT INTO archived_stream_ranges (tenant_id, stream_id, day, from_version, to_version)
         SELECT t, s, $3::date, f, l FROM unnest($1::text[], $2::text[], $4::int[], $5::int[]) AS x(t, s, f, l)`,
        [
          all.map((r) => r.tenant),
          all.map((r) => r.stream),
          day,
          all.map((r) => r.from),
          all.map((r) => r.to),
        ],
      );
    }
    await tx.exec(`ALTER TABLE events DETACH PARTITION ${table}; DROP TABLE ${table};`);
  });
  progress(written, count, true);
}

/** Puts an archived day back into the database (after checking its file) and removes the file. */
export async function restoreDay(
  db: Database,
  options: { day: string; dir: string; onProgress?: (progress: ArchiveProgress) => void },
): Promise<number> {
  const { day, dir } = options;
  if (!DAY.test(day))
    throw new ArchiveError(`the day must be written YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const segments = await listSegments(db);
  const segment = segments.find((s) => s.day === day);
  if (!segment) {
    const known = segments.map((s) => s.day).join(', ') || 'none';
    throw new ArchiveError(`day ${day} is not archived (archived days: ${known})`);
  }
  const path = join(dir, segment.file);
  if (!existsSync(path)) throw new ArchiveError(`the archive of ${day} should be at ${path} but is missing`);
  const bytes = readFileSync(path);
  verifyChecksum(segment, bytes);
  const rows: ArchivedRow[] = [];
  const gunzip = createGunzip();
  let rest = '';
  gunzip.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line) rows.push(JSON.parse(line) as ArchivedRow);
  });
  await pipeline(createReadStream(path), gunzip);
  if (rest) rows.push(JSON.parse(rest) as ArchivedRow);

  await db.sql.transaction(async (tx) => {
    await tx.query('SELECT parley_ensure_event_partition($1::date)', [day]);
    for (let i = 0; i < rows.length; i += PAGE) {
      const page = rows.slice(i, i + PAGE);
      await tx.query(
        `INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, metadata, recorded_at, tx_id, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb[],
                              $8::timestamptz[], $9::xid8[], $10::bigint[])`,
        [
          page.map((r) => r.tenant_id),
          page.map((r) => r.stream_id),
          page.map((r) => r.version),
          page.map((r) => r.event_id),
          page.map((r) => r.type),
          page.map((r) => JSON.stringify(r.data)),
          page.map((r) => JSON.stringify(r.metadata)),
          page.map((r) => r.recorded_at),
          page.map((r) => r.tx),
          page.map((r) => r.position),
        ],
      );
      options.onProgress?.({
        day,
        dayIndex: 0,
        days: 1,
        rows: i + page.length,
        totalRows: rows.length,
        done: false,
      });
    }
    await tx.query('DELETE FROM archive_segments WHERE day = $1::date', [day]);
    await tx.query('DELETE FROM archived_stream_ranges WHERE day = $1::date', [day]);
  });
  rmSync(path, { force: true });
  await writeManifest(db, dir);
  options.onProgress?.({ day, dayIndex: 0, days: 1, rows: rows.length, totalRows: rows.length, done: true });
  return rows.length;
}

export async function listSegments(db: {
  readonly sql: Pick<Database['sql'], 'query'>;
}): Promise<SegmentRow[]> {
  return db.sql.query<SegmentRow>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, file, sha256, row_count, min_checkpoint, max_checkpoint
       FROM archive_segments ORDER BY day`,
  );
}

async function writeManifest(db: Database, dir: string): Promise<void> {
  const path = join(dir, 'manifest.json');
  writeFileSync(`${path}.partial`, archiveManifestText(await listSegments(db)));
  renameSync(`${path}.partial`, path);
}

/** The archive folder's `manifest.json` for these segments (a backup writes its own copy's). */
export function archiveManifestText(segments: readonly SegmentRow[]): string {
  return `${JSON.stringify({ format: 'parley-event-archive/1', segments }, null, 2)}\n`;
}

function verifyChecksum(segment: SegmentRow, bytes: Buffer): void {
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== segment.sha256) {
    throw new ArchiveError(
      `the archive of ${segment.day} (${segment.file}) fails its checksum: it was changed or damaged`,
    );
  }
}

function fromArchived(row: ArchivedRow): RecordedEvent {
  return {
    tenantId: row.tenant_id as TenantId,
    streamId: row.stream_id as StreamId,
    version: row.version,
    eventId: row.event_id,
    type: row.type,
    data: row.data as JsonObject,
    metadata: row.metadata,
    recordedAt: Date.parse(row.recorded_at),
    checkpoint: formatCheckpoint(row.tx, row.position),
  };
}
