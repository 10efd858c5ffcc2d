import { z } from 'zod';
import {
  CardErrorCode,
  DomainError,
  requireBoardEdit,
  StreamCategory,
  WorkflowErrorCode,
} from '@parley/domain';
import { inboxScope } from '../../auth/inbox-scope';
import { boardPermissionOf } from '../board-access';
import { commandId, id } from '../schemas';
import { aggregateIds } from '../tenant-streams';
import { authedProcedure, router } from '../trpc';
import { actorMetadata, commandResult, inboxView } from '../views';

/** Most cards one board query reads; boards past this need the board read model (packages/board). */
const MAX_BOARD_CARDS = 500;

/** Inboxes, workflows (board definitions), their cards, and moving a card. */
export const boardsRouter = router({
  /** The tenant's inboxes with their channel, policy and members. */
  inboxes: authedProcedure.query(async ({ ctx }) => {
    const { services, tenantId } = ctx;
    const ids = await aggregateIds(services.db.sql, tenantId, StreamCategory.inbox);
    const scope = inboxScope(services, tenantId, ctx.agent);
    const views = [];
    for (const inboxId of ids) {
      if (!(await scope.hasInbox(inboxId))) continue; // 0015: an agent sees their own inboxes
      const { state, version } = await services.grains.inbox(tenantId, inboxId).read();
      if (state) views.push(inboxView(state, version));
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }),

  /** The tenant's workflows: each board's stages, WIP limits and transitions. */
  workflows: authedProcedure.query(async ({ ctx }) => {
    const { services, tenantId } = ctx;
    const ids = await aggregateIds(services.db.sql, tenantId, StreamCategory.workflow);
    const scope = inboxScope(services, tenantId, ctx.agent);
    const views = [];
    for (const workflowId of ids) {
      if (!(await scope.hasWorkflow(workflowId))) continue; // 0015: not the boards of others' inboxes
      const { state, version } = await services.grains.workflow(tenantId, workflowId).read();
      if (state) views.push({ ...state, version });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }),

  /** One board: its workflow and the cards on it, in stage order then order key. */
  board: authedProcedure.input(z.object({ workflowId: id })).query(async ({ ctx, input }) => {
    const { services, tenantId } = ctx;
    const workflow = await services.grains.workflow(tenantId, input.workflowId).read();
    const scope = inboxScope(services, tenantId, ctx.agent);
    if (workflow.state === null || !(await scope.hasWorkflow(input.workflowId))) {
      throw new DomainError(WorkflowErrorCode.WORKFLOW_NOT_FOUND, `there is no workflow ${input.workflowId}`);
    }
    const definition = workflow.state;
    const stageOrder = new Map(definition.stages.map((stage, index) => [stage.id, index]));
    const cards = [];
    for (const conversationId of await aggregateIds(
      services.db.sql,
      tenantId,
      StreamCategory.card,
      MAX_BOARD_CARDS,
    )) {
      const { state, version } = await services.grains.card(tenantId, conversationId).read();
      if (state?.workflowId !== definition.workflowId) continue;
      if (!(await scope.hasConversation(conversationId))) continue;
      const { stageId, orderKey, cycle } = state;
      cards.push({ conversationId, stageId, orderKey, cycle, version });
    }
    cards.sort(
      (a, b) =>
        (stageOrder.get(a.stageId) ?? Infinity) - (stageOrder.get(b.stageId) ?? Infinity) ||
        (a.orderKey < b.orderKey ? -1 : a.orderKey > b.orderKey ? 1 : 0),
    );
    return { workflow: { ...definition, version: workflow.version }, cards };
  }),

  /**
   * Moves a conversation's card to a stage (or within one). `targetStageCount` is how many cards the
   * client's board shows in the target stage (the WIP limit is advisory: rule WF5).
   */
  moveCard: authedProcedure
    .input(
      z.object({
        conversationId: id,
        toStageId: id,
        orderKey: z.string().max(200),
        targetStageCount: z.number().int().min(0),
        force: z.boolean().default(false),
        commandId,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { services, tenantId, agent } = ctx;
      const card = services.grains.card(tenantId, input.conversationId);
      const { state } = await card.read();
      const inScope = await inboxScope(services, tenantId, agent).hasConversation(input.conversationId);
      if (state === null || !inScope) {
        throw new DomainError(CardErrorCode.CARD_NOT_FOUND, 'this conversation has no card on a board', {
          rule: 'CD5',
        });
      }
      // BA3: the card's board is its workflow; a viewer may not move, forced or not.
      const permission = await boardPermissionOf(services.grains, tenantId, agent, state.workflowId);
      const workflow = await services.grains.workflow(tenantId, state.workflowId).read();
      if (permission === null || workflow.state === null) {
        throw new DomainError(
          WorkflowErrorCode.WORKFLOW_NOT_FOUND,
          `there is no workflow ${state.workflowId}`,
        );
      }
      requireBoardEdit(permission);
      const result = await card.ask(
        {
          type: 'MoveCard',
          data: {
            toStageId: input.toStageId,
            orderKey: input.orderKey,
            workflow: workflow.state,
            targetStageCount: input.targetStageCount,
            force: input.force,
            by: agent.id,
            at: ctx.auth.clock(),
          },
        },
        {
          metadata: actorMetadata(agent),
          ...(input.commandId === undefined ? {} : { idempotencyKey: `${agent.id}:${input.commandId}` }),
        },
      );
      return commandResult(result);
    }),
});
