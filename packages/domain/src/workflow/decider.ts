import { assertNever } from '../shared/command';
import type { Decider } from '../shared/envelope';
import { refuse } from '../shared/errors';
import {
  WorkflowErrorCode,
  type Stage,
  type WorkflowCommand,
  type WorkflowDefinition,
  type WorkflowEvent,
  type WorkflowState,
} from './types';

export function initialState(): WorkflowState {
  return null;
}

export function decide(command: WorkflowCommand, state: WorkflowState): WorkflowEvent[] {
  const { definition, at } = command.data;
  switch (command.type) {
    case 'CreateWorkflow':
      if (state) {
        const message = `workflow ${state.workflowId} already exists`;
        refuse(WorkflowErrorCode.WORKFLOW_ALREADY_EXISTS, message, 'WF8');
      }
      return [{ type: 'WorkflowCreated', data: { definition: checkDefinition(definition), at } }];
    case 'ReviseWorkflow':
      if (!state) refuse(WorkflowErrorCode.WORKFLOW_NOT_FOUND, 'the workflow does not exist', 'WF8');
      if (definition.workflowId !== state.workflowId) {
        refuse(
          WorkflowErrorCode.WORKFLOW_INVALID,
          `workflow ${state.workflowId} cannot become ${definition.workflowId}`,
          'WF1',
        );
      }
      return [{ type: 'WorkflowRevised', data: { definition: checkDefinition(definition), at } }];
    default:
      return assertNever(command);
  }
}

export function evolve(_state: WorkflowState, event: WorkflowEvent): WorkflowState {
  switch (event.type) {
    case 'WorkflowCreated':
    case 'WorkflowRevised':
      return event.data.definition;
    default:
      return assertNever(event);
  }
}

/** The workflow aggregate (stream category `workflow`): a board's stages and allowed moves. */
export const workflow: Decider<WorkflowCommand, WorkflowState, WorkflowEvent> = {
  decide,
  evolve,
  initialState,
};

/**
 * Whether a card may move from one stage to another: staying put always may; a stage that no longer
 * exists may leave to any stage; otherwise any move when no transitions are declared, else only declared ones.
 */
export function canTransition(
  workflow: Pick<WorkflowDefinition, 'stages' | 'transitions'>,
  from: string,
  to: string,
): boolean {
  const has = (id: string) => workflow.stages.some((stage) => stage.id === id);
  if (!has(to)) return false;
  if (from === to || !has(from) || workflow.transitions.length === 0) return true;
  return workflow.transitions.some((transition) => transition.from === from && transition.to === to);
}

export function stageOf(workflow: Pick<WorkflowDefinition, 'stages'>, stageId: string): Stage | undefined {
  return workflow.stages.find((stage) => stage.id === stageId);
}

function checkDefinition(definition: WorkflowDefinition): WorkflowDefinition {
  const problem = findProblem(definition);
  if (problem) {
    refuse(WorkflowErrorCode.WORKFLOW_INVALID, `workflow ${definition.workflowId}: ${problem}`, 'WF1');
  }
  return definition;
}

function findProblem({ name, stages, transitions }: WorkflowDefinition): string | null {
  if (name.trim() === '') return 'the workflow needs a name';
  if (stages.length === 0) return 'a workflow needs at least one stage';
  const ids = new Set<string>();
  for (const stage of stages) {
    if (stage.id.trim() === '' || stage.name.trim() === '') return 'every stage needs an id and a name';
    if (ids.has(stage.id)) return `stage id ${stage.id} is used twice`;
    ids.add(stage.id);
    if (stage.wipLimit !== null && !(Number.isInteger(stage.wipLimit) && stage.wipLimit >= 1)) {
      return `stage ${stage.id}'s WIP limit ${stage.wipLimit} is invalid: use a whole number of 1 or more, or none`;
    }
    if (stage.entryActions.some((action) => action.type === 'add-label' && action.label.trim() === '')) {
      return `stage ${stage.id} adds a label with no name`;
    }
  }
  const unknown = transitions.flatMap(({ from, to }) => [from, to]).find((id) => !ids.has(id));
  return unknown === undefined
    ? null
    : `a transition names stage ${unknown}, which the workflow does not declare`;
}
