import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  addCard,
  addColumn,
  createBoardDoc,
  editNote,
  ensureBoard,
  moveCard,
  moveColumn,
  observePlacements,
  observeNote,
  readBoard,
  reconcileBoard,
  removeCard,
  removeColumn,
  renameColumn,
  setAssignee,
  setCardTitle,
  setColumnColour,
  setLabels,
  setWipLimit,
  undoMove,
  type PlacementChange,
} from './board';
import { BoardErrorCode, isBoardError } from './errors';
import { formatBoardNotice, parseBoardNotice } from './protocol';

/** A board with columns `todo`, `doing`, `done` and cards `a`, `b`, `c` in `todo`. */
function sampleBoard(clientID = 1): Y.Doc {
  const doc = createBoardDoc();
  doc.clientID = clientID;
  addColumn(doc, { id: 'todo', name: 'To do' });
  addColumn(doc, { id: 'doing', name: 'Doing', wipLimit: 2 });
  addColumn(doc, { id: 'done', name: 'Done' });
  for (const id of ['a', 'b', 'c'])
    addCard(doc, { id, conversationId: `conv-${id}`, title: id, column: 'todo' });
  return doc;
}

/** A second replica holding the same state, with its own client id. */
function replicaOf(doc: Y.Doc, clientID: number): Y.Doc {
  const copy = createBoardDoc();
  copy.clientID = clientID;
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

/** Delivers each replica's missing updates to the other. */
function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

const cardIds = (doc: Y.Doc, column: string) =>
  readBoard(doc)
    .columns.find((entry) => entry.id === column)
    ?.cards.map((card) => card.id);

const card = (doc: Y.Doc, id: string) =>
  readBoard(doc)
    .columns.flatMap((column) => column.cards)
    .concat(readBoard(doc).holding)
    .find((entry) => entry.id === id);

function refusal(operation: () => void): string | undefined {
  try {
    operation();
  } catch (error) {
    if (isBoardError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('an empty board', () => {
  it('reads as no columns and nothing in holding', () => {
    expect(readBoard(createBoardDoc())).toEqual({ columns: [], holding: [] });
  });
});

describe('columns', () => {
  it('are added last by default, with a default colour and no WIP limit', () => {
    const doc = createBoardDoc();
    addColumn(doc, { id: 'todo', name: 'To do' });
    addColumn(doc, { id: 'done', name: 'Done', colour: '#16a34a', wipLimit: 3 });
    const [todo, done] = readBoard(doc).columns;
    expect(todo).toMatchObject({ id: 'todo', name: 'To do', wipLimit: null, overLimit: false, cards: [] });
    expect(todo?.colour).toMatch(/^#/);
    expect(done).toMatchObject({ id: 'done', colour: '#16a34a', wipLimit: 3 });
  });

  it('can be added before another column', () => {
    const doc = sampleBoard();
    addColumn(doc, { id: 'inbox', name: 'Inbox', position: { before: 'todo' } });
    expect(readBoard(doc).columns.map((column) => column.id)).toEqual(['inbox', 'todo', 'doing', 'done']);
  });

  it('refuses a duplicate id, a blank name and a WIP limit below 1', () => {
    const doc = sampleBoard();
    expect(refusal(() => addColumn(doc, { id: 'todo', name: 'Again' }))).toBe(BoardErrorCode.COLUMN_EXISTS);
    expect(refusal(() => addColumn(doc, { id: 'x', name: '  ' }))).toBe(BoardErrorCode.INVALID_INPUT);
    expect(refusal(() => setWipLimit(doc, 'todo', 0))).toBe(BoardErrorCode.INVALID_INPUT);
    expect(refusal(() => setWipLimit(doc, 'todo', 1.5))).toBe(BoardErrorCode.INVALID_INPUT);
  });

  it('are renamed and recoloured', () => {
    const doc = sampleBoard();
    renameColumn(doc, 'todo', 'Backlog');
    setColumnColour(doc, 'todo', '#ff0000');
    expect(readBoard(doc).columns[0]).toMatchObject({ id: 'todo', name: 'Backlog', colour: '#ff0000' });
  });

  it('refuse changes to a column that is not on the board', () => {
    const doc = sampleBoard();
    expect(refusal(() => renameColumn(doc, 'nope', 'X'))).toBe(BoardErrorCode.COLUMN_NOT_FOUND);
    expect(refusal(() => moveColumn(doc, 'nope', { index: 0 }))).toBe(BoardErrorCode.COLUMN_NOT_FOUND);
  });

  it('keep a concurrent rename and recolour of the same column', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    renameColumn(a, 'todo', 'Backlog');
    setColumnColour(b, 'todo', '#123456');
    sync(a, b);
    expect(readBoard(a).columns[0]).toMatchObject({ name: 'Backlog', colour: '#123456' });
    expect(readBoard(b)).toEqual(readBoard(a));
  });

  it('are reordered by moving one', () => {
    const doc = sampleBoard();
    moveColumn(doc, 'done', { index: 0 });
    expect(readBoard(doc).columns.map((column) => column.id)).toEqual(['done', 'todo', 'doing']);
    moveColumn(doc, 'done', { after: 'doing' });
    expect(readBoard(doc).columns.map((column) => column.id)).toEqual(['todo', 'doing', 'done']);
  });

  it('flag a WIP limit as exceeded without refusing the card', () => {
    const doc = sampleBoard();
    for (const id of ['a', 'b', 'c']) moveCard(doc, id, 'doing');
    expect(readBoard(doc).columns[1]).toMatchObject({ id: 'doing', wipLimit: 2, overLimit: true });
    setWipLimit(doc, 'doing', null);
    expect(readBoard(doc).columns[1]).toMatchObject({ wipLimit: null, overLimit: false });
  });

  it('send their cards to holding when removed', () => {
    const doc = sampleBoard();
    removeColumn(doc, 'todo');
    const board = readBoard(doc);
    expect(board.columns.map((column) => column.id)).toEqual(['doing', 'done']);
    expect(board.holding.map((entry) => entry.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('cards', () => {
  it('are added last in their column with their fields', () => {
    const doc = sampleBoard();
    addCard(doc, {
      id: 'd',
      conversationId: 'conv-d',
      title: 'Refund',
      column: 'todo',
      assignee: 'agent-1',
      labels: ['vip', 'billing', 'vip'],
      note: 'call back',
    });
    expect(cardIds(doc, 'todo')).toEqual(['a', 'b', 'c', 'd']);
    expect(card(doc, 'd')).toMatchObject({
      conversationId: 'conv-d',
      title: 'Refund',
      assignee: 'agent-1',
      labels: ['billing', 'vip'],
      note: 'call back',
      placement: { column: 'todo' },
    });
  });

  it('refuse an unknown column and a duplicate id', () => {
    const doc = sampleBoard();
    const base = { conversationId: 'conv', title: 't' };
    expect(refusal(() => addCard(doc, { ...base, id: 'x', column: 'nope' }))).toBe(
      BoardErrorCode.COLUMN_NOT_FOUND,
    );
    expect(refusal(() => addCard(doc, { ...base, id: 'a', column: 'todo' }))).toBe(
      BoardErrorCode.CARD_EXISTS,
    );
  });

  it('move to the end of another column', () => {
    const doc = sampleBoard();
    moveCard(doc, 'b', 'doing');
    moveCard(doc, 'a', 'doing');
    expect(cardIds(doc, 'todo')).toEqual(['c']);
    expect(cardIds(doc, 'doing')).toEqual(['b', 'a']);
  });

  it('move before, after or to an index among the target column', () => {
    const doc = sampleBoard();
    moveCard(doc, 'c', 'todo', { before: 'a' });
    expect(cardIds(doc, 'todo')).toEqual(['c', 'a', 'b']);
    moveCard(doc, 'c', 'todo', { after: 'a' });
    expect(cardIds(doc, 'todo')).toEqual(['a', 'c', 'b']);
    moveCard(doc, 'a', 'todo', { index: 99 });
    expect(cardIds(doc, 'todo')).toEqual(['c', 'b', 'a']);
    moveCard(doc, 'a', 'todo', { index: 1 });
    expect(cardIds(doc, 'todo')).toEqual(['c', 'a', 'b']);
  });

  it('refuse a move to an unknown column, of an unknown card, or next to a card not there', () => {
    const doc = sampleBoard();
    const before = readBoard(doc);
    expect(refusal(() => moveCard(doc, 'a', 'nope'))).toBe(BoardErrorCode.COLUMN_NOT_FOUND);
    expect(refusal(() => moveCard(doc, 'zzz', 'done'))).toBe(BoardErrorCode.CARD_NOT_FOUND);
    expect(refusal(() => moveCard(doc, 'a', 'done', { before: 'b' }))).toBe(
      BoardErrorCode.POSITION_NOT_FOUND,
    );
    expect(refusal(() => moveCard(doc, 'a', 'done', { index: -1 }))).toBe(BoardErrorCode.INVALID_INPUT);
    expect(readBoard(doc)).toEqual(before);
  });

  it('moved concurrently by two agents end up in one place on both replicas', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    moveCard(a, 'a', 'doing');
    moveCard(b, 'a', 'done');
    sync(a, b);
    expect(readBoard(a)).toEqual(readBoard(b));
    const places = readBoard(a).columns.filter((column) => column.cards.some((entry) => entry.id === 'a'));
    expect(places).toHaveLength(1);
  });

  it('inserted at the same spot concurrently share a key and are ordered by id', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    addCard(a, { id: 'y', conversationId: 'conv-y', title: 'y', column: 'done' });
    addCard(b, { id: 'x', conversationId: 'conv-x', title: 'x', column: 'done' });
    sync(a, b);
    expect(card(a, 'x')?.placement?.key).toBe(card(a, 'y')?.placement?.key);
    expect(cardIds(a, 'done')).toEqual(['x', 'y']);
    expect(cardIds(b, 'done')).toEqual(['x', 'y']);
  });

  it('dropped between two cards sharing a key land between them when their id allows, else beside them', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    addCard(a, { id: 'p', conversationId: 'conv-p', title: 'p', column: 'done' });
    addCard(b, { id: 'r', conversationId: 'conv-r', title: 'r', column: 'done' });
    sync(a, b);
    addCard(a, { id: 'q', conversationId: 'conv-q', title: 'q', column: 'done', position: { after: 'p' } });
    expect(cardIds(a, 'done')).toEqual(['p', 'q', 'r']);
    addCard(a, { id: 'z', conversationId: 'conv-z', title: 'z', column: 'done', position: { before: 'q' } });
    // 'z' sorts after every tied id, so the nearest place it can take without re-keying is the run's start.
    expect(cardIds(a, 'done')).toEqual(['z', 'p', 'q', 'r']);
  });

  it('are titled, assigned and unassigned', () => {
    const doc = sampleBoard();
    setCardTitle(doc, 'a', 'Urgent refund');
    setAssignee(doc, 'a', 'agent-7');
    expect(card(doc, 'a')).toMatchObject({ title: 'Urgent refund', assignee: 'agent-7' });
    setAssignee(doc, 'a', null);
    expect(card(doc, 'a')?.assignee).toBeNull();
  });

  it('keep labels two agents add at the same moment', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    setLabels(a, 'a', ['vip']);
    setLabels(b, 'a', ['billing']);
    sync(a, b);
    expect(card(a, 'a')?.labels).toEqual(['billing', 'vip']);
    setLabels(a, 'a', ['billing']);
    expect(card(a, 'a')?.labels).toEqual(['billing']);
  });

  it('have notes edited by insert and delete, merging concurrent edits', () => {
    const a = sampleBoard(1);
    editNote(a, 'a', { index: 0, insert: 'hello world' });
    const b = replicaOf(a, 2);
    editNote(a, 'a', { index: 0, delete: 5, insert: 'goodbye' });
    editNote(b, 'a', { index: 11, insert: '!' });
    sync(a, b);
    expect(card(a, 'a')?.note).toBe('goodbye world!');
    expect(card(b, 'a')?.note).toBe('goodbye world!');
  });

  it('refuse a note edit outside the note and leave it unchanged', () => {
    const doc = sampleBoard();
    editNote(doc, 'a', { index: 0, insert: 'abc' });
    expect(refusal(() => editNote(doc, 'a', { index: 4, insert: 'x' }))).toBe(BoardErrorCode.NOTE_RANGE);
    expect(refusal(() => editNote(doc, 'a', { index: 1, delete: 3 }))).toBe(BoardErrorCode.NOTE_RANGE);
    expect(card(doc, 'a')?.note).toBe('abc');
  });

  it('are removed', () => {
    const doc = sampleBoard();
    removeCard(doc, 'b');
    expect(cardIds(doc, 'todo')).toEqual(['a', 'c']);
    expect(refusal(() => removeCard(doc, 'b'))).toBe(BoardErrorCode.CARD_NOT_FOUND);
  });
});

describe('the holding area', () => {
  it('shows a card whose column has not arrived, then the column once it does', () => {
    const a = sampleBoard(1);
    const b = replicaOf(a, 2);
    const c = replicaOf(a, 3);
    addColumn(a, { id: 'review', name: 'Review' });
    sync(a, b);
    moveCard(b, 'a', 'review');
    // c hears from b before it hears from a.
    Y.applyUpdate(c, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
    expect(readBoard(c).holding.map((entry) => entry.id)).toEqual(['a']);
    Y.applyUpdate(c, Y.encodeStateAsUpdate(a));
    expect(readBoard(c).holding).toEqual([]);
    expect(cardIds(c, 'review')).toEqual(['a']);
  });

  it('takes cards with a malformed placement and ignores entries that are not cards', () => {
    const doc = sampleBoard();
    doc.transact(() => {
      (doc.getMap('cards').get('a') as Y.Map<unknown>).set('placement', 'garbage');
      doc.getMap('cards').set('junk', 42);
      doc.getMap('columns').set('broken', 'not a column');
    });
    const board = readBoard(doc);
    expect(board.holding.map((entry) => entry.id)).toEqual(['a']);
    expect(board.columns.map((column) => column.id)).toEqual(['todo', 'doing', 'done']);
    moveCard(doc, 'a', 'done');
    expect(cardIds(doc, 'done')).toEqual(['a']);
  });
});

describe('placement changes', () => {
  it('are reported with the transaction origin for moves, not for added cards', () => {
    const doc = sampleBoard();
    const seen: [readonly PlacementChange[], unknown][] = [];
    const stop = observePlacements(doc, (changes, origin) => seen.push([changes, origin]));
    addCard(doc, { id: 'd', conversationId: 'conv-d', title: 'd', column: 'todo' }, 'agent-1');
    moveCard(doc, 'a', 'doing', undefined, 'agent-2');
    setCardTitle(doc, 'a', 'renamed', 'agent-2');
    stop();
    moveCard(doc, 'b', 'doing', undefined, 'agent-3');
    expect(seen).toHaveLength(1);
    const [[changes, origin]] = seen as [[readonly PlacementChange[], unknown]];
    expect(origin).toBe('agent-2');
    expect(changes).toEqual([
      {
        cardId: 'a',
        conversationId: 'conv-a',
        from: { column: 'todo', key: expect.any(String) as string },
        to: { column: 'doing', key: expect.any(String) as string },
      },
    ]);
  });

  it('can be undone while the card has not moved again', () => {
    const doc = sampleBoard();
    const changes: PlacementChange[] = [];
    observePlacements(doc, (batch) => changes.push(...batch));
    moveCard(doc, 'a', 'done');
    const [move] = changes;
    expect(undoMove(doc, move!, 'server')).toBe(true);
    expect(cardIds(doc, 'todo')).toEqual(['a', 'b', 'c']);
    moveCard(doc, 'b', 'done');
    moveCard(doc, 'b', 'doing');
    expect(undoMove(doc, changes[2]!, 'server')).toBe(false);
    expect(cardIds(doc, 'doing')).toEqual(['b']);
  });
});

describe('board notices', () => {
  it('round-trip and reject what they do not recognise', () => {
    const notice = { kind: 'move-refused', cardId: 'a', from: 'x', to: 'y', reason: 'no' } as const;
    expect(parseBoardNotice(formatBoardNotice(notice))).toEqual(notice);
    expect(parseBoardNotice('{"kind":"move-refused","cardId":1}')).toBeNull();
    expect(parseBoardNotice('{"kind":"other"}')).toBeNull();
    expect(parseBoardNotice('not json')).toBeNull();
  });
});

describe('ensuring a board holds its seed', () => {
  const seed = {
    columns: [
      { id: 'new', name: 'New' },
      { id: 'done', name: 'Done', wipLimit: 3 },
    ],
    cards: [
      { id: 'c1', conversationId: 'c1', title: 'Maria', column: 'done' },
      { id: 'c2', conversationId: 'c2', title: 'Tom', column: 'gone' },
    ],
  };

  it('adds the columns in order and the cards, a card of an unknown column to the first one', () => {
    const doc = createBoardDoc();
    expect(ensureBoard(doc, seed)).toBe(4);
    const view = readBoard(doc);
    expect(view.columns.map((column) => [column.id, column.wipLimit])).toEqual([
      ['new', null],
      ['done', 3],
    ]);
    expect(view.columns.map((column) => column.cards.map((card) => card.id))).toEqual([['c2'], ['c1']]);
  });

  it('adds nothing a second time and leaves moved cards and renamed columns alone', () => {
    const doc = createBoardDoc();
    ensureBoard(doc, seed);
    moveCard(doc, 'c1', 'new');
    renameColumn(doc, 'done', 'Finished');
    const before = Y.encodeStateVector(doc);
    expect(ensureBoard(doc, seed)).toBe(0);
    expect(Y.encodeStateVector(doc)).toEqual(before);
    const view = readBoard(doc);
    expect(view.columns[1]!.name).toBe('Finished');
    expect(view.columns[0]!.cards.map((card) => card.id)).toEqual(['c2', 'c1']);
  });

  it('refuses a seed with a bad entry and changes nothing', () => {
    const doc = createBoardDoc();
    const bad = {
      columns: seed.columns,
      cards: [...seed.cards, { id: ' ', conversationId: 'x', title: '', column: 'new' }],
    };
    expect(() => ensureBoard(doc, bad)).toThrow(/card id/);
    expect(readBoard(doc)).toEqual({ columns: [], holding: [] });
  });
});

describe('reconciling a board with its domain', () => {
  const seed = {
    columns: [
      { id: 'new', name: 'New' },
      { id: 'done', name: 'Done' },
    ],
    cards: [
      { id: 'c1', conversationId: 'c1', title: 'Maria', column: 'new' },
      { id: 'c2', conversationId: 'c2', title: 'Tom', column: 'new' },
    ],
  };
  const columnsOf = (doc: Y.Doc) =>
    readBoard(doc).columns.map((column) => [column.id, column.cards.map((card) => card.id)]);

  it('adds what is missing and moves a card whose column differs from the domain’s, once', () => {
    const doc = createBoardDoc();
    expect(reconcileBoard(doc, seed)).toBe(4);
    moveCard(doc, 'c1', 'done');
    const moved = { ...seed, cards: [{ ...seed.cards[0]!, column: 'new' }] };
    const origins: unknown[] = [];
    observePlacements(doc, (_changes, origin) => origins.push(origin));
    expect(reconcileBoard(doc, moved, 'server')).toBe(1);
    expect(columnsOf(doc)).toEqual([
      ['new', ['c2', 'c1']],
      ['done', []],
    ]);
    expect(origins).toEqual(['server']);
    const before = Y.encodeStateVector(doc);
    expect(reconcileBoard(doc, seed)).toBe(0);
    expect(Y.encodeStateVector(doc)).toEqual(before);
  });

  it('follows the domain’s assignee, labels and title after the card was added (the card entered unassigned)', () => {
    const doc = createBoardDoc();
    reconcileBoard(doc, seed);
    const assigned = {
      columns: [],
      cards: [
        { ...seed.cards[0]!, title: 'Maria Lopez', assignee: 'ana', labels: ['vip', 'billing', 'vip'] },
      ],
    };
    expect(reconcileBoard(doc, assigned, 'server')).toBe(1);
    expect(readBoard(doc).columns[0]!.cards[0]).toMatchObject({
      id: 'c1',
      title: 'Maria Lopez',
      assignee: 'ana',
      labels: ['billing', 'vip'],
    });
    const before = Y.encodeStateVector(doc);
    expect(reconcileBoard(doc, assigned)).toBe(0);
    expect(Y.encodeStateVector(doc)).toEqual(before);
    expect(
      reconcileBoard(doc, { columns: [], cards: [{ ...assigned.cards[0]!, assignee: null, labels: [] }] }),
    ).toBe(1);
    expect(readBoard(doc).columns[0]!.cards[0]).toMatchObject({ assignee: null, labels: [] });
  });

  it('leaves a card in place when the domain’s column is not on the board', () => {
    const doc = createBoardDoc();
    reconcileBoard(doc, seed);
    expect(reconcileBoard(doc, { columns: [], cards: [{ ...seed.cards[0]!, column: 'gone' }] })).toBe(0);
    expect(columnsOf(doc)[0]).toEqual(['new', ['c1', 'c2']]);
  });

  it('refuses a seed with a bad entry and changes nothing', () => {
    const doc = createBoardDoc();
    reconcileBoard(doc, seed);
    moveCard(doc, 'c1', 'done');
    const before = Y.encodeStateVector(doc);
    const bad = {
      columns: [],
      cards: [seed.cards[0]!, { id: '', conversationId: 'x', title: '', column: 'new' }],
    };
    expect(() => reconcileBoard(doc, bad)).toThrow(/card id/);
    expect(Y.encodeStateVector(doc)).toEqual(before);
  });
});

describe('observing a note', () => {
  it('reports each change as a delta with its origin, and a concurrent edit merged in', () => {
    const a = sampleBoard(1);
    editNote(a, 'a', { index: 0, insert: 'hello world' });
    const b = createBoardDoc();
    b.clientID = 2;
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    const seen: unknown[] = [];
    const stop = observeNote(a, 'a', (delta, origin) => seen.push([delta, origin]));
    editNote(a, 'a', { index: 5, delete: 6, insert: '!' }, 'me');
    editNote(b, 'b', { index: 0, insert: 'other card' });
    editNote(b, 'a', { index: 0, insert: '> ' });
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b), 'remote');
    stop();
    editNote(a, 'a', { index: 0, insert: 'unseen' });
    expect(seen).toEqual([
      [[{ retain: 5 }, { delete: 6 }, { insert: '!' }], 'me'],
      [[{ insert: '> ' }], 'remote'],
    ]);
    expect(readBoard(a).columns[0]!.cards[0]!.note).toBe('unseen> hello!');
  });

  it('reports a card removed as its whole note deleted', () => {
    const doc = sampleBoard();
    editNote(doc, 'a', { index: 0, insert: 'gone soon' });
    const seen: unknown[] = [];
    observeNote(doc, 'a', (delta) => seen.push(delta));
    removeCard(doc, 'a');
    expect(seen).toEqual([[{ delete: 9 }]]);
  });
});
