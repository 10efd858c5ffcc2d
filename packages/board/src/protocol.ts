/**
 * The board's own message on a y-websocket connection, beside sync (0), awareness (1), auth (2) and
 * query-awareness (3): a notice from the server to one agent, as a lib0 varString of JSON. A client
 * reads it with `provider.messageHandlers[BOARD_NOTICE_MESSAGE] = (_e, decoder) =>
 * parseBoardNotice(decoding.readVarString(decoder))`.
 */
export const BOARD_NOTICE_MESSAGE = 64;

/** What the server tells one agent about their own edits. */
export type BoardNotice =
  /** The workflow forbids the move; the server put the card back. */
  | {
      readonly kind: 'move-refused';
      readonly cardId: string;
      readonly from: string;
      readonly to: string;
      readonly reason: string;
    }
  /** The agent may only read this board: their edits were not applied or shared. */
  | { readonly kind: 'edits-dropped'; readonly reason: string };

/** Serialises a notice for the wire. */
export function formatBoardNotice(notice: BoardNotice): string {
  return JSON.stringify(notice);
}

/** Reads a notice from the wire; null when it is not one this version understands. */
export function parseBoardNotice(text: string): BoardNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const notice = value as Record<string, unknown>;
  const strings = (...keys: string[]) => keys.every((key) => typeof notice[key] === 'string');
  switch (notice.kind) {
    case 'move-refused':
      return strings('cardId', 'from', 'to', 'reason') ? (notice as BoardNotice) : null;
    case 'edits-dropped':
      return strings('reason') ? (notice as BoardNotice) : null;
    default:
      return null;
  }
}
