import { describe, expect, it } from 'vitest';
import { BoardPermissionErrorCode, boardPermission, requireBoardEdit } from './permission';

describe('access to a board', () => {
  it('[BA1] an admin edits a board whatever the inbox members', () => {
    expect(boardPermission({ role: 'admin', agentId: 'ada', inboxMembers: ['ana'] })).toBe('edit');
    expect(boardPermission({ role: 'admin', agentId: 'ada', inboxMembers: null })).toBe('edit');
  });

  it('[BA2] an agent who is a member of the board’s inbox edits it', () => {
    expect(boardPermission({ role: 'agent', agentId: 'ana', inboxMembers: ['ben', 'ana'] })).toBe('edit');
  });

  it('[BA2] an agent only views a board that no inbox feeds', () => {
    expect(boardPermission({ role: 'agent', agentId: 'ana', inboxMembers: null })).toBe('view');
  });

  it('[BA2] the board of an inbox the agent does not work in does not exist for them', () => {
    expect(boardPermission({ role: 'agent', agentId: 'chloe', inboxMembers: ['ana', 'ben'] })).toBe('none');
    expect(boardPermission({ role: 'agent', agentId: 'chloe', inboxMembers: [] })).toBe('none');
  });
});

describe('moving a card', () => {
  it('[BA3] takes the edit permission, forced past a WIP limit or not: a viewer is refused', () => {
    expect(() => requireBoardEdit('edit')).not.toThrow();
    let refused: unknown;
    try {
      requireBoardEdit('view');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: BoardPermissionErrorCode.BOARD_READ_ONLY,
      details: { rule: 'BA3' },
    });
  });
});
