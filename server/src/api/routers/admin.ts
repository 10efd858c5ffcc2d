import { z } from 'zod';
import type { InboxCommand, WorkflowDefinition } from '@parley/domain';
import { addTeamMember, createAgent, createTeam, newId, requireAgent } from '../../auth/accounts';
import { withTenant } from '../../auth/tenant-scope';
import {
  assignmentPolicy,
  displayName,
  email,
  id,
  password,
  platform,
  role,
  workflowDefinition,
} from '../schemas';
import { adminProcedure, router, type AuthedContext } from '../trpc';
import { actorMetadata, agentView, commandResult } from '../views';
import { channelsAdminRouter } from './channels';
import { peopleAdminProcedures } from './people';
import { settingsAdminRouter } from './settings';

function askInbox(ctx: AuthedContext, inboxId: string, command: InboxCommand) {
  return ctx.services.grains
    .inbox(ctx.tenantId, inboxId)
    .ask(command, { metadata: actorMetadata(ctx.agent) })
    .then(commandResult);
}

/** The agent must belong to this tenant: another tenant's id is NOT_FOUND, as if it did not exist. */
function requireOwnAgent(ctx: AuthedContext, agentId: string) {
  return withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => requireAgent(tx, agentId));
}

const member = { inboxId: id, agentId: id };

/** Inboxes, assignment policies and members. */
const inboxesRouter = router({
  /** Creates an inbox on a channel; `inboxId` is generated unless given. */
  create: adminProcedure
    .input(
      z.object({
        inboxId: id.optional(),
        name: displayName,
        channel: z.object({ platform, channelId: id }),
        policy: assignmentPolicy.default('round-robin'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const inboxId = input.inboxId ?? newId('ib');
      const result = await askInbox(ctx, inboxId, {
        type: 'CreateInbox',
        data: {
          inboxId,
          name: input.name,
          channel: input.channel,
          policy: input.policy,
          at: ctx.auth.clock(),
        },
      });
      return { inboxId, ...result };
    }),

  /** Adds an agent of this tenant to an inbox's assignment pool. */
  addMember: adminProcedure
    .input(
      z.object({
        ...member,
        weight: z.number().int().default(1),
        capacity: z.number().int().default(10),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const agent = await requireOwnAgent(ctx, input.agentId);
      return askInbox(ctx, input.inboxId, {
        type: 'AddMember',
        data: {
          agentId: agent.id,
          weight: input.weight,
          capacity: input.capacity,
          presence: agent.presence,
          at: ctx.auth.clock(),
        },
      });
    }),

  /** Removes an agent from an inbox; their conversations queue for the others (rule AS8). */
  removeMember: adminProcedure.input(z.object(member)).mutation(({ ctx, input }) =>
    askInbox(ctx, input.inboxId, {
      type: 'RemoveMember',
      data: { agentId: input.agentId, at: ctx.auth.clock() },
    }),
  ),

  /** How many conversations a member may hold at once in this inbox. */
  setCapacity: adminProcedure
    .input(z.object({ ...member, capacity: z.number().int() }))
    .mutation(({ ctx, input }) =>
      askInbox(ctx, input.inboxId, {
        type: 'SetCapacity',
        data: { agentId: input.agentId, capacity: input.capacity, at: ctx.auth.clock() },
      }),
    ),

  /** A member's share under the weighted policy. */
  setWeight: adminProcedure
    .input(z.object({ ...member, weight: z.number().int() }))
    .mutation(({ ctx, input }) =>
      askInbox(ctx, input.inboxId, {
        type: 'SetWeight',
        data: { agentId: input.agentId, weight: input.weight, at: ctx.auth.clock() },
      }),
    ),

  /** The inbox's assignment policy: round-robin, weighted or least-busy. */
  setPolicy: adminProcedure
    .input(z.object({ inboxId: id, policy: assignmentPolicy }))
    .mutation(({ ctx, input }) =>
      askInbox(ctx, input.inboxId, {
        type: 'SetAssignmentPolicy',
        data: { policy: input.policy, at: ctx.auth.clock() },
      }),
    ),
});

function askWorkflow(
  ctx: AuthedContext,
  type: 'CreateWorkflow' | 'ReviseWorkflow',
  definition: WorkflowDefinition,
) {
  return ctx.services.grains
    .workflow(ctx.tenantId, definition.workflowId)
    .ask({ type, data: { definition, at: ctx.auth.clock() } }, { metadata: actorMetadata(ctx.agent) })
    .then(commandResult);
}

/** Workflows: the boards' stages, WIP limits, entry actions and transitions. */
const workflowsRouter = router({
  /** Creates a workflow (rule WF8: once). */
  create: adminProcedure
    .input(z.object({ definition: workflowDefinition }))
    .mutation(({ ctx, input }) => askWorkflow(ctx, 'CreateWorkflow', input.definition)),
  /** Replaces a workflow's definition wholesale (rule WF7). */
  revise: adminProcedure
    .input(z.object({ definition: workflowDefinition }))
    .mutation(({ ctx, input }) => askWorkflow(ctx, 'ReviseWorkflow', input.definition)),
});

/** Agents and teams of this tenant; invitations, roles, deactivation and the audit trail (0035). */
const peopleRouter = router({
  ...peopleAdminProcedures,

  /** Creates an agent or admin who signs in with this email and password. */
  createAgent: adminProcedure
    .input(z.object({ email, name: displayName, role: role.default('agent'), password }))
    .mutation(async ({ ctx, input }) =>
      agentView(await createAgent(ctx.services.db.sql, ctx.tenantId, input)),
    ),

  /** Creates a team; `teamId` is generated unless given. */
  createTeam: adminProcedure
    .input(z.object({ teamId: id.optional(), name: displayName }))
    .mutation(({ ctx, input }) =>
      withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
        createTeam(tx, ctx.tenantId, { id: input.teamId ?? newId('tm'), name: input.name }),
      ),
    ),

  /** Adds an agent of this tenant to a team of this tenant. */
  addTeamMember: adminProcedure
    .input(z.object({ teamId: id, agentId: id }))
    .mutation(async ({ ctx, input }) => {
      await withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
        addTeamMember(tx, ctx.tenantId, input.teamId, input.agentId),
      );
      return { teamId: input.teamId, agentId: input.agentId };
    }),
});

/** What only admins may do. */
export const adminRouter = router({
  channels: channelsAdminRouter,
  inboxes: inboxesRouter,
  workflows: workflowsRouter,
  people: peopleRouter,
  settings: settingsAdminRouter,
});
