import type { Role } from '../people/rules';
import { refuse } from '../shared/errors';

/** What an agent may do on a board: `edit` changes it, `view` receives it and its presence only. */
export type BoardPermission = 'edit' | 'view';
/** `none`: the board does not exist for that agent (an inbox they do not work in). */
export type BoardAccess = BoardPermission | 'none';

export const BoardPermissionErrorCode = {
  BOARD_READ_ONLY: 'BOARD_READ_ONLY',
} as const;
export type BoardPermissionErrorCode =
  (typeof BoardPermissionErrorCode)[keyof typeof BoardPermissionErrorCode];

/** Who asks to open a board, and who works the board's inbox. */
export interface BoardPermissionRequest {
  readonly role: Role;
  readonly agentId: string;
  /**
   * The agent ids of the members of the inbox whose conversations the board's workflow holds, or
   * null when no inbox feeds the workflow.
   */
  readonly inboxMembers: readonly string[] | null;
}

/**
 * BA1/BA2: an admin edits every board of their tenant; an agent edits the boards of the inboxes they
 * are a member of, only views a board no inbox feeds, and has no access to the board of an inbox
 * they do not work in (decision 0015). Tenancy is the caller's check, made before this one.
 */
export function boardPermission(request: BoardPermissionRequest): BoardAccess {
  if (request.role === 'admin') return 'edit';
  if (request.inboxMembers === null) return 'view';
  if (request.inboxMembers.includes(request.agentId)) return 'edit';
  // BA4: a supervisor sees every inbox (PE1), so every board, and edits only their own inboxes'.
  return request.role === 'supervisor' ? 'view' : 'none';
}

/**
 * BA3: moving a card, on the board or through the API, forced past a WIP limit or not, takes the
 * edit permission on the card's board; a viewer's move is refused with `BOARD_READ_ONLY`.
 */
export function requireBoardEdit(permission: BoardPermission): void {
  if (permission !== 'edit') {
    refuse(
      BoardPermissionErrorCode.BOARD_READ_ONLY,
      'you can view this board but not change it',
      'BA3',
      'ask an admin to add you to the board’s inbox',
    );
  }
}
