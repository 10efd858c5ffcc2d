import { CONNECTABLE_PLATFORMS, GREETING_MAX, MAX_ALLOWED_ORIGINS, type TenantId } from '@parley/domain';
import { z } from 'zod';
import {
  configureWidget,
  connectChannel,
  replaceCredentials,
  rotateWebhookSecret,
  sendTestMessage,
  SetupError,
  type SetupActor,
  type SetupServices,
} from '../../channels/setup';
import { channelSetupView } from '../../channels/setup-view';
import { id } from '../schemas';
import { adminProcedure, TRPCError, type AuthedContext } from '../trpc';
import { actorMetadata } from '../views';

/** Credentials by field name; which fields a platform needs is the domain's rule (CS1). */
const credentials = z.record(z.string().regex(/^[A-Za-z]{1,40}$/), z.string().max(2048));

const widgetSettings = z
  .object({
    colour: z.string().max(20),
    greeting: z.string().max(GREETING_MAX * 2),
    preChat: z.object({ name: z.boolean(), email: z.boolean() }).strict(),
    allowedOrigins: z.array(z.string().max(300)).max(MAX_ALLOWED_ORIGINS * 2),
  })
  .strict();

function servicesOf(ctx: AuthedContext): SetupServices {
  const { services } = ctx;
  return {
    store: services.store,
    channels: services.channels,
    sql: services.db.sql,
    clock: ctx.auth.clock,
    inboxExists: async (tenantId: TenantId, inboxId: string) =>
      (await services.grains.inbox(tenantId, inboxId).read()).state !== null,
  };
}

const actorOf = (ctx: AuthedContext): SetupActor => ({
  id: ctx.agent.id,
  metadata: actorMetadata(ctx.agent),
});

/** Runs a setup step; its refusals travel as tRPC errors with the sentence the admin reads. */
async function step<T>(ctx: AuthedContext, work: () => Promise<T>, done: string): Promise<T> {
  try {
    const result = await work();
    ctx.services.logger.info({ tenantId: ctx.tenantId, by: ctx.agent.id }, done);
    return result;
  } catch (error) {
    if (error instanceof SetupError) throw new TRPCError({ code: error.code, message: error.message });
    throw error;
  }
}

/**
 * Connecting channels from Settings (#17, decision 0038), under `admin.channels`: admins only, the
 * session's tenant only. Credentials go in and never come out; each change is an event with its actor.
 */
export const channelSetupProcedures = {
  /** The tenant's channels with their webhook URL, verify token, last webhook and widget. */
  setup: adminProcedure.query(({ ctx }) =>
    channelSetupView(
      { channels: ctx.services.channels, sql: ctx.services.db.sql },
      ctx.tenantId,
      ctx.auth.clock(),
    ),
  ),

  /** Connects a channel; Telegram's webhook is set for the admin. Answers the new channel's id. */
  connect: adminProcedure
    .input(
      z
        .object({
          platform: z.enum(CONNECTABLE_PLATFORMS),
          name: z.string().max(200),
          inboxId: id,
          target: z.enum(['simulator', 'platform']),
          credentials: credentials.default({}),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) =>
      step(
        ctx,
        async () => ({ channelId: await connectChannel(servicesOf(ctx), ctx.tenantId, actorOf(ctx), input) }),
        'channel connected',
      ),
    ),

  /** Replaces a channel's token (and Meta app secret); the old secret stays accepted for a day. */
  replaceCredentials: adminProcedure
    .input(z.object({ channelId: id, credentials }).strict())
    .mutation(({ ctx, input }) =>
      step(
        ctx,
        async () => {
          await replaceCredentials(servicesOf(ctx), ctx.tenantId, actorOf(ctx), input);
          return { channelId: input.channelId, saved: true };
        },
        'channel credentials replaced',
      ),
    ),

  /** Sets a web chat widget's colour, greeting, pre-chat form and allowed origins. */
  configureWidget: adminProcedure
    .input(z.object({ channelId: id, settings: widgetSettings }).strict())
    .mutation(({ ctx, input }) =>
      step(
        ctx,
        async () => ({ settings: await configureWidget(servicesOf(ctx), ctx.tenantId, actorOf(ctx), input) }),
        'web chat widget configured',
      ),
    ),

  /** A simulated customer writes to the channel now; answers the conversation it lands in. */
  testMessage: adminProcedure
    .input(z.object({ channelId: id }).strict())
    .mutation(({ ctx, input }) =>
      step(
        ctx,
        () => sendTestMessage(servicesOf(ctx), ctx.tenantId, input.channelId),
        'channel test message',
      ),
    ),

  /**
   * Rotates an app's webhook secret with no downtime (IN2): a new random secret becomes current and
   * the old one stays accepted for `graceHours`. The new secret is shown once; a bot is told it.
   */
  rotateSecret: adminProcedure
    .input(z.object({ appId: id, graceHours: z.number().min(0).max(720).default(24) }))
    .mutation(({ ctx, input }) =>
      step(
        ctx,
        async () => ({
          appId: input.appId,
          ...(await rotateWebhookSecret(servicesOf(ctx), ctx.tenantId, actorOf(ctx), input)),
        }),
        'webhook secret rotated',
      ),
    ),
};
