declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A tenant (one business) in a shared Parley server: a lowercase slug such as `acme-support`. */
export type TenantId = Brand<string, 'TenantId'>;
/** An event stream: `<category>-<id>`, such as `conversation-01J9Z...`; the category names the aggregate. */
export type StreamId = Brand<string, 'StreamId'>;
/** Milliseconds since the Unix epoch, UTC. The domain never reads a clock: time comes in as this. */
export type EpochMs = number;

const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;
const STREAM_ID = /^[a-z][a-z0-9]{0,31}-[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$/;

export function isTenantId(value: unknown): value is TenantId {
  return typeof value === 'string' && TENANT_ID.test(value);
}

export function isStreamId(value: unknown): value is StreamId {
  return typeof value === 'string' && STREAM_ID.test(value);
}

/** Checks and brands a tenant id; throws an `InvalidId` error that says what a tenant id looks like. */
export function tenantId(value: string): TenantId {
  if (!isTenantId(value)) {
    throw new InvalidIdError(
      `tenant id ${JSON.stringify(value)} is malformed: use 1-48 lowercase letters, digits and inner hyphens`,
    );
  }
  return value;
}

/** Checks and brands a stream id; throws an `InvalidId` error that says what a stream id looks like. */
export function streamId(value: string): StreamId {
  if (!isStreamId(value)) {
    throw new InvalidIdError(
      `stream id ${JSON.stringify(value)} is malformed: use <category>-<id>, a lowercase category of up to 32 letters and digits, then up to 200 of A-Z a-z 0-9 . _ : ~ -`,
    );
  }
  return value;
}

/** Builds the stream id of one aggregate instance, e.g. `streamFor('conversation', id)`. */
export function streamFor(category: string, id: string): StreamId {
  return streamId(`${category}-${id}`);
}

/** The category part of a stream id (`conversation` for `conversation-123`). */
export function streamCategory(id: StreamId): string {
  return id.slice(0, id.indexOf('-'));
}

/** The id part of a stream id (`123` for `conversation-123`): the inverse of `streamFor`. */
export function streamEntityId(id: StreamId): string {
  return id.slice(id.indexOf('-') + 1);
}

export class InvalidIdError extends Error {
  readonly code = 'INVALID_ID';
  override readonly name = 'InvalidIdError';
}
