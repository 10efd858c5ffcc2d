import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { withTenant } from '../../auth/tenant-scope';
import { pushEndpointAllowed, vapidKeysFor } from '../../notifications';
import {
  preferencesOf,
  removeSubscription,
  saveSubscription,
  updatePreferences,
} from '../../notifications/settings';
import { createSecretBox } from '../../crypto/secrets';
import { authedProcedure, router } from '../trpc';

const base64url = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'a push key is base64url');
const endpoint = z.string().min(1).max(2000);

/**
 * The signed-in agent's notifications (#15 item 8, decision 0026): their choices, and their
 * devices' Web Push subscriptions. Everything here is the agent's own; no other ids are taken.
 */
export const notificationsRouter = router({
  /** The tenant's VAPID public key, for `PushManager.subscribe({ applicationServerKey })`. */
  publicKey: authedProcedure.query(async ({ ctx }) => {
    const keys = await vapidKeysFor(ctx.services.db.sql, createSecretBox(ctx.services.keys), ctx.tenantId);
    return { publicKey: keys.publicKey };
  }),

  /** What the agent is told of, and whether the open app plays a sound. */
  settings: authedProcedure.query(({ ctx }) =>
    withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => preferencesOf(tx, ctx.agent.id)),
  ),

  /** Changes some of the agent's choices; answers all of them. */
  updateSettings: authedProcedure
    .input(
      z
        .object({
          assigned: z.boolean(),
          customer_replied: z.boolean(),
          mentioned: z.boolean(),
          sound: z.boolean(),
        })
        .partial()
        .strict(),
    )
    .mutation(({ ctx, input }) => updatePreferences(ctx.services.db.sql, ctx.tenantId, ctx.agent.id, input)),

  /** Keeps this device's push subscription for the agent (one per device; a repeat refreshes it). */
  subscribe: authedProcedure
    .input(z.object({ endpoint, keys: z.object({ p256dh: base64url, auth: base64url }) }))
    .mutation(async ({ ctx, input }) => {
      if (!pushEndpointAllowed(input.endpoint, ctx.services.notifications.config)) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'a push subscription must come from a browser push service (an https address)',
        });
      }
      await saveSubscription(ctx.services.db.sql, ctx.tenantId, ctx.agent.id, input);
      return { subscribed: true };
    }),

  /** Forgets this device's subscription (notifications turned off here, or signing out). */
  unsubscribe: authedProcedure.input(z.object({ endpoint })).mutation(async ({ ctx, input }) => ({
    removed: await removeSubscription(ctx.services.db.sql, ctx.tenantId, ctx.agent.id, input.endpoint),
  })),
});
