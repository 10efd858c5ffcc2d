import { addCard, addColumn, createBoardDoc, editNote, readBoard } from '@parley/board';
import { tenantId } from '@parley/domain';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  BoardEventType,
  BoardStorageError,
  boardSnapshotStream,
  boardStream,
  loadStoredBoard,
} from '../src/boards';
import { appendSnapshot, appendUpdate } from '../src/boards/persistence';
import { createMemoryEventStore } from '../src/store/memory';
import { SqlEventStore } from '../src/store/sql-store';
import type { EventStore } from '../src/store/types';
import { freshPglite, freshPostgres, POSTGRES_URL } from './support/databases';

const ACME = tenantId('acme');

const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposals.splice(0)) await dispose();
});

/** Every store the board is persisted to, as the store contract suites run them. */
const stores: [string, () => Promise<EventStore>][] = [
  ['memory', () => Promise.resolve(createMemoryEventStore())],
  ['pglite', () => sqlStore(freshPglite)],
  ...(POSTGRES_URL
    ? [['postgres', () => sqlStore(freshPostgres)] as [string, () => Promise<EventStore>]]
    : []),
];

async function sqlStore(fresh: typeof freshPglite): Promise<EventStore> {
  const test = await fresh();
  const store = await SqlEventStore.open({ db: test.db, archiveDir: join(test.dataDir, 'archive') });
  disposals.push(async () => {
    await store.close();
    await test.dispose();
  });
  return store;
}

/** A board whose encoding is about `noteBytes` long, mostly one card's note. */
function bigBoard(noteBytes: number): Y.Doc {
  const doc = createBoardDoc();
  addColumn(doc, { id: 'todo', name: 'To do' });
  addCard(doc, { id: 'card-1', conversationId: 'conv-1', title: 'Long', column: 'todo' });
  editNote(doc, 'card-1', { index: 0, insert: 'n'.repeat(noteBytes) });
  return doc;
}

function boardOf(updates: readonly Uint8Array[]) {
  const doc = createBoardDoc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return readBoard(doc);
}

describe.each(stores)('on the %s store', (_kind, openStore) => {
  describe('a new board', () => {
    it('loads as nothing at version 0', async () => {
      const loaded = await loadStoredBoard(await openStore(), ACME, 'b1');
      expect(loaded).toEqual({ updates: [], version: 0, snapshotVersion: 0 });
    });
  });

  describe('a large update', () => {
    it('is split into parts in one append, under the store event limit, and joined on load', async () => {
      const store = await openStore();
      const doc = bigBoard(400 * 1024);
      await appendUpdate(store, ACME, 'b1', Y.encodeStateAsUpdate(doc), 0, { agents: ['ada'] });
      const events = await store.readStream(ACME, boardStream('b1'));
      expect(events.map((event) => [event.type, event.data.part, event.data.parts])).toEqual([
        [BoardEventType.UPDATED, 0, 4],
        [BoardEventType.UPDATED, 1, 4],
        [BoardEventType.UPDATED, 2, 4],
        [BoardEventType.UPDATED, 3, 4],
      ]);
      const loaded = await loadStoredBoard(store, ACME, 'b1');
      expect(loaded.version).toBe(4);
      expect(boardOf(loaded.updates)).toEqual(readBoard(doc));
    });
  });

  describe('snapshots', () => {
    it('load as the latest one plus the updates after the version it covers', async () => {
      const store = await openStore();
      const doc = createBoardDoc();
      const updates: Uint8Array[] = [];
      doc.on('update', (update: Uint8Array) => updates.push(update));
      addColumn(doc, { id: 'todo', name: 'To do' });
      addColumn(doc, { id: 'done', name: 'Done' });
      for (const [index, update] of updates.entries())
        await appendUpdate(store, ACME, 'b1', update, index, {});
      await appendSnapshot(store, ACME, 'b1', Y.encodeStateAsUpdate(bigBoard(10)), 1);
      await appendSnapshot(store, ACME, 'b1', Y.encodeStateAsUpdate(doc), 2);
      addCard(doc, { id: 'late', conversationId: 'conv-late', title: 'Late', column: 'done' });
      await appendUpdate(store, ACME, 'b1', updates.at(-1)!, 2, {});

      const loaded = await loadStoredBoard(store, ACME, 'b1');
      expect(loaded).toMatchObject({ version: 3, snapshotVersion: 2 });
      expect(loaded.updates).toHaveLength(2);
      expect(boardOf(loaded.updates)).toEqual(readBoard(doc));
    });

    it('split into parts are read back whole, and only the latest is read', async () => {
      const store = await openStore();
      await appendSnapshot(store, ACME, 'b1', Y.encodeStateAsUpdate(bigBoard(300 * 1024)), 0);
      const latest = bigBoard(200 * 1024);
      editNote(latest, 'card-1', { index: 0, insert: 'latest ' });
      await appendSnapshot(store, ACME, 'b1', Y.encodeStateAsUpdate(latest), 0);
      expect(await store.streamVersion(ACME, boardSnapshotStream('b1'))).toBe(5);
      const loaded = await loadStoredBoard(store, ACME, 'b1');
      expect(boardOf(loaded.updates)).toEqual(readBoard(latest));
    });
  });

  describe('stored data that cannot be read back', () => {
    it('fails the load instead of loading half a board', async () => {
      const store = await openStore();
      await store.append(
        ACME,
        boardStream('b1'),
        [{ type: BoardEventType.UPDATED, data: { update: 'AAA=', part: 1, parts: 2 } }],
        {
          expectedVersion: 0,
        },
      );
      await expect(loadStoredBoard(store, ACME, 'b1')).rejects.toBeInstanceOf(BoardStorageError);
    });

    it('fails on a snapshot without the version it covers', async () => {
      const store = await openStore();
      await store.append(
        ACME,
        boardSnapshotStream('b1'),
        [{ type: BoardEventType.SNAPSHOTTED, data: { state: 'AAA=' } }],
        {
          expectedVersion: 0,
        },
      );
      await expect(loadStoredBoard(store, ACME, 'b1')).rejects.toThrow(BoardStorageError);
    });
  });
});
