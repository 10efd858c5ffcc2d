import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';
import type { EntryAction, WorkflowDefinition } from '../workflow/types';

export const CardErrorCode = {
  CARD_NOT_FOUND: 'CARD_NOT_FOUND',
  WORKFLOW_MISMATCH: 'WORKFLOW_MISMATCH',
  STAGE_NOT_FOUND: 'STAGE_NOT_FOUND',
  TRANSITION_NOT_ALLOWED: 'TRANSITION_NOT_ALLOWED',
  WIP_LIMIT_REACHED: 'WIP_LIMIT_REACHED',
  ORDER_KEY_INVALID: 'ORDER_KEY_INVALID',
  WORKFLOW_INVALID: 'WORKFLOW_INVALID',
} as const;
export type CardErrorCode = (typeof CardErrorCode)[keyof typeof CardErrorCode];

/** Puts the conversation's card on the workflow's first stage for one cycle of the conversation. */
export type EnterWorkflow = DomainCommand<
  'EnterWorkflow',
  {
    conversationId: string;
    cycle: number;
    workflow: WorkflowDefinition;
    orderKey: string;
    by: string;
    at: EpochMs;
  }
>;
/**
 * Moves the card to a stage (or to a new place in its stage). `targetStageCount` is how many cards the
 * caller's board shows in the target stage; `force` overrides the WIP limit.
 */
export type MoveCard = DomainCommand<
  'MoveCard',
  {
    toStageId: string;
    orderKey: string;
    workflow: WorkflowDefinition;
    targetStageCount: number;
    force: boolean;
    by: string;
    at: EpochMs;
  }
>;
export type CardCommand = EnterWorkflow | MoveCard;

/** `entryActions` are the stage's, copied at decision time, for the caller to carry out. */
export type CardEnteredWorkflow = DomainEvent<
  'CardEnteredWorkflow',
  {
    conversationId: string;
    workflowId: string;
    stageId: string;
    cycle: number;
    orderKey: string;
    entryActions: EntryAction[];
    by: string;
    at: EpochMs;
  }
>;
export type CardMoved = DomainEvent<
  'CardMoved',
  {
    workflowId: string;
    fromStageId: string;
    toStageId: string;
    orderKey: string;
    entryActions: EntryAction[];
    by: string;
    at: EpochMs;
  }
>;
export type CardReordered = DomainEvent<
  'CardReordered',
  { stageId: string; orderKey: string; by: string; at: EpochMs }
>;
export type CardEvent = CardEnteredWorkflow | CardMoved | CardReordered;

/** One stay in a stage: who put the card there, when, and in which cycle. */
export type StageVisit = {
  readonly stageId: string;
  readonly cycle: number;
  readonly by: string;
  readonly at: EpochMs;
};

export type Card = {
  readonly conversationId: string;
  readonly workflowId: string;
  readonly stageId: string;
  readonly orderKey: string;
  readonly cycle: number;
  readonly history: readonly StageVisit[];
};

/** Null until the conversation's card first enters a workflow. */
export type CardState = Card | null;
