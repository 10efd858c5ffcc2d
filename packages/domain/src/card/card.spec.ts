import { describe, expect, it } from 'vitest';
import { board, T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { card } from './decider';
import type { CardCommand, CardEvent, MoveCard } from './types';

const given = (events: CardEvent[]) => spec(card).given(events);
const enter = (cycle: number, workflow = board, at = T0): CardCommand => ({
  type: 'EnterWorkflow',
  data: { conversationId: 'conv-1', cycle, workflow, orderKey: 'a0', by: 'system', at },
});
const entered = (cycle: number, at = T0): CardEvent => ({
  type: 'CardEnteredWorkflow',
  data: {
    conversationId: 'conv-1',
    workflowId: 'wf-1',
    stageId: 'new',
    cycle,
    orderKey: 'a0',
    entryActions: [{ type: 'add-label', label: 'untriaged' }],
    by: 'system',
    at,
  },
});
const move = (toStageId: string, overrides: Partial<MoveCard['data']> = {}): CardCommand => ({
  type: 'MoveCard',
  data: {
    toStageId,
    orderKey: 'a1',
    workflow: board,
    targetStageCount: 0,
    force: false,
    by: 'ann',
    at: T0 + 1,
    ...overrides,
  },
});
const moved = (fromStageId: string, toStageId: string, at = T0 + 1): CardEvent => ({
  type: 'CardMoved',
  data: {
    workflowId: 'wf-1',
    fromStageId,
    toStageId,
    orderKey: 'a1',
    entryActions: board.stages.find((stage) => stage.id === toStageId)?.entryActions ?? [],
    by: 'ann',
    at,
  },
});
const inTriage = [entered(1), moved('new', 'triage')];

describe('a card', () => {
  it('[CD1] enters the workflow at its first stage for a conversation cycle', () => {
    const state = given([])
      .when(enter(1))
      .then([entered(1)]);
    expect(state).toMatchObject({ workflowId: 'wf-1', stageId: 'new', cycle: 1, orderKey: 'a0' });
  });

  it('[CD1] enters once per cycle: a repeated or older entry changes nothing', () => {
    given([entered(2)])
      .when(enter(2))
      .thenNothingHappens();
    given([entered(2)])
      .when(enter(1))
      .thenNothingHappens();
  });

  it('[CD1] enters again, at the first stage, when a new cycle starts', () => {
    const state = given([...inTriage])
      .when(enter(2, board, T0 + 9))
      .then([entered(2, T0 + 9)]);
    expect(state).toMatchObject({ stageId: 'new', cycle: 2 });
  });

  it('[CD2] moves along an allowed transition', () => {
    const state = given(inTriage)
      .when(move('doing'))
      .then([moved('triage', 'doing')]);
    expect(state?.stageId).toBe('doing');
  });

  it('[CD2] refuses a forbidden move, naming both stages', () => {
    const error = given(inTriage).when(move('done')).thenThrows('TRANSITION_NOT_ALLOWED', 'WF3');
    expect(error.message).toBe('a card cannot move from Triage to Done');
  });

  it('[CD2] refuses a stage the workflow lacks, or another workflow', () => {
    given(inTriage).when(move('archive')).thenThrows('STAGE_NOT_FOUND', 'CD2');
    given(inTriage)
      .when(move('doing', { workflow: { ...board, workflowId: 'wf-2' } }))
      .thenThrows('WORKFLOW_MISMATCH', 'CD2');
  });

  it('[CD3] a move within its stage only reorders it, whatever the transitions and WIP limit', () => {
    const inDoing = [...inTriage, moved('triage', 'doing')];
    const state = given(inDoing)
      .when(move('doing', { orderKey: 'a5', targetStageCount: 9 }))
      .then([{ type: 'CardReordered', data: { stageId: 'doing', orderKey: 'a5', by: 'ann', at: T0 + 1 } }]);
    expect(state).toMatchObject({ stageId: 'doing', orderKey: 'a5' });
    given(inDoing)
      .when(move('doing', { orderKey: 'a1' }))
      .thenNothingHappens();
  });

  it('[CD4] keeps its stage history: where, in which cycle, who and when', () => {
    const state = given([...inTriage, moved('triage', 'doing', T0 + 2), entered(2, T0 + 3)]).state();
    expect(state?.history).toEqual([
      { stageId: 'new', cycle: 1, by: 'system', at: T0 },
      { stageId: 'triage', cycle: 1, by: 'ann', at: T0 + 1 },
      { stageId: 'doing', cycle: 1, by: 'ann', at: T0 + 2 },
      { stageId: 'new', cycle: 2, by: 'system', at: T0 + 3 },
    ]);
  });

  it('[CD5] a card that never entered a workflow cannot move', () => {
    given([]).when(move('triage')).thenThrows('CARD_NOT_FOUND', 'CD5');
  });

  it('[CD6] needs a non-empty order key', () => {
    given(inTriage)
      .when(move('doing', { orderKey: '' }))
      .thenThrows('ORDER_KEY_INVALID', 'CD6');
  });

  it('[WF1] a workflow without stages cannot be entered', () => {
    given([])
      .when(enter(1, { ...board, stages: [] }))
      .thenThrows('WORKFLOW_INVALID', 'WF1');
  });

  it('[WF4] a card on a removed stage may move to any stage', () => {
    const revised = { ...board, stages: board.stages.filter((stage) => stage.id !== 'triage') };
    given(inTriage)
      .when(move('done', { workflow: revised }))
      .then([moved('triage', 'done')]);
  });

  it('[WF5] refuses a move into a full stage unless forced', () => {
    given(inTriage)
      .when(move('doing', { targetStageCount: 2 }))
      .thenThrows('WIP_LIMIT_REACHED', 'WF5');
    given(inTriage)
      .when(move('doing', { targetStageCount: 2, force: true }))
      .then([moved('triage', 'doing')]);
    given(inTriage)
      .when(move('doing', { targetStageCount: 1 }))
      .then([moved('triage', 'doing')]);
  });

  it('[WF5] entering the workflow ignores WIP limits', () => {
    const limited = { ...board, stages: board.stages.map((stage) => ({ ...stage, wipLimit: 1 })) };
    given([])
      .when(enter(1, limited))
      .then([entered(1)]);
  });

  it('[WF6] entering a stage lists its entry actions for the caller to carry out', () => {
    const [first] = card.decide(enter(1), null);
    expect(first?.data).toMatchObject({ entryActions: [{ type: 'add-label', label: 'untriaged' }] });
    const [next] = card.decide(move('doing'), spec(card).given(inTriage).state());
    expect(next).toMatchObject({ type: 'CardMoved', data: { entryActions: [{ type: 'assign' }] } });
  });
});
