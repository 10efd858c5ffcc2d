import { streamFor, type JsonObject, type RecordedEvent, type StreamId, type TenantId } from '@parley/domain';
import type { AppendResult, EventStore, NewEvent } from '../store/types';

/*
 * A board is stored on two streams of its tenant:
 *   board-<boardId>          BoardUpdated      { update, part?, parts? }            one per flushed batch
 *   boardsnapshot-<boardId>  BoardSnapshotted  { state, coversVersion, part?, parts? }
 * `update` and `state` are base64 Yjs updates (v1). A snapshot holds the whole document as of
 * board-stream version `coversVersion`, so loading reads the latest snapshot and only the updates
 * after it. Payloads over CHUNK_BYTES are split into `parts` events written in one append.
 */

/** Event types on the board streams. */
export const BoardEventType = {
  UPDATED: 'BoardUpdated',
  SNAPSHOTTED: 'BoardSnapshotted',
} as const;

/** Data of a `BoardUpdated` event: one batch of document updates, merged. */
export interface BoardUpdatedData {
  readonly update: string;
  readonly part?: number;
  readonly parts?: number;
}

/** Data of a `BoardSnapshotted` event: the whole document, covering the board stream up to a version. */
export interface BoardSnapshottedData {
  readonly state: string;
  readonly coversVersion: number;
  readonly part?: number;
  readonly parts?: number;
}

/** Binary bytes per event: base64 makes 128 KiB about 171 KiB, under the store's 256 KiB event limit. */
const CHUNK_BYTES = 128 * 1024;
const PAGE_SIZE = 500;

/** The document as stored: the updates to apply in order, and where the streams stand. */
export interface StoredBoard {
  readonly updates: readonly Uint8Array[];
  /** The board stream's version after the last update read. */
  readonly version: number;
  /** The board-stream version the latest snapshot covers, 0 without one. */
  readonly snapshotVersion: number;
}

/** Stored data that cannot be read back: refused loudly rather than loaded half. */
export class BoardStorageError extends Error {
  readonly code = 'BOARD_STORAGE_CORRUPT';
  override readonly name = 'BoardStorageError';
}

/** The stream of a board's updates. */
export function boardStream(boardId: string): StreamId {
  return streamFor('board', boardId);
}

/** The stream of a board's snapshots. */
export function boardSnapshotStream(boardId: string): StreamId {
  return streamFor('boardsnapshot', boardId);
}

/** Reads the latest snapshot and the updates after it: never more than the tail since that snapshot. */
export async function loadStoredBoard(
  store: EventStore,
  tenantId: TenantId,
  boardId: string,
): Promise<StoredBoard> {
  const snapshot = await readLatestSnapshot(store, tenantId, boardId);
  const updates: Uint8Array[] = snapshot ? [snapshot.state] : [];
  const snapshotVersion = snapshot?.coversVersion ?? 0;
  let version = snapshotVersion;
  const parts = new PartCollector('update');
  for (;;) {
    const page = await store.readStream(tenantId, boardStream(boardId), {
      fromVersion: version + 1,
      limit: PAGE_SIZE,
    });
    for (const event of page) {
      version = event.version;
      if (event.type !== BoardEventType.UPDATED) continue;
      const whole = parts.add(event);
      if (whole) updates.push(whole);
    }
    if (page.length < PAGE_SIZE) break;
  }
  parts.assertComplete();
  return { updates, version, snapshotVersion };
}

/** Reads the board stream after `version`: what another process appended. */
export async function readUpdatesAfter(
  store: EventStore,
  tenantId: TenantId,
  boardId: string,
  version: number,
): Promise<{ updates: Uint8Array[]; version: number }> {
  const events = await store.readStream(tenantId, boardStream(boardId), { fromVersion: version + 1 });
  const parts = new PartCollector('update');
  const updates: Uint8Array[] = [];
  for (const event of events) {
    if (event.type !== BoardEventType.UPDATED) continue;
    const whole = parts.add(event);
    if (whole) updates.push(whole);
  }
  parts.assertComplete();
  return { updates, version: events.at(-1)?.version ?? version };
}

/** Appends one batch to the board stream, expecting it at `expectedVersion`. */
export function appendUpdate(
  store: EventStore,
  tenantId: TenantId,
  boardId: string,
  update: Uint8Array,
  expectedVersion: number,
  metadata: JsonObject,
): Promise<AppendResult> {
  const events = split(update).map((chunk): NewEvent => ({
    type: BoardEventType.UPDATED,
    data: { update: chunk.data, ...chunk.part },
    metadata,
  }));
  return store.append(tenantId, boardStream(boardId), events, { expectedVersion });
}

/** Appends a snapshot of the whole document as of board-stream version `coversVersion`. */
export async function appendSnapshot(
  store: EventStore,
  tenantId: TenantId,
  boardId: string,
  state: Uint8Array,
  coversVersion: number,
): Promise<void> {
  const events = split(state).map((chunk): NewEvent => ({
    type: BoardEventType.SNAPSHOTTED,
    data: { state: chunk.data, coversVersion, ...chunk.part },
  }));
  // Snapshots only shorten loading, so racing writers need no version check: any one is complete.
  await store.append(tenantId, boardSnapshotStream(boardId), events, { expectedVersion: 'any' });
}

async function readLatestSnapshot(
  store: EventStore,
  tenantId: TenantId,
  boardId: string,
): Promise<{ state: Uint8Array; coversVersion: number } | null> {
  const stream = boardSnapshotStream(boardId);
  const last = await store.streamVersion(tenantId, stream);
  if (last === 0) return null;
  const [tail] = await store.readStream(tenantId, stream, { fromVersion: last, limit: 1 });
  const { parts = 1 } = snapshotData(tail);
  const events =
    parts === 1
      ? [tail!]
      : await store.readStream(tenantId, stream, { fromVersion: last - parts + 1, limit: parts });
  const collector = new PartCollector('state');
  let state: Uint8Array | null = null;
  for (const event of events) state = collector.add(event);
  if (state === null) throw new BoardStorageError(`the latest snapshot of board ${boardId} is incomplete`);
  return { state, coversVersion: snapshotData(tail).coversVersion };
}

function snapshotData(event: RecordedEvent | undefined): BoardSnapshottedData {
  const data = event?.data as Partial<BoardSnapshottedData> | undefined;
  if (event?.type !== BoardEventType.SNAPSHOTTED || typeof data?.coversVersion !== 'number') {
    throw new BoardStorageError(`snapshot event ${event?.eventId ?? '(missing)'} is malformed`);
  }
  return data as BoardSnapshottedData;
}

/** Joins the parts of a split payload, which one append wrote as consecutive events. */
class PartCollector {
  private chunks: Uint8Array[] = [];

  constructor(private readonly field: 'update' | 'state') {}

  /** Returns the whole payload once its last part arrives, else null. */
  add(event: RecordedEvent): Uint8Array | null {
    const data = event.data as Record<string, unknown>;
    const payload = data[this.field];
    const { part = 0, parts = 1 } = data as { part?: unknown; parts?: unknown };
    if (
      typeof payload !== 'string' ||
      part !== this.chunks.length ||
      typeof parts !== 'number' ||
      part >= parts
    ) {
      throw new BoardStorageError(`event ${event.eventId} (${event.type}) is malformed or out of order`);
    }
    this.chunks.push(Buffer.from(payload, 'base64'));
    if (part < parts - 1) return null;
    const whole = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    return whole;
  }

  assertComplete(): void {
    if (this.chunks.length > 0) throw new BoardStorageError('a split board payload is missing its last part');
  }
}

function split(bytes: Uint8Array): { data: string; part: { part?: number; parts?: number } }[] {
  const parts = Math.max(1, Math.ceil(bytes.byteLength / CHUNK_BYTES));
  return Array.from({ length: parts }, (_, part) => ({
    data: Buffer.from(bytes.subarray(part * CHUNK_BYTES, (part + 1) * CHUNK_BYTES)).toString('base64'),
    part: parts === 1 ? {} : { part, parts },
  }));
}
