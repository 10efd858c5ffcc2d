import { act, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyDb } from './db/schema';
import { useThrottledTableQuery } from './hooks';

const databases: ParleyDb[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.delete();
});

function openDb(): ParleyDb {
  const db = new ParleyDb(`hooks-${crypto.randomUUID()}`);
  databases.push(db);
  return db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Renders a component counting the conversations table through the hook; `runs` counts the reads. */
function renderCount(db: ParleyDb, minGapMs: number) {
  const seen = { runs: 0, value: undefined as number | undefined };
  function Count() {
    const value = useThrottledTableQuery(
      db,
      ['conversations'],
      async () => {
        seen.runs += 1;
        return db.conversations.count();
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

describe('useThrottledTableQuery (the inbox list query)', () => {
  it('answers at once, then again after a write to its table', async () => {
    const db = openDb();
    const { seen, view } = renderCount(db, 20);
    await act(() => sleep(30));
    expect(seen.value).toBe(0);
    await act(async () => {
      await db.conversations.put(conversation('c1'));
      await sleep(60);
    });
    expect(seen.value).toBe(1);
    view.unmount();
  });

  it('does not re-read for writes to other tables', async () => {
    const db = openDb();
    const { seen, view } = renderCount(db, 10);
    await act(() => sleep(30));
    const before = seen.runs;
    await act(async () => {
      await db.meta.put({ key: 'unrelated', value: 1 });
      await sleep(50);
    });
    expect(seen.runs).toBe(before);
    view.unmount();
  });

  it('folds a burst of writes into a few reads and still ends on the last state', async () => {
    const db = openDb();
    const { seen, view } = renderCount(db, 100);
    await act(() => sleep(20));
    const before = seen.runs;
    await act(async () => {
      for (let i = 0; i < 30; i++) await db.conversations.put(conversation(`c${i}`));
      await sleep(400);
    });
    // Thirty writes within one gap: at most one read as they start and one after the gap.
    expect(seen.runs - before).toBeLessThanOrEqual(2);
    expect(seen.value).toBe(30);
    view.unmount();
  });

  it('stops reading once unmounted', async () => {
    const db = openDb();
    const { seen, view } = renderCount(db, 10);
    await act(() => sleep(20));
    view.unmount();
    const before = seen.runs;
    await db.conversations.put(conversation('c1'));
    await sleep(50);
    expect(seen.runs).toBe(before);
  });
});
