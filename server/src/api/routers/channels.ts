import { z } from 'zod';
import { withTenant } from '../../auth/tenant-scope';
import { InboxStore } from '../../channels/inbound/inbox-store';
import { channelKey, OutboxStore } from '../../channels/outbound/outbox-store';
import type { SimulatorKind } from '../../channels/simulators/platform-simulator';
import type { ChannelRecord } from '../../channels/types';
import { id } from '../schemas';
import { adminProcedure, router, TRPCError, type AuthedContext } from '../trpc';
import { channelSetupProcedures } from './channel-setup';

const simulatorKind = z.enum(['whatsapp', 'meta', 'telegram']);
const faultRequest = z
  .object({
    outage: z.boolean(),
    latencyMs: z.number().int().min(0).max(60_000),
    errorRate: z.number().min(0).max(1),
    rateLimit: z
      .object({
        retryAfterSeconds: z.number().int().min(0).max(3600),
        forMs: z.number().int().min(0).max(3_600_000),
      })
      .nullable(),
    duplicateRate: z.number().min(0).max(1),
    outOfOrder: z.boolean(),
  })
  .partial()
  .strict();
/** A dead letter's id: a `webhook_inbox` row number. */
const letterId = z.string().regex(/^\d{1,18}$/, 'a dead letter id is a number');

/** The simulator a channel points at, or null for a real platform (or the built-in web chat). */
function simulatorOf(channel: ChannelRecord): SimulatorKind | null {
  const kind = channel.apiBaseUrl.startsWith('simulator:') ? channel.apiBaseUrl.slice(10) : null;
  return kind === 'whatsapp' || kind === 'meta' || kind === 'telegram' ? kind : null;
}

/** The simulators of this process; NOT_FOUND when none run (production, or `PARLEY_SIMULATORS=off`). */
function simulators(ctx: AuthedContext) {
  const running = ctx.services.channels.simulators;
  if (Object.keys(running).length === 0) {
    throw new TRPCError({ code: 'NOT_FOUND', message: 'no platform simulators run on this server' });
  }
  return running;
}

/** This tenant's channels on one simulator (their platform ids): faults reach only these. */
async function simulatedChannels(ctx: AuthedContext, kind: SimulatorKind): Promise<string[]> {
  const channels = await ctx.services.channels.repo.channelsOfTenant(ctx.tenantId);
  return channels.filter((channel) => simulatorOf(channel) === kind).map((channel) => channel.externalId);
}

/**
 * The channels as an admin connects and operates them: setup (`channel-setup.ts`), their
 * breakers, outbox and dead letters, secret rotation, and (with the simulators on) the developer panel's fault injection. Every procedure is
 * admin-only and sees only its tenant's channels; the tables' row-level security backs that up.
 */
export const channelsAdminRouter = router({
  /** Connecting channels, credentials, the widget, test messages and secret rotation (0038). */
  ...channelSetupProcedures,

  /** Channels with their breaker, simulator faults and outbox counts, the latest outbox rows, apps. */
  overview: adminProcedure.query(async ({ ctx }) => {
    const { channels } = ctx.services;
    const now = Date.now();
    const breakers = channels.dispatcher.breakers.snapshot(now);
    const running = channels.simulators;
    const [records, apps, outbox, recent, deadInbound] = await Promise.all([
      channels.repo.channelsOfTenant(ctx.tenantId),
      channels.repo.appsOfTenant(ctx.tenantId),
      withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => new OutboxStore(tx).counts(ctx.tenantId)),
      withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => new OutboxStore(tx).recent(ctx.tenantId, 12)),
      withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
        new InboxStore(tx).deadLetters({ tenantId: ctx.tenantId, limit: 1000 }),
      ),
    ]);
    return {
      simulatorsRunning: Object.keys(running).length > 0,
      channels: records.map((channel) => {
        const simulator = simulatorOf(channel);
        const breaker = breakers[channelKey(ctx.tenantId, channel.channelId)];
        return {
          channelId: channel.channelId,
          platform: channel.platform,
          name: channel.name,
          simulator,
          breaker: breaker?.state ?? 'closed',
          pausedForMs: breaker?.pausedForMs ?? 0,
          faults: simulator && running[simulator] ? running[simulator].faultsFor(channel.externalId) : null,
        };
      }),
      outbox,
      recent: recent.map(({ reply: _reply, recipient: _recipient, ...row }) => row),
      deadInbound: deadInbound.length,
      /** Receipts for messages Parley never sent, ignored by this process since it started (IN14). */
      ignoredReceipts: channels.processor.ignoredReceipts(ctx.tenantId),
      apps: apps.map((app) => ({
        appId: app.appId,
        kind: app.kind,
        /** Requests refused before anything was written, since this process started (S8). */
        refusals: channels.refusals.of(app.appId),
        previousSecretExpiresAt:
          app.previousSecretExpiresAt !== null && app.previousSecretExpiresAt > now
            ? app.previousSecretExpiresAt
            : null,
      })),
    };
  }),

  /** Webhook deliveries that kept failing and replies that ended dead or failed, with their raw payloads. */
  deadLetters: adminProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) =>
      withTenant(ctx.services.db.sql, ctx.tenantId, async (tx) => {
        const inbound = await new InboxStore(tx).deadLetters({ tenantId: ctx.tenantId, limit: input.limit });
        const outbound = await new OutboxStore(tx).deadLetters(ctx.tenantId, input.limit);
        return {
          inbound: inbound.map((letter) => ({ ...letter, receivedAt: letter.receivedAt.getTime() })),
          outbound,
        };
      }),
    ),

  /** Puts one of this tenant's webhook dead letters back in the queue (as `parley webhooks replay`). */
  replay: adminProcedure.input(z.object({ id: letterId })).mutation(async ({ ctx, input }) => {
    const replayed = await withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
      new InboxStore(tx).replay(input.id, Date.now(), ctx.tenantId),
    );
    if (!replayed) throw new TRPCError({ code: 'NOT_FOUND', message: `#${input.id} is not a dead letter` });
    ctx.services.channels.processor.wake();
    return { id: input.id, replayed: true };
  }),

  /** Developer panel: merges faults into one simulator, for this tenant's channels only. */
  setFaults: adminProcedure
    .input(z.object({ simulator: simulatorKind, faults: faultRequest }))
    .mutation(async ({ ctx, input }) => {
      const simulator = simulators(ctx)[input.simulator];
      if (!simulator) throw new TRPCError({ code: 'NOT_FOUND', message: `no ${input.simulator} simulator` });
      const channels = await simulatedChannels(ctx, input.simulator);
      if (channels.length > 0) simulator.setFaults(input.faults, channels);
      return { simulator: input.simulator, channels: channels.length };
    }),

  /** Developer panel: clears the faults of this tenant's channels, on one simulator or all. */
  clearFaults: adminProcedure
    .input(z.object({ simulator: simulatorKind.optional() }).default({}))
    .mutation(async ({ ctx, input }) => {
      const running = simulators(ctx);
      const kinds = input.simulator ? [input.simulator] : (Object.keys(running) as SimulatorKind[]);
      for (const kind of kinds) running[kind]?.clearFaults(await simulatedChannels(ctx, kind));
      return { cleared: kinds };
    }),

  /** Developer panel: a simulated customer writes to one of this tenant's simulated channels now. */
  customerMessage: adminProcedure.input(z.object({ channelId: id })).mutation(async ({ ctx, input }) => {
    simulators(ctx);
    const posted = await ctx.services.channels.simulateCustomer(ctx.tenantId, input.channelId);
    if (!posted) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `there is no simulated channel ${input.channelId}` });
    }
    return posted;
  }),
});
