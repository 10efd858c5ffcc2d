import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import { canTransition, stageOf } from '../workflow/decider';
import {
  CardErrorCode,
  type Card,
  type CardCommand,
  type CardEvent,
  type CardState,
  type MoveCard,
} from './types';

export function initialState(): CardState {
  return null;
}

export function decide(command: CardCommand, state: CardState): CardEvent[] {
  switch (command.type) {
    case 'EnterWorkflow': {
      const { conversationId, cycle, workflow, orderKey, by, at } = command.data;
      if (state && cycle <= state.cycle) return [];
      const first = workflow.stages[0];
      if (!first) {
        refuse(CardErrorCode.WORKFLOW_INVALID, `workflow ${workflow.workflowId} has no stages`, 'WF1');
      }
      const { workflowId } = workflow;
      const data = {
        conversationId,
        workflowId,
        stageId: first.id,
        cycle,
        orderKey: checkOrderKey(orderKey),
        by,
        at,
      };
      return [{ type: 'CardEnteredWorkflow', data: { ...data, entryActions: first.entryActions } }];
    }
    case 'MoveCard':
      return move(existing(state), command.data);
    default:
      return assertNever(command);
  }
}

export function evolve(state: CardState, event: CardEvent): CardState {
  switch (event.type) {
    case 'CardEnteredWorkflow': {
      const { conversationId, workflowId, stageId, cycle, orderKey, by, at } = event.data;
      const history = [...(state?.history ?? []), { stageId, cycle, by, at }];
      return { conversationId, workflowId, stageId, orderKey, cycle, history };
    }
    case 'CardMoved': {
      if (!state) return state;
      const { toStageId: stageId, orderKey, by, at } = event.data;
      return {
        ...state,
        stageId,
        orderKey,
        history: [...state.history, { stageId, cycle: state.cycle, by, at }],
      };
    }
    case 'CardReordered':
      return state && { ...state, orderKey: event.data.orderKey };
    default:
      return assertNever(event);
  }
}

/** The card aggregate (stream category `card`, one stream per conversation): its place on a workflow board. */
export const card: Decider<CardCommand, CardState, CardEvent> = { decide, evolve, initialState };

function move(card: Card, data: MoveCard['data']): CardEvent[] {
  const { toStageId, workflow, targetStageCount, force, by, at } = data;
  const orderKey = checkOrderKey(data.orderKey);
  if (workflow.workflowId !== card.workflowId) {
    refuse(
      CardErrorCode.WORKFLOW_MISMATCH,
      `the card is on workflow ${card.workflowId}, not ${workflow.workflowId}`,
      'CD2',
    );
  }
  const target = stageOf(workflow, toStageId);
  if (!target) {
    refuse(CardErrorCode.STAGE_NOT_FOUND, `workflow ${workflow.workflowId} has no stage ${toStageId}`, 'CD2');
  }
  if (toStageId === card.stageId) {
    return orderKey === card.orderKey
      ? []
      : [{ type: 'CardReordered', data: { stageId: toStageId, orderKey, by, at } }];
  }
  if (!canTransition(workflow, card.stageId, toStageId)) {
    const from = stageOf(workflow, card.stageId)?.name ?? card.stageId;
    refuse(
      CardErrorCode.TRANSITION_NOT_ALLOWED,
      `a card cannot move from ${from} to ${target.name}`,
      'WF3',
      'move it through the stages the workflow allows',
    );
  }
  if (!force && target.wipLimit !== null && targetStageCount >= target.wipLimit) {
    refuse(
      CardErrorCode.WIP_LIMIT_REACHED,
      `${target.name} already holds ${targetStageCount} of ${target.wipLimit} cards`,
      'WF5',
      'move a card out first, or force the move',
    );
  }
  const { workflowId } = card;
  const entryActions = target.entryActions;
  return [
    {
      type: 'CardMoved',
      data: { workflowId, fromStageId: card.stageId, toStageId, orderKey, entryActions, by, at },
    },
  ];
}

function existing(state: CardState): Card {
  if (!state) {
    refuse(CardErrorCode.CARD_NOT_FOUND, 'the conversation has no card: it never entered a workflow', 'CD5');
  }
  return state;
}

function checkOrderKey(orderKey: string): string {
  if (orderKey === '') refuse(CardErrorCode.ORDER_KEY_INVALID, 'a card needs a non-empty order key', 'CD6');
  return orderKey;
}
