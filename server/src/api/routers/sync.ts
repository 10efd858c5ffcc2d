import { tracked, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { inboxScope } from '../../auth/inbox-scope';
import { onAccessChanged } from '../../people/access';
import { catchUp, MAX_PAGE, type SyncViewer } from '../../sync/catch-up';
import { followEvents } from '../../sync/live';
import { liveStreamCapOf, MAX_LIVE_STREAMS_PER_SESSION } from '../../sync/live-cap';
import { authedProcedure, router, type AuthedContext } from '../trpc';

const cursor = z.string().max(200).nullable();

/** The signed-in agent and the inboxes they work in (decision 0015): their events only. */
const viewerOf = (ctx: AuthedContext): SyncViewer => ({
  agentId: ctx.agent.id,
  scope: inboxScope(ctx.services, ctx.tenantId, ctx.agent),
});

/** The sync protocol (docs/sync-protocol.md): paged catch-up, then the live stream. */
export const syncRouter = router({
  /** One page of the tenant's events after `cursor` (null: from the start), or a resync. */
  catchUp: authedProcedure
    .input(z.object({ cursor, limit: z.number().int().min(1).max(MAX_PAGE).default(200) }))
    .query(({ ctx, input }) => catchUp(ctx.services, ctx.tenantId, input.cursor, input.limit, viewerOf(ctx))),

  /**
   * The tenant's events as they commit, after `cursor`, or one resync. Each event's id is its cursor, so
   * `httpSubscriptionLink` reconnects with `lastEventId` and resumes exactly after it. The stream
   * rechecks its session as often as sessions are touched and ends with UNAUTHORIZED once it is
   * gone (signed out everywhere, expired).
   */
  live: authedProcedure
    .input(z.object({ cursor, lastEventId: z.string().max(200).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let revoked = false;
      // S8: a session holds at most 8 streams; a ninth closes its oldest.
      const slot = liveStreamCapOf(ctx.services).open(ctx.session.tokenHash);
      slot.closed.addEventListener('abort', onAbort, { once: true });
      const check = () =>
        void ctx.auth.resolve(ctx.request.sessionCookie).then(
          (session) => {
            if (session) return;
            revoked = true;
            stop.abort();
          },
          () => undefined, // a failed check is retried at the next tick
        );
      const recheck = setInterval(check, ctx.auth.policy.touchEveryMs);
      // A deactivated agent's stream asks at once, not at the next tick (decision 0035).
      const stopHearing = onAccessChanged(ctx.services.broadcast, ctx.tenantId, ctx.agent.id, check);
      try {
        const from = input.lastEventId ?? input.cursor;
        const messages = followEvents(ctx.services, ctx.tenantId, from, stop.signal, viewerOf(ctx));
        for await (const message of messages) {
          // A resync is tracked too (with the head it names), so every message has the same shape.
          yield tracked(message.kind === 'event' ? message.event.cursor : message.cursor, message);
        }
        if (revoked)
          throw new TRPCError({ code: 'UNAUTHORIZED', message: 'the session ended; sign in again' });
        if (slot.closed.aborted) {
          throw new TRPCError({
            code: 'TOO_MANY_REQUESTS',
            message: `closed: this session opened more than ${MAX_LIVE_STREAMS_PER_SESSION} live streams`,
          });
        }
      } finally {
        slot.release();
        slot.closed.removeEventListener('abort', onAbort);
        clearInterval(recheck);
        stopHearing();
        signal?.removeEventListener('abort', onAbort);
      }
    }),
});
