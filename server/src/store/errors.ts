import type { StreamId, TenantId } from '@parley/domain';

/** The stream's version was not what the caller expected; nothing was written. */
export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENCY_CONFLICT';
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly tenantId: TenantId,
    readonly streamId: StreamId,
    readonly expectedVersion: number | 'no_stream',
    readonly actualVersion: number | undefined,
  ) {
    super(
      `stream ${streamId} of tenant ${tenantId}: expected version ${String(expectedVersion)}, ` +
        `found ${actualVersion === undefined ? 'a newer version' : String(actualVersion)}; reload and retry`,
    );
  }
}

/** An append was refused before anything was written: the reason is in the message. */
export class InvalidAppendError extends Error {
  readonly code = 'INVALID_APPEND';
  override readonly name = 'InvalidAppendError';
}
