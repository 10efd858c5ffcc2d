import { z } from 'zod';
import { listAgents, listTeams, setAgentPresence } from '../../auth/accounts';
import { withTenant } from '../../auth/tenant-scope';
import { spreadPresence } from '../../people/access';
import { agentLoad } from '../../projections/agent-load';
import { presence } from '../schemas';
import { authedProcedure, router } from '../trpc';
import { actorMetadata, agentView } from '../views';

/** The tenant's agents with their load, their teams, and an agent's own presence. */
export const agentsRouter = router({
  /** Every agent of the tenant with how many unresolved conversations each is assigned. */
  list: authedProcedure.query(async ({ ctx }) => {
    const { services, tenantId } = ctx;
    const agents = await withTenant(services.db.sql, tenantId, listAgents);
    await services.projections.agentLoad.catchUp();
    const load = agentLoad(services.projections.agentLoad.state, tenantId);
    return agents.map((agent) => ({ ...agentView(agent), load: load.get(agent.id) ?? 0 }));
  }),

  /** The signed-in agent's presence, here and in every inbox they belong to (for assignment). */
  setPresence: authedProcedure.input(z.object({ presence })).mutation(async ({ ctx, input }) => {
    const { services, tenantId, agent } = ctx;
    await withTenant(services.db.sql, tenantId, (tx) => setAgentPresence(tx, agent.id, input.presence));
    await spreadPresence(services, tenantId, agent.id, input.presence, {
      at: ctx.auth.clock(),
      metadata: actorMetadata(agent),
    });
    return { presence: input.presence };
  }),

  /** The tenant's teams and their members. */
  teams: authedProcedure.query(({ ctx }) =>
    withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => listTeams(tx)),
  ),
});
