import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import type {
  BoardPermissionErrorCode,
  CardErrorCode,
  ContactErrorCode,
  ConversationErrorCode,
  InboxErrorCode,
  PeopleErrorCode,
  ReplyRefusalCode,
  SettingsErrorCode,
  WorkflowErrorCode,
} from '@parley/domain';
import { InvalidIdError, isDomainError } from '@parley/domain';
import { GrainConflictError } from '../actors/errors';
import type { AccountErrorCode } from '../auth/accounts';
import type { AuthErrorCode } from '../auth/service';
import { ConcurrencyError } from '../store/errors';
import type { ReplyErrorCode } from '../commands/client-commands';
import type { ListErrorCode } from './conversation-list';

type KnownCode =
  | ConversationErrorCode
  | InboxErrorCode
  | WorkflowErrorCode
  | CardErrorCode
  | ContactErrorCode
  | SettingsErrorCode
  | PeopleErrorCode
  | BoardPermissionErrorCode
  | ReplyRefusalCode
  | AccountErrorCode
  | (typeof AuthErrorCode)[keyof typeof AuthErrorCode]
  | (typeof ReplyErrorCode)[keyof typeof ReplyErrorCode]
  | (typeof ListErrorCode)[keyof typeof ListErrorCode];

/**
 * Every refusal code Parley knows and the tRPC error it travels as. The `Record` makes a new code
 * in any of the const objects a compile error here until someone decides how it travels.
 * NOT_FOUND covers other tenants' ids too: a foreign id is indistinguishable from no id.
 */
const TRPC_CODE: Readonly<Record<KnownCode, TRPC_ERROR_CODE_KEY>> = {
  // Something named does not exist (in this tenant).
  CONVERSATION_NOT_FOUND: 'NOT_FOUND',
  REPLY_NOT_FOUND: 'NOT_FOUND',
  INBOX_NOT_FOUND: 'NOT_FOUND',
  MEMBER_NOT_FOUND: 'NOT_FOUND',
  WORKFLOW_NOT_FOUND: 'NOT_FOUND',
  CARD_NOT_FOUND: 'NOT_FOUND',
  STAGE_NOT_FOUND: 'NOT_FOUND',
  TEMPLATE_NOT_FOUND: 'NOT_FOUND',
  TENANT_NOT_FOUND: 'NOT_FOUND',
  AGENT_NOT_FOUND: 'NOT_FOUND',
  TEAM_NOT_FOUND: 'NOT_FOUND',
  INVITATION_NOT_FOUND: 'NOT_FOUND',
  // It exists already.
  INBOX_ALREADY_EXISTS: 'CONFLICT',
  MEMBER_ALREADY_ADDED: 'CONFLICT',
  WORKFLOW_ALREADY_EXISTS: 'CONFLICT',
  TENANT_ALREADY_EXISTS: 'CONFLICT',
  EMAIL_ALREADY_EXISTS: 'CONFLICT',
  TEAM_ALREADY_EXISTS: 'CONFLICT',
  SEQUENCE_REUSED: 'CONFLICT',
  AGENT_ALREADY_EXISTS: 'CONFLICT',
  INVITATION_PENDING: 'CONFLICT',
  // The request itself is malformed for the rules.
  NOTE_EMPTY: 'BAD_REQUEST',
  LABEL_EMPTY: 'BAD_REQUEST',
  CONTENT_INVALID: 'BAD_REQUEST',
  WEIGHT_INVALID: 'BAD_REQUEST',
  CAPACITY_INVALID: 'BAD_REQUEST',
  WORKFLOW_INVALID: 'BAD_REQUEST',
  ORDER_KEY_INVALID: 'BAD_REQUEST',
  TEXT_EMPTY: 'BAD_REQUEST',
  TEXT_TOO_LONG: 'BAD_REQUEST',
  MEDIA_TYPE_NOT_SUPPORTED: 'BAD_REQUEST',
  MEDIA_TOO_LARGE: 'BAD_REQUEST',
  TEMPLATE_NOT_SUPPORTED: 'BAD_REQUEST',
  TEMPLATE_PARAMS_MISSING: 'BAD_REQUEST',
  TEMPLATE_PARAMS_MISMATCH: 'BAD_REQUEST',
  PASSWORD_TOO_SHORT: 'BAD_REQUEST',
  PASSWORD_TOO_LONG: 'BAD_REQUEST',
  CURSOR_INVALID: 'BAD_REQUEST',
  ERASURE_REASON_REQUIRED: 'BAD_REQUEST',
  CONTACT_NOTE_EMPTY: 'BAD_REQUEST',
  CONTACT_NOTE_TOO_LONG: 'BAD_REQUEST',
  EXPORTER_REQUIRED: 'BAD_REQUEST',
  RETENTION_INVALID: 'BAD_REQUEST',
  // Well-formed, but the current state says no.
  PLATFORM_MISMATCH: 'PRECONDITION_FAILED',
  SNOOZE_NOT_IN_FUTURE: 'PRECONDITION_FAILED',
  ASSIGNEE_NOT_MEMBER: 'PRECONDITION_FAILED',
  WINDOW_CLOSED: 'PRECONDITION_FAILED',
  HUMAN_AGENT_WINDOW_CLOSED: 'PRECONDITION_FAILED',
  TEMPLATE_NOT_APPROVED: 'PRECONDITION_FAILED',
  WORKFLOW_MISMATCH: 'PRECONDITION_FAILED',
  TRANSITION_NOT_ALLOWED: 'PRECONDITION_FAILED',
  WIP_LIMIT_REACHED: 'PRECONDITION_FAILED',
  LAST_ADMIN: 'PRECONDITION_FAILED',
  AGENT_DEACTIVATED: 'PRECONDITION_FAILED',
  INVITATION_EXPIRED: 'PRECONDITION_FAILED',
  INVITATION_USED: 'PRECONDITION_FAILED',
  INVITATION_REVOKED: 'PRECONDITION_FAILED',
  // Who you are, and what you may do.
  BOARD_READ_ONLY: 'FORBIDDEN',
  INVALID_CREDENTIALS: 'UNAUTHORIZED',
  SIGN_IN_RATE_LIMITED: 'TOO_MANY_REQUESTS',
};

/** Every code with an explicit mapping, for the test that keeps the table complete. */
export const MAPPED_CODES: readonly string[] = Object.keys(TRPC_CODE);

/** The tRPC error code a refusal code travels as; an unknown code is the caller's fault (400). */
export function trpcCodeFor(code: string): TRPC_ERROR_CODE_KEY {
  return Object.hasOwn(TRPC_CODE, code) ? TRPC_CODE[code as KnownCode] : 'BAD_REQUEST';
}

/**
 * The tRPC error code for an error a procedure threw, or undefined to leave it an internal error.
 * Domain refusals keep their code; the store's and runtime's conflicts ask the client to retry.
 */
export function trpcCodeForError(error: unknown): TRPC_ERROR_CODE_KEY | undefined {
  if (isDomainError(error)) return trpcCodeFor(error.code);
  if (error instanceof GrainConflictError || error instanceof ConcurrencyError) return 'CONFLICT';
  if (error instanceof InvalidIdError) return 'BAD_REQUEST';
  return undefined;
}
