import { withTenant } from '../../auth/tenant-scope';
import { tenantSettingsOf } from '../../crypto/retention';
import { authedProcedure, router } from '../trpc';

/**
 * What an agent's device fetches at start and keeps for offline use: platform templates, canned
 * responses, and how long the tenant keeps message content.
 */
export const catalogRouter = router({
  /** The tenant's message templates (WhatsApp): only approved ones can be sent (rule WA3). */
  templates: authedProcedure.query(({ ctx }) =>
    withTenant(ctx.services.db.sql, ctx.tenantId, async (tx) => {
      const rows = await tx.query<{
        name: string;
        language: string;
        approved: boolean;
        param_count: number;
        body: string;
      }>('SELECT name, language, approved, param_count, body FROM message_templates ORDER BY name, language');
      return rows.map((row) => ({
        name: row.name,
        language: row.language,
        approved: row.approved,
        paramCount: row.param_count,
        body: row.body,
      }));
    }),
  ),

  /** The tenant's canned responses, by shortcut. */
  cannedResponses: authedProcedure.query(({ ctx }) =>
    withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
      tx.query<{ id: string; shortcut: string; text: string }>(
        'SELECT id, shortcut, text FROM canned_responses ORDER BY shortcut',
      ),
    ),
  ),

  /**
   * The tenant's retention of message content in days, or null (kept for ever): devices redact the
   * content they synced once the server's sweep has made it unreadable (decision 0031). Every agent
   * reads it; only admins change it (`admin.settings.setRetention`).
   */
  retention: authedProcedure.query(async ({ ctx }) => {
    const { state } = await tenantSettingsOf(ctx.services.store, ctx.tenantId);
    return { retentionDays: state.retentionDays };
  }),
});
