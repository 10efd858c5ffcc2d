import { expect } from 'vitest';
import { fold, type Decider, type DomainEvent } from '../shared/envelope';
import { isDomainError } from '../shared/errors';
import { findNonJson } from '../shared/json';

/**
 * Given / When / Then for a decider: `spec(decider).given([events]).when(command).then([events])`
 * or `.thenThrows(code, rule)`. `given(events).state()` folds the events for assertions on state.
 */
export function spec<Command, State, Event extends DomainEvent>(decider: Decider<Command, State, Event>) {
  return {
    given(events: readonly Event[]) {
      const state = () => fold(decider, decider.initialState(), events);
      return {
        state,
        when(command: Command) {
          const decide = () => decider.decide(command, state());
          return {
            /** Asserts the events, that they are plain JSON, and returns the state `evolve` makes of them. */
            then(expected: readonly Event[]): State {
              const events = decide();
              expect(events).toEqual(expected);
              expect(findNonJson(events)).toBeNull();
              return fold(decider, state(), events);
            },
            thenNothingHappens(): void {
              expect(decide()).toEqual([]);
            },
            thenThrows(code: string, rule?: string): Error {
              let thrown: unknown;
              try {
                decide();
              } catch (error) {
                thrown = error;
              }
              if (!isDomainError(thrown)) {
                throw new Error(`expected a DomainError ${code}, got ${String(thrown)}`);
              }
              expect(thrown.code).toBe(code);
              if (rule !== undefined) expect(thrown.details.rule).toBe(rule);
              return thrown;
            },
          };
        },
      };
    },
  };
}
