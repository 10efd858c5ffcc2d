import type { AppRouter } from '@parley/server/router';
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  isTRPCClientError,
  splitLink,
} from '@trpc/client';
import type { CommandTransport, Failure } from '../outbox/flusher';
import type { LiveHandlers, SyncApi } from '../sync/engine';
import type { ApiErrorData } from './wire';

/** The typed tRPC client: mutations one per request (sign-in sets a cookie), queries batched, SSE for live. */
export function createClient(baseUrl = '/trpc') {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: baseUrl }),
        false: splitLink({
          condition: (op) => op.type === 'mutation',
          true: httpLink({ url: baseUrl }),
          // The server refuses a batch of more than 50 calls (server/src/http/limits.ts).
          false: httpBatchLink({ url: baseUrl, maxItems: 50 }),
        }),
      }),
    ],
  });
}

export type Client = ReturnType<typeof createClient>;

/** How long one batch of commands may take before it is abandoned and resent (which is safe). */
const COMMAND_BATCH_TIMEOUT_MS = 30_000;

/** Sends a batch of numbered commands (every agent command on a conversation, issue #14). */
export function commandTransport(client: Client): CommandTransport {
  return (batch, signal) =>
    client.conversations.commandBatch.mutate(batch, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(COMMAND_BATCH_TIMEOUT_MS)]),
    });
}

/** The HTTP status and domain code of a tRPC error; undefined for failures that never got an answer. */
export function errorData(error: unknown): ApiErrorData | undefined {
  return isTRPCClientError<AppRouter>(error) ? (error.data ?? undefined) : undefined;
}

/** What a failed command request means for the outbox (see `Failure`). */
export function classifyReplyError(error: unknown): Failure {
  const data = errorData(error);
  const message = error instanceof Error ? error.message : String(error);
  const status = data?.httpStatus;
  if (status === undefined || status >= 500 || status === 408 || status === 429) {
    return { kind: 'retry', message: status === undefined ? 'no connection' : message };
  }
  if (status === 401) return { kind: 'unauthorized' };
  if (data?.domainCode === 'SEQUENCE_REUSED') return { kind: 'sequence-reused' };
  // Other conflicts are the store's or the grain runtime's: the server asks for a retry.
  if (status === 409) return { kind: 'retry', message };
  return {
    kind: 'rejected',
    refusal: {
      code: data?.domainCode ?? data?.code ?? 'REJECTED',
      rule: data?.rule ?? null,
      message,
      hint: data?.hint ?? null,
    },
  };
}

/** The sync protocol's calls over tRPC. */
export function syncApi(client: Client): SyncApi {
  return {
    catchUp: (cursor, limit) => client.sync.catchUp.query({ cursor, limit }),
    list: (cursor) => client.conversations.list.query({ filter: 'all', cursor, limit: 100 }),
    conversationEvents: async (conversationId, afterVersion) =>
      (await client.conversations.get.query({ conversationId, afterVersion })).events,
    live(cursor, handlers: LiveHandlers) {
      let open = false;
      const subscription = client.sync.live.subscribe(
        { cursor },
        {
          onStarted: () => {
            open = true;
            handlers.onOpen();
          },
          onData: ({ data: payload }) => {
            // Every message is tracked ({ id, data }), the resync answer too.
            if (payload.kind === 'event') handlers.onEvent(payload.event);
            else handlers.onResync(payload);
          },
          onError: (error) => handlers.onLost(error),
          onConnectionStateChange: (state) => {
            // The link would reconnect by itself; the engine catches up first instead.
            if (state.state === 'connecting' && (open || state.error)) handlers.onLost(state.error);
          },
        },
      );
      return subscription;
    },
  };
}
