import { fold, isDomainError, streamId } from '@parley/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGrainRuntime, createMemorySnapshotStore, defineGrain } from '../src/actors';
import type { SnapshotStore } from '../src/actors';
import { createLocalBroadcast } from '../src/broadcast';
import { createMemoryEventStore } from '../src/store/memory';
import type { EventStore } from '../src/store/types';
import { acme, ledgerDecider } from './actors.support';
import type { LedgerCommand, LedgerState } from './actors.support';

const keys = ['a', 'b', 'c'] as const;

const command = fc.oneof(
  fc.record({ type: fc.constant('Deposit' as const), amount: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ type: fc.constant('Withdraw' as const), amount: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ type: fc.constant('Audit' as const) }),
);

const plan = fc.array(fc.record({ key: fc.constantFrom(...keys), command }), { minLength: 1, maxLength: 40 });

type Outcome = { readonly state: LedgerState; readonly version: number } | { readonly code: string };

/** The same ledger, one key at a time, one command at a time: what the runtime must be equivalent to. */
function sequentially(commands: readonly LedgerCommand[]): { outcomes: Outcome[]; types: string[] } {
  let state = ledgerDecider.initialState();
  let version = 0;
  const types: string[] = [];
  const outcomes = commands.map((next): Outcome => {
    try {
      const events = ledgerDecider.decide(next, state);
      state = fold(ledgerDecider, state, events);
      version += events.length;
      types.push(...events.map((event) => event.type));
      return { state, version };
    } catch (error) {
      if (!isDomainError(error)) throw error;
      return { code: error.code };
    }
  });
  return { outcomes, types };
}

describe('grain runtime: interleavings', () => {
  it('random interleavings of commands on a few keys end as if each key ran its commands in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        plan,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.scheduler(),
        async (steps, maxActive, snapshotEvery, scheduler) => {
          const grain = defineGrain({ category: 'ledger', decider: ledgerDecider, snapshotEvery });
          const inner = createMemoryEventStore();
          const innerSnapshots = createMemorySnapshotStore();
          // Every store call yields to the scheduler, which picks which waiting call goes on next.
          const turn = (label: string) => scheduler.schedule(Promise.resolve(), label);
          const store: EventStore = {
            ...inner,
            append: (...args) => turn(`append ${args[1]}`).then(() => inner.append(...args)),
            readStream: (...args) => turn(`read ${args[1]}`).then(() => inner.readStream(...args)),
          };
          const snapshots: SnapshotStore = {
            load: (...args) => turn(`snapshot ${args[1]}`).then(() => innerSnapshots.load(...args)),
            save: (...args) => innerSnapshots.save(...args),
          };
          const errors: unknown[] = [];
          const runtime = createGrainRuntime({
            store,
            snapshots,
            broadcast: createLocalBroadcast(),
            maxActive,
            sweepEveryMs: 0,
            onError: (error) => errors.push(error),
          });

          const sent = new Map<string, number[]>(keys.map((key) => [key, []]));
          const outcomes = new Map<number, Outcome>();
          const asks = steps.map(({ key, command: body }, index) =>
            // Sending is scheduled too, so the commands of one key reach it in a random order.
            turn(`send ${index}`).then(async () => {
              sent.get(key)!.push(index);
              try {
                const answer = await runtime.get(grain, acme, key).ask({ ...body, account: key });
                outcomes.set(index, { state: answer.state, version: answer.version });
              } catch (error) {
                outcomes.set(index, { code: isDomainError(error) ? error.code : String(error) });
              }
            }),
          );
          await scheduler.waitFor(Promise.all(asks));

          for (const key of keys) {
            const order = sent.get(key)!;
            const expected = sequentially(order.map((index) => ({ ...steps[index]!.command, account: key })));
            expect(order.map((index) => outcomes.get(index))).toEqual(expected.outcomes);
            const stored = await inner.readStream(acme, streamId(`ledger-${key}`));
            expect(stored.map((event) => event.type)).toEqual(expected.types);
            const last = [...expected.outcomes].reverse().find((outcome) => 'state' in outcome);
            const read = await scheduler.waitFor(runtime.read(grain, acme, key));
            expect(read).toEqual(last ?? { state: ledgerDecider.initialState(), version: 0 });
          }
          expect(runtime.stats().active).toBeLessThanOrEqual(maxActive);
          expect(errors).toEqual([]);
          await runtime.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
