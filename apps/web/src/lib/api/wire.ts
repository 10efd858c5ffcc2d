import type { AppRouter } from '@parley/server/router';
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/**
 * The server's wire contract as the PWA sees it (decision 0019). Nothing here is declared twice:
 * every type is inferred from the router's `type AppRouter`, so a field the server renames, drops
 * or retypes breaks `tsc -p apps/web` wherever the PWA reads it. The domain's own types (commands,
 * events, content, summaries) come from `@parley/domain`, which both ends import.
 */
type Inputs = inferRouterInputs<AppRouter>;
type Outputs = inferRouterOutputs<AppRouter>;

/** What `sync.catchUp` answers: a page of events, or a resync. */
export type CatchUpAnswer = Outputs['sync']['catchUp'];
export type EventsAnswer = Extract<CatchUpAnswer, { readonly kind: 'events' }>;
/** The server cannot continue from the client's cursor: reload the list, continue from `cursor`. */
export type ResyncAnswer = Extract<CatchUpAnswer, { readonly kind: 'resync' }>;
/** A committed event as catch-up, the live stream and `conversations.get` deliver it. */
export type SyncEvent = EventsAnswer['events'][number];

/** One message of `sync.live` as the subscription delivers it: tracked, `{ id, data }`. */
export type LiveEnvelope = Outputs['sync']['live'] extends AsyncIterable<infer Message> ? Message : never;
/** What a live message carries: one event, or a resync. */
export type LiveMessage = LiveEnvelope['data'];

/** A page of `conversations.list`. */
export type ConversationPage = Outputs['conversations']['list'];
/** A list item as `conversations.list` returns it. */
export type ListItem = ConversationPage['items'][number];

/** A run of one client's numbered replies as `conversations.replyBatch` takes it. */
export type ReplyBatchRequest = Inputs['conversations']['replyBatch'];
/** One numbered reply as `conversations.reply` takes it (and each reply of a batch, with its client id). */
export type ReplyRequest = Inputs['conversations']['reply'];
/** A batch's answers: one per reply, in order (docs/sync-protocol.md, "Replies"). */
export type ReplyBatchAnswer = Outputs['conversations']['replyBatch'];
/** The server's answer for one reply: accepted, refused (with the rule) or out of order. */
export type ReplyAnswer = ReplyBatchAnswer['answers'][number];

/** A run of one client's numbered commands as `conversations.commandBatch` takes it (issue #14). */
export type CommandBatchRequest = Inputs['conversations']['commandBatch'];
/** One numbered command of a batch. */
export type CommandRequest = CommandBatchRequest['commands'][number];
/** A command batch's answers: one per command, in order, stopping at the first out-of-order. */
export type CommandBatchAnswer = Outputs['conversations']['commandBatch'];
/** The server's answer for one command: accepted, refused (with the rule) or out of order. */
export type CommandAnswer = CommandBatchAnswer['answers'][number];

/** The `data` of an error the API answered with: HTTP status, tRPC code, the domain's code and rule. */
export type ApiErrorData = inferRouterError<AppRouter>['data'];
