/** A request to an aggregate: an imperative type and its data, which carries time and ids as inputs. */
export interface DomainCommand<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** Ends every switch over a union: the compiler proves it unreachable, and at run time it fails loudly. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
