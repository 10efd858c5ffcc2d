/** Codes of channel failures: in logs, in dead letters' `last_error_code`, in `ReplyFailed` reasons. */
export const ChannelErrorCode = {
  /** A delivery names a channel that its app does not own, or none at all. */
  CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
  /** The body is signed but not the platform's shape. */
  PAYLOAD_INVALID: 'PAYLOAD_INVALID',
  /** A receipt names a reply we have not recorded as sent yet: retried, the platform's way. */
  RECEIPT_BEFORE_SEND: 'RECEIPT_BEFORE_SEND',
  /** A domain command was refused while processing. */
  DOMAIN_REFUSED: 'DOMAIN_REFUSED',
  /** Anything else that may pass on a retry (the database, a timeout). */
  TRANSIENT: 'TRANSIENT',
  /** The reply's conversation has no channel route. */
  NO_ROUTE: 'NO_ROUTE',
  /** The platform kept failing until the dispatcher gave up. */
  DELIVERY_FAILED: 'DELIVERY_FAILED',
  /** The simulator a channel points at is not running in this process. */
  SIMULATOR_NOT_RUNNING: 'SIMULATOR_NOT_RUNNING',
  /** The content cannot be sent on this platform by this sender. */
  CONTENT_NOT_SUPPORTED: 'CONTENT_NOT_SUPPORTED',
} as const;
export type ChannelErrorCode = (typeof ChannelErrorCode)[keyof typeof ChannelErrorCode];

/** A channel failure with a code; `permanent` ones are dead-lettered without more retries. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
    readonly permanent = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
