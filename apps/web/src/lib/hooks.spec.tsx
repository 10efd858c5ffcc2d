import { act, render, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyDb } from './db/schema';
import { useThrottledTableQuery } from './hooks';

const databases: ParleyDb[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.delete();
});

/** A new database, opened before any hook mounts: opening it notifies every table once. */
async function openDb(): Promise<ParleyDb> {
  const db = new ParleyDb(`hooks-${crypto.randomUUID()}`);
  databases.push(db);
  await db.open();
  return db;
}

/** Renders a component counting `table` through the hook; `runs` counts the reads. */
function renderCount(db: ParleyDb, minGapMs: number, table: 'conversations' | 'meta' = 'conversations') {
  const seen = { runs: 0, value: undefined as number | undefined };
  function Count() {
    const value = useThrottledTableQuery(
      db,
      [table],
      async () => {
        seen.runs += 1;
        return db.table(table).count();
      },
      [],
      minGapMs,
    );
    seen.value = value;
    return null;
  }
  const view = render(<Count />);
  return { seen, view };
}

function conversation(id: string) {
  return { conversationId: id } as unknown as Parameters<ParleyDb['conversations']['put']>[0];
}

/** Waits until `check` passes (Testing Library's waitFor commits React's updates in act). */
const until = (check: () => void) => waitFor(check, { timeout: 5_000, interval: 5 });

describe('useThrottledTableQuery (the inbox list query)', () => {
  it('answers at once, then again after a write to its table', async () => {
    const db = await openDb();
    const { seen, view } = renderCount(db, 20);
    await until(() => expect(seen.value).toBe(0));
    await act(() => db.conversations.put(conversation('c1')));
    await until(() => expect(seen.value).toBe(1));
    view.unmount();
  });

  it('does not re-read for writes to other tables', async () => {
    const db = await openDb();
    const { seen, view } = renderCount(db, 10);
    // A witness on the written table: once it has read the write, the change notification that
    // both hooks get in the same dispatch has come and gone.
    const witness = renderCount(db, 10, 'meta');
    await until(() => expect([seen.value, witness.seen.value]).toEqual([0, 0]));
    const before = seen.runs;
    await act(() => db.meta.put({ key: 'unrelated', value: 1 }));
    await until(() => expect(witness.seen.value).toBe(1));
    expect(seen.runs).toBe(before);
    view.unmount();
    witness.view.unmount();
  });

  it('folds a burst of writes into a few reads and still ends on the last state', async () => {
    const db = await openDb();
    const { seen, view } = renderCount(db, 100);
    await until(() => expect(seen.value).toBe(0));
    const before = seen.runs;
    await act(async () => {
      for (let i = 0; i < 30; i++) await db.conversations.put(conversation(`c${i}`));
    });
    await until(() => expect(seen.value).toBe(30));
    // Thirty writes within one gap: at most one read as they start and one after the gap.
    expect(seen.runs - before).toBeLessThanOrEqual(2);
    view.unmount();
  });

  it('stops reading once unmounted', async () => {
    const db = await openDb();
    const { seen, view } = renderCount(db, 10);
    const witness = renderCount(db, 10);
    await until(() => expect([seen.value, witness.seen.value]).toEqual([0, 0]));
    view.unmount();
    const before = seen.runs;
    await act(() => db.conversations.put(conversation('c1')));
    await until(() => expect(witness.seen.value).toBe(1));
    expect(seen.runs).toBe(before);
    witness.view.unmount();
  });
});
