import { describe, expect, it } from 'vitest';
import { board, T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { canTransition, workflow } from './decider';
import type { WorkflowDefinition, WorkflowEvent } from './types';

const given = (events: WorkflowEvent[]) => spec(workflow).given(events);
const created: WorkflowEvent = { type: 'WorkflowCreated', data: { definition: board, at: T0 } };
const create = (definition: WorkflowDefinition) => ({
  type: 'CreateWorkflow' as const,
  data: { definition, at: T0 },
});
const revise = (definition: WorkflowDefinition) => ({
  type: 'ReviseWorkflow' as const,
  data: { definition, at: T0 },
});

describe('a workflow', () => {
  it('[WF1] is created from a valid definition', () => {
    expect(given([]).when(create(board)).then([created])).toEqual(board);
  });

  it.each<[string, Partial<WorkflowDefinition>]>([
    ['no stages', { stages: [] }],
    [
      'a duplicate stage id',
      { stages: [...board.stages, { id: 'new', name: 'Again', wipLimit: null, entryActions: [] }] },
    ],
    ['a blank stage name', { stages: [{ id: 'x', name: ' ', wipLimit: null, entryActions: [] }] }],
    ['a WIP limit of 0', { stages: [{ id: 'x', name: 'X', wipLimit: 0, entryActions: [] }] }],
    ['a fractional WIP limit', { stages: [{ id: 'x', name: 'X', wipLimit: 1.5, entryActions: [] }] }],
    [
      'a blank label action',
      { stages: [{ id: 'x', name: 'X', wipLimit: null, entryActions: [{ type: 'add-label', label: '' }] }] },
    ],
    ['a transition to an undeclared stage', { transitions: [{ from: 'new', to: 'archive' }] }],
    ['a blank name', { name: '' }],
  ])('[WF1] refuses %s', (_problem, change) => {
    given([])
      .when(create({ ...board, ...change }))
      .thenThrows('WORKFLOW_INVALID', 'WF1');
  });

  it('[WF2] keeps stages in the order given', () => {
    const state = given([]).when(create(board)).then([created]);
    expect(state?.stages.map((stage) => stage.id)).toEqual(['new', 'triage', 'doing', 'done']);
  });

  it('[WF3] allows only the declared transitions, in their direction', () => {
    expect(canTransition(board, 'new', 'triage')).toBe(true);
    expect(canTransition(board, 'done', 'triage')).toBe(true);
    expect(canTransition(board, 'triage', 'new')).toBe(false);
    expect(canTransition(board, 'new', 'done')).toBe(false);
    expect(canTransition(board, 'new', 'nowhere')).toBe(false);
  });

  it('[WF3] allows any move between declared stages when no transitions are declared', () => {
    const open = { ...board, transitions: [] };
    expect(canTransition(open, 'new', 'done')).toBe(true);
    expect(canTransition(open, 'done', 'new')).toBe(true);
    expect(canTransition(open, 'done', 'nowhere')).toBe(false);
  });

  it('[WF3] staying in the same stage is always allowed', () => {
    expect(canTransition(board, 'doing', 'doing')).toBe(true);
  });

  it('[WF4] a card on a stage that no longer exists may move to any declared stage', () => {
    expect(canTransition(board, 'archived', 'done')).toBe(true);
  });

  it('[WF7] a revision replaces the stages and transitions', () => {
    const revised = { ...board, stages: board.stages.slice(0, 2), transitions: [] };
    const state = given([created])
      .when(revise(revised))
      .then([{ type: 'WorkflowRevised', data: { definition: revised, at: T0 } }]);
    expect(state).toEqual(revised);
    given([created])
      .when(revise({ ...board, stages: [] }))
      .thenThrows('WORKFLOW_INVALID', 'WF1');
    given([created])
      .when(revise({ ...board, workflowId: 'wf-2' }))
      .thenThrows('WORKFLOW_INVALID', 'WF1');
  });

  it('[WF8] a workflow is created once and revised only once it exists', () => {
    given([created]).when(create(board)).thenThrows('WORKFLOW_ALREADY_EXISTS');
    given([]).when(revise(board)).thenThrows('WORKFLOW_NOT_FOUND');
  });
});
