import { z } from 'zod';
import { RETENTION_MAX_DAYS, RETENTION_MIN_DAYS } from '@parley/domain';
import { setRetention, tenantSettingsOf } from '../../crypto/retention';
import { adminProcedure, router } from '../trpc';
import { actorMetadata } from '../views';

/**
 * Whole days, or null to keep message content for ever (RT1). The domain decides again; zod
 * refuses the shapes it cannot even be asked about (text, fractions, out of range) first.
 */
const retentionDays = z.number().int().min(RETENTION_MIN_DAYS).max(RETENTION_MAX_DAYS).nullable();

/** The tenant's own settings (admins): for now how long message content stays readable (0031). */
export const settingsAdminRouter = router({
  /** The tenant's retention of message content in days, or null (kept for ever, the default). */
  get: adminProcedure.query(async ({ ctx }) => {
    const { state } = await tenantSettingsOf(ctx.services.store, ctx.tenantId);
    return { retentionDays: state.retentionDays };
  }),

  /**
   * Sets the retention of message content. Recorded as `RetentionSet` in the tenant's settings
   * stream with the admin as its actor (the audit trail); the same value again records nothing.
   * Content past the limit becomes unreadable at the next hourly sweep.
   */
  setRetention: adminProcedure
    .input(z.object({ days: retentionDays }).strict())
    .mutation(async ({ ctx, input }) => {
      const result = await setRetention(
        ctx.services.store,
        ctx.tenantId,
        { days: input.days, changedBy: ctx.agent.id, at: ctx.auth.clock() },
        actorMetadata(ctx.agent),
      );
      if (result.changed)
        ctx.services.logger.info(
          { tenantId: ctx.tenantId, changedBy: ctx.agent.id, retentionDays: result.days },
          'retention changed',
        );
      return { retentionDays: result.days, changed: result.changed };
    }),
});
