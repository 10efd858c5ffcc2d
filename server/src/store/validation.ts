import { randomUUID } from 'node:crypto';
import {
  findNonJson,
  findUnstorableText,
  isStorableText,
  isStreamId,
  isTenantId,
  type JsonObject,
  type JsonValue,
  type StreamId,
  type TenantId,
} from '@parley/domain';
import { InvalidAppendError } from './errors';
import type { AppendOptions, ExpectedVersion, NewEvent, StreamAppend } from './types';

/** The largest event the store accepts: its data and metadata as UTF-8 JSON. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** The most events one append may carry. */
export const MAX_EVENTS_PER_APPEND = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/;

/** An event checked and serialised once, ready for the database. */
export interface PreparedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
  readonly dataJson: string;
  readonly metadataJson: string;
}

export function assertTenantId(value: unknown): asserts value is TenantId {
  if (!isTenantId(value)) {
    throw new InvalidAppendError(
      `tenant id ${JSON.stringify(value)} is malformed: use 1-48 lowercase letters, digits and inner hyphens`,
    );
  }
}

export function assertStreamId(value: unknown): asserts value is StreamId {
  if (!isStreamId(value)) {
    throw new InvalidAppendError(
      `stream id ${JSON.stringify(value)} is malformed: use <category>-<id>, e.g. conversation-01J9Z3`,
    );
  }
}

/** Checks everything about an append that can be checked without the database. */
export function prepareAppend(
  tenantId: unknown,
  streamId: unknown,
  events: readonly NewEvent[],
  options: AppendOptions,
): PreparedEvent[] {
  assertTenantId(tenantId);
  assertStreamId(streamId);
  assertExpectedVersion(options.expectedVersion);
  if (options.idempotencyKey !== undefined) {
    const key: unknown = options.idempotencyKey;
    if (typeof key !== 'string' || key.length === 0 || key.length > 200 || !isStorableText(key)) {
      throw new InvalidAppendError(
        'idempotency key must be a string of 1 to 200 characters, without NUL or lone surrogates',
      );
    }
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidAppendError(`append to ${streamId} has no events`);
  }
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError(
      `append to ${streamId} has ${events.length} events; at most ${MAX_EVENTS_PER_APPEND} go in one append`,
    );
  }
  return events.map((event: NewEvent, index) => prepareEvent(streamId, event, index));
}

/**
 * Checks an atomic append across streams and prepares each stream's events: at least one stream,
 * each stream once, the same checks as `prepareAppend` for each.
 */
export function prepareAtomicAppend(appends: readonly StreamAppend[]): PreparedEvent[][] {
  if (!isList(appends) || appends.length === 0) {
    throw new InvalidAppendError('an atomic append needs at least one stream');
  }
  const seen = new Set<string>();
  return appends.map((append) => {
    const key = `${String(append.tenantId)}/${String(append.streamId)}`;
    if (seen.has(key)) {
      throw new InvalidAppendError(
        `${String(append.streamId)} appears twice in one atomic append; merge its events`,
      );
    }
    seen.add(key);
    if ((append.expectedVersion as unknown) === 'any') {
      throw new InvalidAppendError('an atomic append checks every stream: give each an expected version');
    }
    return prepareAppend(append.tenantId, append.streamId, append.events, {
      expectedVersion: append.expectedVersion,
    });
  });
}

/** `Array.isArray` without narrowing a typed array to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function prepareEvent(streamId: string, event: NewEvent, index: number): PreparedEvent {
  const where = `event ${index} of the append to ${streamId}`;
  if (typeof event !== 'object' || event === null) throw new InvalidAppendError(`${where} is not an object`);
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) {
    throw new InvalidAppendError(
      `${where} has type ${JSON.stringify(event.type)}: use a name like ReplyQueued`,
    );
  }
  const dataProblem = findNonJson(event.data);
  if (dataProblem)
    throw new InvalidAppendError(`${where} (${event.type}) data is not JSON-serialisable at ${dataProblem}`);
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidAppendError(`${where} (${event.type}) metadata must be a JSON object`);
  }
  const metadataProblem = findNonJson(metadata);
  if (metadataProblem) {
    throw new InvalidAppendError(
      `${where} (${event.type}) metadata is not JSON-serialisable at ${metadataProblem}`,
    );
  }
  // TX1: PostgreSQL's jsonb refuses a NUL or a lone surrogate, and would fail the whole group commit;
  // refused here, the append fails alone and for good, with the path to the bad text.
  const badText = findUnstorableText(event.data) ?? findUnstorableText(metadata, '$metadata');
  if (badText) {
    throw new InvalidAppendError(
      `${where} (${event.type}) holds a NUL or a lone UTF-16 surrogate at ${badText}: ` +
        'replace them with U+FFFD first (sanitizeText)',
    );
  }
  const eventId = event.eventId ?? randomUUID();
  if (!UUID.test(eventId))
    throw new InvalidAppendError(`${where} has event id ${JSON.stringify(eventId)}: use a UUID`);
  const dataJson = JSON.stringify(event.data);
  const metadataJson = JSON.stringify(metadata);
  const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
  if (bytes > MAX_EVENT_BYTES) {
    throw new InvalidAppendError(
      `${where} (${event.type}) is ${bytes} bytes; an event may be at most ${MAX_EVENT_BYTES} bytes ` +
        '(store large content such as media elsewhere and reference it)',
    );
  }
  return {
    eventId: eventId.toLowerCase(),
    type: event.type,
    // Copies, so the hot tier and the caller never share an object the caller might mutate later.
    data: JSON.parse(dataJson) as JsonValue,
    metadata: JSON.parse(metadataJson) as JsonObject,
    dataJson,
    metadataJson,
  };
}

function assertExpectedVersion(value: ExpectedVersion): void {
  if (value === 'any' || value === 'no_stream') return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidAppendError(
      `expected version ${JSON.stringify(value)} is invalid: use a whole number >= 0, 'no_stream' or 'any'`,
    );
  }
}
