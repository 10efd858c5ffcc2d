import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { inForeground, PriorityGate, withPriorities } from '../src/db/priority';

/** Work that records when it starts and ends, and finishes when told. */
function step(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    finish,
    work: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
/** Work that only records that it ran. */
const mark = (log: string[], name: string) => () => Promise.resolve(void log.push(name));

describe('the PGlite priority gate', () => {
  it('lets waiting foreground work go before waiting background work, one holder at a time, each kind in order', async () => {
    const gate = new PriorityGate();
    const log: string[] = [];
    const first = step(log, 'b1');
    const running = gate.run(first.work);
    const b2 = gate.run(mark(log, 'b2'));
    const b3 = gate.run(mark(log, 'b3'));
    const f1 = inForeground(() => gate.run(mark(log, 'f1')));
    const f2 = inForeground(() => gate.run(mark(log, 'f2')));
    await tick();
    expect(gate.waiting).toEqual({ foreground: 2, background: 2 });
    expect(log).toEqual(['start b1']); // nothing overtakes work that holds the gate
    first.finish();
    await Promise.all([running, b2, b3, f1, f2]);
    expect(log).toEqual(['start b1', 'end b1', 'f1', 'f2', 'b2', 'b3']);
  });

  it('gives waiting background work a turn after `fairness` foreground turns, so requests cannot starve it', async () => {
    const gate = new PriorityGate(2);
    const log: string[] = [];
    const first = step(log, 'hold');
    const running = gate.run(first.work);
    const all = [
      gate.run(mark(log, 'b1')),
      ...['f1', 'f2', 'f3', 'f4', 'f5'].map((name) => inForeground(() => gate.run(mark(log, name)))),
      gate.run(mark(log, 'b2')),
    ];
    first.finish();
    await Promise.all([running, ...all]);
    expect(log.slice(2)).toEqual(['f1', 'f2', 'b1', 'f3', 'f4', 'b2', 'f5']);
  });

  it('passes a failure on and lets the next waiter in', async () => {
    const gate = new PriorityGate();
    const failing = gate.run(() => Promise.reject(new Error('statement failed')));
    const next = gate.run(() => Promise.resolve('next ran'));
    await expect(failing).rejects.toThrow('statement failed');
    await expect(next).resolves.toBe('next ran');
    expect(gate.waiting).toEqual({ foreground: 0, background: 0 });
  });

  describe('on PGlite', () => {
    let db: PGlite | undefined;
    afterEach(async () => {
      await db?.close();
      db = undefined;
    });

    it('keeps a transaction whole: foreground work waits for its commit, then goes before background work queued earlier', async () => {
      const gate = new PriorityGate();
      db = withPriorities(await PGlite.create('memory://'), gate);
      await db.exec('CREATE TABLE t (n int)');
      const order: string[] = [];
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      const tx = db.transaction(async (t) => {
        await t.query('INSERT INTO t VALUES (1)');
        inside();
        await held;
        await t.query('INSERT INTO t VALUES (2)');
      });
      await entered;
      const background = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
        order.push('background');
        return r.rows[0]!.n;
      });
      const foreground = inForeground(() =>
        db!.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
          order.push('foreground');
          return r.rows[0]!.n;
        }),
      );
      await tick();
      expect(order).toEqual([]);
      commit();
      await tx;
      expect(await foreground).toBe(2);
      expect(await background).toBe(2);
      expect(order).toEqual(['foreground', 'background']);
    });
  });
});
