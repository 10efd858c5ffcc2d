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
