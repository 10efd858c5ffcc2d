import { ConversationErrorCode, DomainError } from '@parley/domain';
import { z } from 'zod';
import { inboxScope, requireConversationInScope } from '../../auth/inbox-scope';
import { onAccessChanged } from '../../people/access';
import { presenceLimiter, watchPresence } from '../../presence';
import { id } from '../schemas';
import { authedProcedure, router } from '../trpc';

/** A tab's random id: it tells one tab's presence from another's, and says nothing else. */
const device = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a device id is 8 to 64 letters, digits, - or _');
const allowed = presenceLimiter();

/**
 * Who is viewing or typing in which conversation (#15 item 7, decision 0026): ephemeral, never in
 * the log, and only ever inside the agent's tenant and inboxes.
 */
export const presenceRouter = router({
  /** Says the signed-in agent views, types in, or left a conversation they may see. */
  set: authedProcedure
    .input(z.object({ device, conversationId: id, activity: z.enum(['viewing', 'typing', 'left']) }))
    .mutation(async ({ ctx, input }) => {
      const { services, tenantId, agent } = ctx;
      const { state } = await services.grains.conversation(tenantId, input.conversationId).read();
      if (state === null)
        throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
      await requireConversationInScope(inboxScope(services, tenantId, agent), input.conversationId);
      // Too many changes from one tab are dropped, not refused: presence is a hint, never a record.
      if (!allowed(`${tenantId}/${agent.id}/${input.device}`)) return { shown: false };
      services.presence.set(tenantId, {
        conversationId: input.conversationId,
        inboxId: state.inboxId,
        agentId: agent.id,
        name: agent.name,
        device: input.device,
        activity: input.activity,
      });
      return { shown: true };
    }),

  /**
   * Other agents' presence in the conversations this agent may see (a snapshot, then changes), and
   * this agent's in-app notices. When the stream ends, the tab leaves wherever it was.
   */
  watch: authedProcedure.input(z.object({ device })).subscription(async function* ({ ctx, input, signal }) {
    const { services, tenantId, agent } = ctx;
    const scope = inboxScope(services, tenantId, agent);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // As sync.live: a session that ended (signed out everywhere, expired) stops hearing anything.
    const check = () =>
      void ctx.auth.resolve(ctx.request.sessionCookie).then(
        (session) => session ?? stop.abort(),
        () => undefined,
      );
    const recheck = setInterval(check, ctx.auth.policy.touchEveryMs);
    const stopHearing = onAccessChanged(services.broadcast, tenantId, agent.id, check); // deactivated: at once
    try {
      yield* watchPresence(
        services.presence,
        services.broadcast,
        {
          tenantId,
          agentId: agent.id,
          device: input.device,
          sees: (conversationId) =>
            scope.all ? Promise.resolve(true) : scope.hasConversation(conversationId),
        },
        stop.signal,
      );
    } finally {
      clearInterval(recheck);
      stopHearing();
      signal?.removeEventListener('abort', onAbort);
    }
  }),
});
