import type { DomainCommand } from '../shared/command';
import type { DomainEvent } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';

/** Something to do when a card enters a stage; the caller carries it out on the conversation or inbox. */
export type EntryAction =
  | { type: 'assign' }
  | { type: 'add-label'; label: string }
  | { type: 'set-status'; status: 'open' | 'pending' | 'resolved' };

/** A kanban column. `wipLimit` null means no limit. */
export type Stage = { id: string; name: string; wipLimit: number | null; entryActions: EntryAction[] };
export type Transition = { from: string; to: string };

/** Stages in board order; with no transitions declared, any move is allowed. */
export type WorkflowDefinition = {
  workflowId: string;
  name: string;
  stages: Stage[];
  transitions: Transition[];
};

export const WorkflowErrorCode = {
  WORKFLOW_NOT_FOUND: 'WORKFLOW_NOT_FOUND',
  WORKFLOW_ALREADY_EXISTS: 'WORKFLOW_ALREADY_EXISTS',
  WORKFLOW_INVALID: 'WORKFLOW_INVALID',
} as const;
export type WorkflowErrorCode = (typeof WorkflowErrorCode)[keyof typeof WorkflowErrorCode];

export type CreateWorkflow = DomainCommand<'CreateWorkflow', { definition: WorkflowDefinition; at: EpochMs }>;
/** Replaces stages and transitions wholesale: the board editor sends the whole definition. */
export type ReviseWorkflow = DomainCommand<'ReviseWorkflow', { definition: WorkflowDefinition; at: EpochMs }>;
export type WorkflowCommand = CreateWorkflow | ReviseWorkflow;

export type WorkflowCreated = DomainEvent<'WorkflowCreated', { definition: WorkflowDefinition; at: EpochMs }>;
export type WorkflowRevised = DomainEvent<'WorkflowRevised', { definition: WorkflowDefinition; at: EpochMs }>;
export type WorkflowEvent = WorkflowCreated | WorkflowRevised;

/** Null until CreateWorkflow. */
export type WorkflowState = WorkflowDefinition | null;
