/**
 * A business rule said no. `code` is a stable constant that the API maps to a transport error,
 * `rule` the RULES.md id where one applies, and `hint` tells the user how to get what they wanted.
 */
export class DomainError<Code extends string = string> extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: Code,
    message: string,
    readonly details: { readonly rule?: string; readonly hint?: string } = {},
  ) {
    super(message);
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}

/** Throws the `DomainError` of a broken rule: `refuse(Codes.NOTE_EMPTY, 'a note needs some text', 'CV7')`. */
export function refuse(code: string, message: string, rule?: string, hint?: string): never {
  throw new DomainError(code, message, { ...(rule && { rule }), ...(hint && { hint }) });
}
