import { z } from 'zod';
import { findTenant } from '../../auth/accounts';
import { serializeCookie, sessionCookieName } from '../../auth/cookies';
import { withTenant } from '../../auth/tenant-scope';
import type { Context } from '../context';
import { email, password, tenantSlug } from '../schemas';
import { authedProcedure, publicProcedure, router } from '../trpc';
import { agentView } from '../views';

function setSessionCookie(ctx: Context, value: string, maxAgeMs: number): void {
  ctx.request.setCookie(
    serializeCookie(sessionCookieName(ctx.request.secure), value, {
      maxAgeSeconds: maxAgeMs / 1000,
      secure: ctx.request.secure,
    }),
  );
}

/** Sign-in, sign-out, and who am I. */
export const authRouter = router({
  /** Checks the password and sets the httpOnly session cookie. Use a non-streaming link: it sets a header. */
  signIn: publicProcedure
    .input(z.object({ tenantId: tenantSlug, email, password }))
    .mutation(async ({ ctx, input }) => {
      const { session, cookieValue } = await ctx.auth.signIn({ ...input, address: ctx.request.address });
      setSessionCookie(ctx, cookieValue, ctx.auth.policy.ttlMs);
      return { tenantId: session.tenantId, agent: agentView(session.agent), expiresAt: session.expiresAt };
    }),

  /** Ends this browser's session (if any) and clears its cookie. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    const session = await ctx.resolveSession();
    if (session) await ctx.auth.signOut(session);
    setSessionCookie(ctx, '', 0);
    return { signedOut: session !== null };
  }),

  /** Ends every session of the signed-in agent, on every device. */
  signOutEverywhere: authedProcedure.mutation(async ({ ctx }) => {
    const ended = await ctx.auth.signOutEverywhere(ctx.session);
    setSessionCookie(ctx, '', 0);
    return { sessionsEnded: ended };
  }),

  /** The signed-in agent, their tenant, and when the session ends if unused. */
  me: authedProcedure.query(async ({ ctx }) => {
    const tenant = await withTenant(ctx.services.db.sql, ctx.tenantId, findTenant);
    return {
      tenant: { id: ctx.tenantId, name: tenant?.name ?? ctx.tenantId },
      agent: agentView(ctx.agent),
      expiresAt: ctx.session.expiresAt,
    };
  }),
});
