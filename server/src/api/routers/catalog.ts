import { withTenant } from '../../auth/tenant-scope';
import { authedProcedure, router } from '../trpc';

/** What an agent picks from while replying: platform templates and canned responses. */
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
});
