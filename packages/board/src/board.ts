import * as Y from 'yjs';
import { BoardError, BoardErrorCode } from './errors';
import { compareKeyed, keyAt, type Keyed } from './order';

/*
 * The document layout. Root maps:
 *   columns: Y.Map<columnId, Y.Map>  name, colour, key (order key), wipLimit (number | null)
 *   cards:   Y.Map<cardId, Y.Map>    conversationId, title, assignee (string | null),
 *                                    labels (Y.Map<label, true>), note (Y.Text),
 *                                    placement ({ column, key }, one plain value)
 * Each field is its own map entry, so concurrent edits of different fields all survive. The
 * placement is one value on purpose: a concurrent move resolves last-writer-wins to a single place.
 */

const COLUMNS = 'columns';
const CARDS = 'cards';

/** Where a card sits: a column id and a fractional order key (ties broken by card id). */
export interface Placement {
  readonly column: string;
  readonly key: string;
}

/** Where to put a card or column among its siblings; omitted means at the end. */
export type Position = { readonly before: string } | { readonly after: string } | { readonly index: number };

/** A card as the board shows it. `placement` is null when it has not arrived (or is malformed). */
export interface CardView {
  readonly id: string;
  readonly conversationId: string;
  readonly title: string;
  readonly assignee: string | null;
  /** Sorted, so every replica renders the same list. */
  readonly labels: readonly string[];
  readonly note: string;
  readonly placement: Placement | null;
}

/** A column with its cards in order. `overLimit` is advisory: offline merges may exceed the limit. */
export interface ColumnView {
  readonly id: string;
  readonly name: string;
  readonly colour: string;
  readonly key: string;
  readonly wipLimit: number | null;
  readonly overLimit: boolean;
  readonly cards: readonly CardView[];
}

/**
 * The roots of a document that the board layout (above) does not have: any name but `columns` and
 * `cards`, or one of those holding list or text content instead of map entries. Empty for a board.
 * Cheap: it looks at the roots only, never inside them.
 */
export function foreignRoots(doc: Y.Doc): string[] {
  const foreign: string[] = [];
  for (const [name, type] of doc.share) {
    if ((name !== COLUMNS && name !== CARDS) || type._start !== null) foreign.push(name);
  }
  return foreign;
}

/** The whole board: columns in order, and cards whose column is missing or unknown in `holding`. */
export interface BoardView {
  readonly columns: readonly ColumnView[];
  readonly holding: readonly CardView[];
}

/** A card's placement changing in one transaction, as `observePlacements` reports it. */
export interface PlacementChange {
  readonly cardId: string;
  readonly conversationId: string;
  readonly from: Placement | null;
  readonly to: Placement | null;
}

export interface NewColumn {
  readonly id: string;
  readonly name: string;
  readonly colour?: string;
  readonly wipLimit?: number | null;
  readonly position?: Position;
}

export interface NewCard {
  readonly id: string;
  readonly conversationId: string;
  readonly title: string;
  readonly column: string;
  readonly assignee?: string | null;
  readonly labels?: readonly string[];
  readonly note?: string;
  readonly position?: Position;
}

/** One edit of a card's note: delete `delete` characters at `index`, then insert `insert` there. */
export interface NoteEdit {
  readonly index: number;
  readonly delete?: number;
  readonly insert?: string;
}

const DEFAULT_COLOUR = '#9ca3af';

/** A new, empty board document (one Y.Doc per board). */
export function createBoardDoc(options: { readonly gc?: boolean } = {}): Y.Doc {
  const doc = new Y.Doc({ gc: options.gc ?? true });
  // Touch the roots so they exist before any observer is attached.
  columnsOf(doc);
  cardsOf(doc);
  return doc;
}

/** Adds a column at `position` (default: last). */
export function addColumn(doc: Y.Doc, column: NewColumn, origin?: unknown): void {
  requireId(column.id, 'column id');
  requireText(column.name, 'column name');
  const wipLimit = column.wipLimit ?? null;
  requireWipLimit(wipLimit);
  const columns = columnsOf(doc);
  if (columns.has(column.id)) {
    throw new BoardError(BoardErrorCode.COLUMN_EXISTS, `column ${column.id} already exists`);
  }
  const siblings = orderedColumns(doc);
  const key = keyAt(siblings, indexFor(siblings, column.position), column.id);
  doc.transact(() => {
    const entry = new Y.Map<unknown>();
    columns.set(column.id, entry);
    entry.set('name', column.name);
    entry.set('colour', column.colour ?? DEFAULT_COLOUR);
    entry.set('key', key);
    entry.set('wipLimit', wipLimit);
  }, origin);
}

/** Renames a column. */
export function renameColumn(doc: Y.Doc, columnId: string, name: string, origin?: unknown): void {
  requireText(name, 'column name');
  const column = requireColumn(doc, columnId);
  doc.transact(() => column.set('name', name), origin);
}

/** Sets a column's colour (any CSS colour the UI understands). */
export function setColumnColour(doc: Y.Doc, columnId: string, colour: string, origin?: unknown): void {
  requireText(colour, 'colour');
  const column = requireColumn(doc, columnId);
  doc.transact(() => column.set('colour', colour), origin);
}

/** Sets a column's WIP limit (a whole number of 1 or more), or clears it with null. */
export function setWipLimit(doc: Y.Doc, columnId: string, wipLimit: number | null, origin?: unknown): void {
  requireWipLimit(wipLimit);
  const column = requireColumn(doc, columnId);
  doc.transact(() => column.set('wipLimit', wipLimit), origin);
}

/** Moves a column among the others. */
export function moveColumn(doc: Y.Doc, columnId: string, position: Position, origin?: unknown): void {
  const column = requireColumn(doc, columnId);
  const siblings = orderedColumns(doc).filter((sibling) => sibling.id !== columnId);
  const key = keyAt(siblings, indexFor(siblings, position), columnId);
  doc.transact(() => column.set('key', key), origin);
}

/** Removes a column; its cards keep their placement and show in the holding area. */
export function removeColumn(doc: Y.Doc, columnId: string, origin?: unknown): void {
  requireColumn(doc, columnId);
  doc.transact(() => columnsOf(doc).delete(columnId), origin);
}

/** Adds a card for a conversation to a column, at `position` (default: last). */
export function addCard(doc: Y.Doc, card: NewCard, origin?: unknown): void {
  requireId(card.id, 'card id');
  requireId(card.conversationId, 'conversation id');
  requireString(card.title, 'title');
  requireColumn(doc, card.column);
  const cards = cardsOf(doc);
  if (cards.has(card.id)) throw new BoardError(BoardErrorCode.CARD_EXISTS, `card ${card.id} already exists`);
  const siblings = orderedCardsIn(doc, card.column);
  const key = keyAt(siblings, indexFor(siblings, card.position), card.id);
  doc.transact(() => {
    const entry = new Y.Map<unknown>();
    cards.set(card.id, entry);
    entry.set('conversationId', card.conversationId);
    entry.set('title', card.title);
    entry.set('assignee', card.assignee ?? null);
    const labels = new Y.Map<true>();
    entry.set('labels', labels);
    for (const label of new Set(card.labels ?? [])) labels.set(label, true);
    entry.set('note', new Y.Text(card.note ?? ''));
    entry.set('placement', { column: card.column, key } satisfies Placement);
  }, origin);
}

/**
 * Moves a card to a column, before or after another card there, at an index, or last. The new
 * placement replaces the old one in one write, so concurrent moves leave one copy, never two.
 */
export function moveCard(
  doc: Y.Doc,
  cardId: string,
  toColumn: string,
  position?: Position,
  origin?: unknown,
): void {
  const card = requireCard(doc, cardId);
  requireColumn(doc, toColumn);
  const siblings = orderedCardsIn(doc, toColumn).filter((sibling) => sibling.id !== cardId);
  const key = keyAt(siblings, indexFor(siblings, position), cardId);
  doc.transact(() => card.set('placement', { column: toColumn, key } satisfies Placement), origin);
}

/** Sets a card's title. */
export function setCardTitle(doc: Y.Doc, cardId: string, title: string, origin?: unknown): void {
  requireString(title, 'title');
  const card = requireCard(doc, cardId);
  doc.transact(() => card.set('title', title), origin);
}

/** Assigns the card to an agent, or unassigns it with null. */
export function setAssignee(doc: Y.Doc, cardId: string, assignee: string | null, origin?: unknown): void {
  if (assignee !== null) requireId(assignee, 'assignee');
  const card = requireCard(doc, cardId);
  doc.transact(() => card.set('assignee', assignee), origin);
}

/**
 * Makes the card's labels exactly `labels`. Only the difference is written, so two agents adding
 * different labels at the same moment both keep theirs.
 */
export function setLabels(doc: Y.Doc, cardId: string, labels: readonly string[], origin?: unknown): void {
  for (const label of labels) requireText(label, 'label');
  const card = requireCard(doc, cardId);
  const wanted = new Set(labels);
  doc.transact(() => {
    const current = labelsOf(card);
    for (const label of [...current.keys()]) if (!wanted.has(label)) current.delete(label);
    for (const label of wanted) if (!current.has(label)) current.set(label, true);
  }, origin);
}

/** Deletes and/or inserts text in a card's collaborative note. */
export function editNote(doc: Y.Doc, cardId: string, edit: NoteEdit, origin?: unknown): void {
  const card = requireCard(doc, cardId);
  const remove = edit.delete ?? 0;
  const insert = edit.insert ?? '';
  const existing = card.get('note');
  const length = existing instanceof Y.Text ? existing.length : 0;
  const whole = Number.isInteger(edit.index) && Number.isInteger(remove) && edit.index >= 0 && remove >= 0;
  if (!whole || edit.index + remove > length) {
    throw new BoardError(
      BoardErrorCode.NOTE_RANGE,
      `note edit at ${edit.index} deleting ${remove} does not fit a note of ${length} characters`,
    );
  }
  requireString(insert, 'note text');
  doc.transact(() => {
    const note = noteOf(card);
    if (remove > 0) note.delete(edit.index, remove);
    if (insert !== '') note.insert(edit.index, insert);
  }, origin);
}

/** Removes a card from the board. */
export function removeCard(doc: Y.Doc, cardId: string, origin?: unknown): void {
  requireCard(doc, cardId);
  doc.transact(() => cardsOf(doc).delete(cardId), origin);
}

/**
 * Puts a card back where it was before a move, unless it has moved again since (then the later move
 * stands). Returns whether it restored. The server uses it to undo a move the workflow forbids.
 */
export function undoMove(doc: Y.Doc, change: PlacementChange, origin?: unknown): boolean {
  const card = cardsOf(doc).get(change.cardId);
  if (!(card instanceof Y.Map) || change.from === null) return false;
  if (!samePlacement(readPlacement(card.get('placement')), change.to)) return false;
  const restored: Placement = { column: change.from.column, key: change.from.key };
  doc.transact(() => card.set('placement', restored), origin);
  return true;
}

/** What a board should hold at least: its workflow's stages as columns and its cards. */
export interface BoardSeed {
  readonly columns: readonly NewColumn[];
  /** A card whose column is missing from the board and the seed goes to the first column. */
  readonly cards: readonly NewCard[];
}

/**
 * Adds the seed's columns and cards that the board lacks, in one transaction, and returns how many
 * it added. What the board already has is left as it is (a card keeps its place, a column its
 * name), so running it on every load is harmless.
 */
export function ensureBoard(doc: Y.Doc, seed: BoardSeed, origin?: unknown): number {
  // A trial run on a copy first: a bad entry throws there, and the board stays unchanged.
  const trial = new Y.Doc();
  try {
    Y.applyUpdate(trial, Y.encodeStateAsUpdate(doc));
    addMissing(trial, seed);
  } finally {
    trial.destroy();
  }
  return addMissing(doc, seed, origin);
}

/**
 * Makes the board agree with the domain about the seed's cards: adds what it lacks (as
 * `ensureBoard`), and moves each seed card whose column differs from the seed's to the end of the
 * seed's column (when the board has that column), and writes the seed's title, assignee and labels
 * where the card's differ (they change after the card was added). A card already in its column
 * keeps its place, so a second run changes nothing. One transaction; a bad entry throws and changes nothing. Returns how
 * many columns and cards it added or moved. The server runs it with the whole seed when a board
 * loads and with one card's when the domain changes that card.
 */
export function reconcileBoard(doc: Y.Doc, seed: BoardSeed, origin?: unknown): number {
  let changed = 0;
  doc.transact(() => {
    changed = ensureBoard(doc, seed, origin);
    const columns = columnsOf(doc);
    const cards = cardsOf(doc);
    for (const card of seed.cards) {
      const entry = cards.get(card.id);
      if (!(entry instanceof Y.Map)) continue;
      // The domain's title, assignee and labels follow it after the card was added, not only then.
      changed += reconcileDetails(doc, card, entry as Y.Map<unknown>, origin);
      if (!(columns.get(card.column) instanceof Y.Map)) continue;
      if (readPlacement((entry as Y.Map<unknown>).get('placement'))?.column === card.column) continue;
      moveCard(doc, card.id, card.column, undefined, origin);
      changed++;
    }
  }, origin);
  return changed;
}

/** Writes the seed card's title, assignee and labels where the board's differ; 1 if it wrote any. */
function reconcileDetails(doc: Y.Doc, card: NewCard, entry: Y.Map<unknown>, origin: unknown): number {
  const current = readCard(card.id, entry);
  let changed = false;
  if (current.title !== card.title) {
    setCardTitle(doc, card.id, card.title, origin);
    changed = true;
  }
  if (card.assignee !== undefined && current.assignee !== card.assignee) {
    setAssignee(doc, card.id, card.assignee, origin);
    changed = true;
  }
  const labels = card.labels && [...new Set(card.labels)].sort(byCodeUnit);
  if (labels && labels.join('\u0000') !== current.labels.join('\u0000')) {
    setLabels(doc, card.id, labels, origin);
    changed = true;
  }
  return changed ? 1 : 0;
}

function addMissing(doc: Y.Doc, seed: BoardSeed, origin?: unknown): number {
  let added = 0;
  doc.transact(() => {
    const columns = columnsOf(doc);
    const cards = cardsOf(doc);
    for (const column of seed.columns) {
      if (columns.has(column.id)) continue;
      addColumn(doc, { ...column, position: undefined }, origin);
      added++;
    }
    const first = orderedColumns(doc)[0]?.id;
    for (const card of seed.cards) {
      if (cards.has(card.id)) continue;
      const column = columns.get(card.column) instanceof Y.Map ? card.column : first;
      if (column === undefined) continue;
      addCard(doc, { ...card, column, position: undefined }, origin);
      added++;
    }
  }, origin);
  return added;
}

/** The board as plain data: columns and cards sorted by key then id, unplaced cards in `holding`. */
export function readBoard(doc: Y.Doc): BoardView {
  const columnEntries = [...columnsOf(doc).entries()].filter(
    (entry): entry is [string, Y.Map<unknown>] => entry[1] instanceof Y.Map,
  );
  const cardsByColumn = new Map<string, CardView[]>(columnEntries.map(([id]) => [id, []]));
  const holding: CardView[] = [];
  for (const [id, entry] of cardsOf(doc).entries()) {
    if (!(entry instanceof Y.Map)) continue;
    const card = readCard(id, entry as Y.Map<unknown>);
    const column = card.placement && cardsByColumn.get(card.placement.column);
    if (column) column.push(card);
    else holding.push(card);
  }
  const columns = columnEntries
    .map(([id, entry]): ColumnView => {
      const wipLimit = readWipLimit(entry.get('wipLimit'));
      const cards = cardsByColumn.get(id)!.sort(compareCards);
      return {
        id,
        name: readString(entry.get('name')),
        colour: readString(entry.get('colour')),
        key: readString(entry.get('key')),
        wipLimit,
        overLimit: wipLimit !== null && cards.length > wipLimit,
        cards,
      };
    })
    .sort(compareKeyed);
  return { columns, holding: holding.sort(compareCards) };
}

/**
 * Calls `listener` after each transaction that changed card placements, with the transaction's
 * origin (who made the change). A card added or removed is not reported; a move between columns
 * and a reorder within one are. Returns a function that stops observing.
 */
export function observePlacements(
  doc: Y.Doc,
  listener: (changes: readonly PlacementChange[], origin: unknown) => void,
): () => void {
  const cards = cardsOf(doc);
  const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[], transaction: Y.Transaction): void => {
    const changes: PlacementChange[] = [];
    for (const event of events) {
      const card = event.target;
      const cardId = event.path[0];
      if (event.path.length !== 1 || typeof cardId !== 'string' || !(card instanceof Y.Map)) continue;
      const change = event.changes.keys.get('placement');
      if (change === undefined) continue;
      const from = change.action === 'add' ? null : readPlacement(change.oldValue);
      const to = readPlacement(card.get('placement'));
      if (samePlacement(from, to)) continue;
      changes.push({ cardId, conversationId: readString(card.get('conversationId')), from, to });
    }
    if (changes.length > 0) listener(changes, transaction.origin);
  };
  cards.observeDeep(observer);
  return () => cards.unobserveDeep(observer);
}

/** One step of a note change: keep `retain` characters, insert text, or delete characters. */
export type NoteDelta = readonly (
  { readonly retain: number } | { readonly insert: string } | { readonly delete: number }
)[];

/**
 * Calls `listener` with each change of a card's note as a delta (so an editor can keep its cursor in
 * place under others' edits) and the transaction's origin. A note replaced as a whole, or a card
 * removed and added again, is reported as a delete of the old text and an insert of the new one.
 * Returns a function that stops observing.
 */
export function observeNote(
  doc: Y.Doc,
  cardId: string,
  listener: (delta: NoteDelta, origin: unknown) => void,
): () => void {
  let current = currentNote(doc, cardId);
  // A deleted Y.Text reads as empty, so the text is remembered to report what a removal took.
  let before = current?.toJSON() ?? '';
  const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[], transaction: Y.Transaction): void => {
    const note = currentNote(doc, cardId);
    const after = note?.toJSON() ?? '';
    const previous = before;
    before = after;
    if (note !== null && note === current) {
      const event = events.find((each) => each.target === note);
      if (event) listener(event.delta as NoteDelta, transaction.origin);
      return;
    }
    current = note;
    if (previous === after) return;
    listener(
      [...(previous ? [{ delete: previous.length }] : []), ...(after ? [{ insert: after }] : [])],
      transaction.origin,
    );
  };
  const cards = cardsOf(doc);
  cards.observeDeep(observer);
  return () => cards.unobserveDeep(observer);
}

function currentNote(doc: Y.Doc, cardId: string): Y.Text | null {
  const card = cardsOf(doc).get(cardId);
  const note = card instanceof Y.Map ? (card as Y.Map<unknown>).get('note') : undefined;
  return note instanceof Y.Text ? note : null;
}

/** Reads a placement value written by any replica; null if it is missing or malformed. */
export function readPlacement(value: unknown): Placement | null {
  if (typeof value !== 'object' || value === null) return null;
  const { column, key } = value as Record<string, unknown>;
  return typeof column === 'string' && typeof key === 'string' ? { column, key } : null;
}

function samePlacement(a: Placement | null, b: Placement | null): boolean {
  return a === b || (a !== null && b !== null && a.column === b.column && a.key === b.key);
}

function columnsOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>(COLUMNS);
}

function cardsOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>(CARDS);
}

function requireColumn(doc: Y.Doc, columnId: string): Y.Map<unknown> {
  const column = columnsOf(doc).get(columnId);
  if (!(column instanceof Y.Map)) {
    throw new BoardError(BoardErrorCode.COLUMN_NOT_FOUND, `column ${columnId} is not on this board`);
  }
  return column as Y.Map<unknown>;
}

function requireCard(doc: Y.Doc, cardId: string): Y.Map<unknown> {
  const card = cardsOf(doc).get(cardId);
  if (!(card instanceof Y.Map)) {
    throw new BoardError(BoardErrorCode.CARD_NOT_FOUND, `card ${cardId} is not on this board`);
  }
  return card as Y.Map<unknown>;
}

/** The card's label set, created if a malformed replica left it out. */
function labelsOf(card: Y.Map<unknown>): Y.Map<unknown> {
  const labels = card.get('labels');
  if (labels instanceof Y.Map) return labels as Y.Map<unknown>;
  const created = new Y.Map<unknown>();
  card.set('labels', created);
  return created;
}

/** The card's note, created if a malformed replica left it out. */
function noteOf(card: Y.Map<unknown>): Y.Text {
  const note = card.get('note');
  if (note instanceof Y.Text) return note;
  const created = new Y.Text();
  card.set('note', created);
  return created;
}

function orderedColumns(doc: Y.Doc): Keyed[] {
  return [...columnsOf(doc).entries()]
    .filter(([, entry]) => entry instanceof Y.Map)
    .map(([id, entry]) => ({ id, key: readString((entry as Y.Map<unknown>).get('key')) }))
    .sort(compareKeyed);
}

function orderedCardsIn(doc: Y.Doc, columnId: string): Keyed[] {
  const cards: Keyed[] = [];
  for (const [id, entry] of cardsOf(doc).entries()) {
    if (!(entry instanceof Y.Map)) continue;
    const placement = readPlacement((entry as Y.Map<unknown>).get('placement'));
    if (placement?.column === columnId) cards.push({ id, key: placement.key });
  }
  return cards.sort(compareKeyed);
}

function indexFor(siblings: readonly Keyed[], position: Position | undefined): number {
  if (position === undefined) return siblings.length;
  if ('index' in position) {
    if (!Number.isInteger(position.index) || position.index < 0) {
      throw new BoardError(
        BoardErrorCode.INVALID_INPUT,
        `index ${position.index} is not a whole number >= 0`,
      );
    }
    return Math.min(position.index, siblings.length);
  }
  const anchor = 'before' in position ? position.before : position.after;
  const found = siblings.findIndex((sibling) => sibling.id === anchor);
  if (found === -1) {
    throw new BoardError(BoardErrorCode.POSITION_NOT_FOUND, `${anchor} is not in the target list`);
  }
  return 'before' in position ? found : found + 1;
}

function readCard(id: string, entry: Y.Map<unknown>): CardView {
  const labels = entry.get('labels');
  const note = entry.get('note');
  const assignee = entry.get('assignee');
  return {
    id,
    conversationId: readString(entry.get('conversationId')),
    title: readString(entry.get('title')),
    assignee: typeof assignee === 'string' ? assignee : null,
    labels: labels instanceof Y.Map ? [...(labels as Y.Map<unknown>).keys()].sort(byCodeUnit) : [],
    note: note instanceof Y.Text ? note.toJSON() : '',
    placement: readPlacement(entry.get('placement')),
  };
}

function compareCards(a: CardView, b: CardView): number {
  return compareKeyed({ id: a.id, key: a.placement?.key ?? '' }, { id: b.id, key: b.placement?.key ?? '' });
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function readString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function readWipLimit(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : null;
}

function requireId(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new BoardError(BoardErrorCode.INVALID_INPUT, `${what} must be 1 to 200 characters, not blank`);
  }
}

function requireText(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BoardError(BoardErrorCode.INVALID_INPUT, `${what} must not be blank`);
  }
}

function requireString(value: string, what: string): void {
  if (typeof value !== 'string') throw new BoardError(BoardErrorCode.INVALID_INPUT, `${what} must be text`);
}

function requireWipLimit(value: number | null): void {
  if (value !== null && !(Number.isInteger(value) && value >= 1)) {
    throw new BoardError(
      BoardErrorCode.INVALID_INPUT,
      `WIP limit ${value} is invalid: use a whole number of 1 or more, or null for none`,
    );
  }
}
