import {
  canTransition,
  stageOf,
  type CardCommand,
  type JsonObject,
  type MoveCard,
  type TenantId,
  type WorkflowDefinition,
  type WorkflowState,
} from '@parley/domain';
import type { BoardServerOptions, CardMovedEvent, MoveVerdict, ProposedMove } from './types';

/** What the bridge needs of the grains; `createGrains(runtime)` from `server/src/grains.ts` provides it. */
export interface WorkflowBridgeGrains {
  workflow(tenantId: TenantId, workflowId: string): { read(): Promise<{ readonly state: WorkflowState }> };
  card(
    tenantId: TenantId,
    conversationId: string,
  ): { ask(command: CardCommand, options?: { readonly metadata?: JsonObject }): Promise<unknown> };
}

export interface WorkflowBridgeOptions {
  readonly grains: WorkflowBridgeGrains;
  /** The workflow a board follows, or null for a free board. Defaults to the workflow with the board's id. */
  readonly workflowOf?: (tenantId: TenantId, boardId: string) => string | null | Promise<string | null>;
}

/**
 * The domain bridge for `attachBoardServer`: `canMove` applies the board's workflow (WF3), and
 * `onCardMoved` records each allowed move as the card aggregate's `CardMoved` (`card-<conversationId>`),
 * the audit trail's source. A board with no workflow allows every move and records none.
 */
export function workflowBridge(
  options: WorkflowBridgeOptions,
): Required<Pick<BoardServerOptions, 'canMove' | 'onCardMoved'>> {
  const { grains, workflowOf = (_tenantId, boardId) => boardId } = options;

  async function workflowFor(tenantId: TenantId, boardId: string): Promise<WorkflowDefinition | null> {
    const workflowId = await workflowOf(tenantId, boardId);
    if (workflowId === null) return null;
    return (await grains.workflow(tenantId, workflowId).read()).state;
  }

  return {
    async canMove(move) {
      const workflow = await workflowFor(move.tenantId, move.boardId);
      return workflow ? judgeMove(workflow, move) : { allowed: true };
    },
    async onCardMoved(event) {
      const workflow = await workflowFor(event.tenantId, event.boardId);
      if (!workflow) return;
      await grains.card(event.tenantId, event.conversationId).ask(toMoveCard(event, workflow), {
        metadata: {
          actor: { kind: 'agent', id: event.by },
          via: 'board',
          boardId: event.boardId,
          cardId: event.cardId,
        },
      });
    },
  };
}

/** The workflow's verdict on a move (`canTransition`), with a reason an agent can act on. */
export function judgeMove(
  workflow: WorkflowDefinition,
  move: Pick<ProposedMove, 'from' | 'to'>,
): MoveVerdict {
  if (canTransition(workflow, move.from, move.to)) return { allowed: true };
  const target = stageOf(workflow, move.to);
  if (!target) return { allowed: false, reason: `${move.to} is not a stage of workflow ${workflow.name}` };
  const from = stageOf(workflow, move.from)?.name ?? move.from;
  return {
    allowed: false,
    reason: `the workflow does not allow moving a card from ${from} to ${target.name}`,
  };
}

/**
 * The card command for a move the board made. Forced past WIP limits: on the board they are
 * advisory, and an offline merge may already have exceeded one (WF5).
 */
export function toMoveCard(event: CardMovedEvent, workflow: WorkflowDefinition): MoveCard {
  return {
    type: 'MoveCard',
    data: {
      toStageId: event.to,
      orderKey: event.key,
      workflow,
      targetStageCount: 0,
      force: true,
      by: event.by,
      at: event.at,
    },
  };
}
