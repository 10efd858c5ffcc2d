import { streamId, tenantId } from '@parley/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqlSnapshotStore } from '../src/actors/sql-snapshots';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from './support/databases';

const backends: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

for (const [name, create, enabled] of backends) {
  describe.runIf(enabled)(`SQL snapshot store on ${name}`, () => {
    let test: TestDatabase | undefined;
    afterEach(async () => {
      await test?.dispose();
    });

    it('keeps the newest snapshot per stream and never lets an older one replace it', async () => {
      test = await create();
      const snapshots = createSqlSnapshotStore(test.db);
      const acme = tenantId('acme');
      const s = streamId('conversation-1');
      expect(await snapshots.load(acme, s)).toBeUndefined();
      await snapshots.save(acme, s, 50, { status: 'open', labels: ['vip'] });
      await snapshots.save(acme, s, 100, { status: 'resolved', labels: [] });
      await snapshots.save(acme, s, 75, { status: 'stale' });
      expect(await snapshots.load(acme, s)).toEqual({
        version: 100,
        state: { status: 'resolved', labels: [] },
      });
      expect(await snapshots.load(tenantId('globex'), s)).toBeUndefined();
    });
  });
}
