import type { StreamId, TenantId } from '@parley/domain';

/** Another writer kept changing the stream: the command was retried once and still conflicted. */
export class GrainConflictError extends Error {
  readonly code = 'GRAIN_CONFLICT';
  override readonly name = 'GrainConflictError';
  constructor(
    readonly tenantId: TenantId,
    readonly streamId: StreamId,
    options?: ErrorOptions,
  ) {
    super(`stream ${streamId} of tenant ${tenantId} changed under the command twice; try again`, options);
  }
}

/** The runtime was closed, so it takes no more commands. */
export class GrainRuntimeClosedError extends Error {
  readonly code = 'GRAIN_RUNTIME_CLOSED';
  override readonly name = 'GrainRuntimeClosedError';
  constructor() {
    super('the grain runtime is closed');
  }
}
