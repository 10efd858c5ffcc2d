import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDays, utcDay } from '../../src/db/partitions';
import { archiveBefore, restoreDay } from '../../src/store/archive';
import { START } from '../../src/store/checkpoint';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from '../support/databases';

const backends: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

const acme = tenantId('acme');
const s = streamId('conversation-archived');

for (const [name, create, enabled] of backends) {
  describe.runIf(enabled)(`[SE] archived days: ${name}`, () => {
    let test: TestDatabase;
    let store: SqlEventStore;
    let now = Date.now();
    let dir: string;
    const today = utcDay(Date.now());
    const days = [addDays(today, -5), addDays(today, -4), addDays(today, -3)];
    beforeEach(async () => {
      test = await create();
      dir = join(test.dataDir, 'archive');
      store = await SqlEventStore.open({ db: test.db, archiveDir: dir, clock: () => now });
    });
    afterEach(async () => {
      await store.close();
      await test.dispose();
    });

    /** Two events of the stream on each of the three days, then one today: versions 1..7. */
    async function writeDays(): Promise<void> {
      let version = 0;
      for (const day of days) {
        now = Date.parse(`${day}T12:00:00Z`);
        const result = await store.append(
          acme,
          s,
          [
            { type: 'Said', data: { day, n: 1 } },
            { type: 'Said', data: { day, n: 2 } },
          ],
          { expectedVersion: version },
        );
        version = result.nextExpectedVersion;
      }
      now = Date.now();
      await store.append(acme, s, [{ type: 'Said', data: { day: today, n: 1 } }], {
        expectedVersion: version,
      });
    }

    it('[SE] with the middle of three archived days restored, the stream reads whole and in order, and the next append follows it', async () => {
      await writeDays();
      const before = (await store.readAll(acme, START, 100)).events.map((e) => e.eventId);
      expect(await archiveBefore(test.db, { before: today, dir })).toEqual(expect.arrayContaining(days));
      expect(await restoreDay(test.db, { day: days[1]!, dir })).toBe(2);

      const reader = await SqlEventStore.open({ db: test.db, archiveDir: dir }); // cold: no hot tier
      try {
        const events = await reader.readStream(acme, s);
        expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(events.map((e) => (e.data as { day: string }).day)).toEqual([
          days[0],
          days[0],
          days[1],
          days[1],
          days[2],
          days[2],
          today,
        ]);
        expect(
          (await reader.readStream(acme, s, { fromVersion: 3, limit: 3 })).map((e) => e.version),
        ).toEqual([3, 4, 5]);
        expect((await reader.readAll(acme, START, 100)).events.map((e) => e.eventId)).toEqual(before);
        const next = await reader.append(acme, s, [{ type: 'Said', data: { n: 8 } }], {
          expectedVersion: events.at(-1)!.version,
        });
        expect(next.firstVersion).toBe(8);
        expect((await reader.readStream(acme, s)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      } finally {
        await reader.close();
      }
    });

    it('[SE] an archive run cleans the .partial files a killed run left, and the manifest lists each day once it is committed', async () => {
      await writeDays();
      mkdirSync(dir, { recursive: true });
      // What a run killed while writing day 2 leaves: its half-written file and a half-written manifest.
      writeFileSync(join(dir, `events-${days[1]}.ndjson.gz.partial`), 'half a gzip');
      writeFileSync(join(dir, 'manifest.json.partial'), '{"format":');

      const manifestDays = () =>
        existsSync(join(dir, 'manifest.json'))
          ? (
              JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { segments: { day: string }[] }
            ).segments.map((seg) => seg.day)
          : [];
      const seenWhileArchiving: Record<string, string[]> = {};
      await archiveBefore(test.db, {
        before: today,
        dir,
        onProgress: (p) => {
          // While a day is being copied, every day before it is already in the manifest.
          if (!p.done) seenWhileArchiving[p.day] ??= manifestDays();
        },
      });
      expect(seenWhileArchiving[days[1]!]).toEqual(expect.arrayContaining([days[0]]));
      expect(seenWhileArchiving[days[2]!]).toEqual(expect.arrayContaining([days[0], days[1]]));
      expect(manifestDays()).toEqual(expect.arrayContaining(days));
      expect(readdirSync(dir).filter((file) => file.endsWith('.partial'))).toEqual([]);
    });
  });
}
