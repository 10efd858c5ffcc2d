/** What an agent may do on a board: `edit` changes it, `view` receives it and its presence only. */
export type BoardPermission = 'edit' | 'view';

/** Who asks to open a board, and who works the board's inbox. */
export interface BoardPermissionRequest {
  readonly role: 'admin' | 'agent';
  readonly agentId: string;
  /**
   * The agent ids of the members of the inbox whose conversations the board's workflow holds, or
   * null when no inbox feeds the workflow.
   */
  readonly inboxMembers: readonly string[] | null;
}

/**
 * BA1/BA2: an admin edits every board of their tenant; an agent edits the boards of the inboxes they
 * are a member of and may view the others. Tenancy is the caller's check, made before this one.
 */
export function boardPermission(request: BoardPermissionRequest): BoardPermission {
  if (request.role === 'admin') return 'edit';
  return request.inboxMembers?.includes(request.agentId) ? 'edit' : 'view';
}
