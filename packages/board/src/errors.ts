/** Why a board operation was refused; stable codes the UI can map to messages. */
export const BoardErrorCode = {
  COLUMN_NOT_FOUND: 'COLUMN_NOT_FOUND',
  COLUMN_EXISTS: 'COLUMN_EXISTS',
  CARD_NOT_FOUND: 'CARD_NOT_FOUND',
  CARD_EXISTS: 'CARD_EXISTS',
  POSITION_NOT_FOUND: 'POSITION_NOT_FOUND',
  NOTE_RANGE: 'NOTE_RANGE',
  INVALID_INPUT: 'INVALID_INPUT',
} as const;
export type BoardErrorCode = (typeof BoardErrorCode)[keyof typeof BoardErrorCode];

/** A board operation refused before touching the document: the document is unchanged. */
export class BoardError extends Error {
  override readonly name = 'BoardError';
  constructor(
    readonly code: BoardErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when `value` is a `BoardError`, optionally with the given code. */
export function isBoardError(value: unknown, code?: BoardErrorCode): value is BoardError {
  return value instanceof BoardError && (code === undefined || value.code === code);
}
