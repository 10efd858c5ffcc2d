import {
  DndContext,
  PointerSensor,
  TouchSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type DragEndEvent,
  type DragStartEvent,
} from '@dnd-kit/core';
import {
  editNote,
  isBoardError,
  moveCard,
  observeNote,
  type BoardNotice,
  type BoardView,
  type CardView,
  type ColumnView,
  type Position,
  safeColour,
} from '@parley/board';
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { BoardConnection, type BoardStatus, type Presence } from '../lib/board/connection';
import { applyNoteDelta, moveThroughDelta, noteEditBetween } from '../lib/board/note';
import { useSubscribed } from '../lib/hooks';
import { navigate } from '../lib/router';
import type { Session } from '../lib/session';
import '../styles/board.css';
import { AssigneeName, CardDataProvider, CardFace } from './CardFace';
import { DrawerBackdrop, DrawerClose, useDrawer } from './Drawer';

/** This tab's own note edits, told apart from everyone else's when they come back through the doc. */
const LOCAL = Symbol('board-note-local');
const HOLDING = 'holding';
/** A column whose colour is not `#rrggbb` shows this one: only `safeColour`s go into a style. */
const NO_COLOUR = '#9ca3af';

interface BoardSummary {
  readonly id: string;
  readonly name: string;
}

/** The board screen: the list of boards, or one board with its columns, cards and card panel. */
export function BoardScreen({ session, boardId }: { session: Session; boardId: string | null }) {
  const boards = useBoardList(session);
  if (boardId === null) {
    return (
      <section className="board-screen" aria-labelledby="boards-heading">
        <h2 id="boards-heading">Boards</h2>
        {boards.length === 0 ? (
          <p className="muted">No boards on this device yet: open this screen once while online.</p>
        ) : (
          <ul className="board-list">
            {boards.map((board) => (
              <li key={board.id}>
                <a
                  href={`/board/${encodeURIComponent(board.id)}`}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate({ screen: 'board', boardId: board.id });
                  }}
                >
                  {board.name}
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
    );
  }
  const name = boards.find((board) => board.id === boardId)?.name ?? boardId;
  return <OpenBoard key={boardId} session={session} boardId={boardId} name={name} />;
}

/** The tenant's workflows (one board each), remembered on this device so the list shows offline. */
function useBoardList(session: Session): readonly BoardSummary[] {
  const key = `parley.boards:${session.account.tenantId}:${session.account.agent.id}`;
  const [boards, setBoards] = useState<readonly BoardSummary[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(key) ?? '[]') as BoardSummary[];
    } catch {
      return [];
    }
  });
  useEffect(() => {
    let live = true;
    session.client.boards.workflows.query().then(
      (workflows) => {
        const list = workflows.map((workflow) => ({ id: workflow.workflowId, name: workflow.name }));
        localStorage.setItem(key, JSON.stringify(list));
        if (live) setBoards(list);
      },
      () => undefined, // offline: the remembered list stands
    );
    return () => {
      live = false;
    };
  }, [session, key]);
  return boards;
}

function OpenBoard({ session, boardId, name }: { session: Session; boardId: string; name: string }) {
  const { account } = session;
  const [connection, setConnection] = useState<BoardConnection | null>(null);
  useEffect(() => {
    const opened = new BoardConnection(boardId, {
      tenantId: account.tenantId,
      id: account.agent.id,
      name: account.agent.name,
    });
    setConnection(opened);
    return () => opened.destroy();
  }, [boardId, account]);
  return connection ? (
    <CardDataProvider session={session}>
      <BoardContent connection={connection} name={name} />
    </CardDataProvider>
  ) : null;
}

function BoardContent({ connection, name }: { connection: BoardConnection; name: string }) {
  const board = useSubscribed(connection, () => connection.board);
  const presence = useSubscribed(connection, () => connection.presence);
  const status = useSubscribed(connection, () => connection.status);
  const notice = useSubscribed(connection, () => connection.notice);
  const readOnly = useSubscribed(connection, () => connection.readOnly);
  const [selected, setSelected] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const focusAfterMove = useRef<string | null>(null);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
  );

  useEffect(() => {
    const id = focusAfterMove.current;
    if (id === null) return;
    focusAfterMove.current = null;
    document.querySelector<HTMLElement>(`[data-card-id="${CSS.escape(id)}"]`)?.focus();
  }, [board]);

  const move = (cardId: string, column: string, position?: Position) => {
    try {
      moveCard(connection.doc, cardId, column, position);
      setProblem(null);
      const after = readAfterMove(connection.board, cardId);
      if (after) setAnnouncement(`${after.card.title} moved to ${after.column.name}, ${after.place}.`);
    } catch (error) {
      setProblem(isBoardError(error) ? error.message : 'the card could not be moved');
    }
  };

  const onKey = (event: KeyboardEvent<HTMLElement>, card: CardView, columnId: string) => {
    if (!event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || readOnly) return;
    const keyed = keyboardMove(board, card, columnId, event.key);
    if (!keyed) return;
    event.preventDefault();
    focusAfterMove.current = card.id;
    move(card.id, keyed.column, keyed.position);
  };

  const onDragStart = ({ active }: DragStartEvent) => connection.setDragging(String(active.id));
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    connection.setDragging(null);
    if (!over || readOnly) return;
    const cardId = String(active.id);
    const target = over.data.current as { column: string; before?: string } | undefined;
    if (!target || target.column === HOLDING || target.before === cardId) return;
    move(cardId, target.column, target.before === undefined ? undefined : { before: target.before });
  };

  const draggingBy = new Map<string, Presence>();
  for (const person of presence) if (person.dragging && !person.self) draggingBy.set(person.dragging, person);
  const selectedCard = selected === null ? undefined : findCard(board, selected);

  return (
    <section className="board-screen" aria-labelledby="board-heading">
      <header className="board-header">
        <h2 id="board-heading">{name}</h2>
        <StatusPill status={status} />
        <PresenceList presence={presence} board={board} />
      </header>
      <p id="board-keys" className="muted board-help">
        Drag a card to move it, or focus it and press Shift with an arrow key: left and right move it between
        columns, up and down within one. Enter opens the card.
      </p>
      {readOnly ? <p className="notice">You can view this board but not change it.</p> : null}
      <BoardNoticeBanner notice={notice} board={board} onDismiss={() => connection.dismissNotice()} />
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
      <p className="visually-hidden" aria-live="assertive">
        {announcement}
      </p>
      <div className="board-body">
        <DndContext
          sensors={sensors}
          onDragStart={onDragStart}
          onDragEnd={onDragEnd}
          onDragCancel={() => connection.setDragging(null)}
          accessibility={{
            screenReaderInstructions: {
              draggable: 'Drag with a pointer, or press Shift with an arrow key to move the card.',
            },
          }}
        >
          <div className="board-columns">
            {board.columns.map((column) => (
              <Column key={column.id} column={column} label={column.name}>
                {column.cards.map((card) => (
                  <Card
                    key={card.id}
                    card={card}
                    columnId={column.id}
                    readOnly={readOnly}
                    draggedBy={draggingBy.get(card.id)}
                    selected={card.id === selected}
                    onOpen={() => setSelected(card.id)}
                    onKey={(event) => onKey(event, card, column.id)}
                  />
                ))}
              </Column>
            ))}
          </div>
          {board.holding.length > 0 ? (
            <section className="board-holding" aria-labelledby="holding-heading">
              <h3 id="holding-heading">Waiting for a column</h3>
              <p className="muted">These cards have no column on this board yet. Move one into a column.</p>
              <ul className="board-cards">
                {board.holding.map((card) => (
                  <Card
                    key={card.id}
                    card={card}
                    columnId={HOLDING}
                    readOnly={readOnly}
                    draggedBy={draggingBy.get(card.id)}
                    selected={card.id === selected}
                    onOpen={() => setSelected(card.id)}
                    onKey={(event) => onKey(event, card, HOLDING)}
                  />
                ))}
              </ul>
            </section>
          ) : null}
        </DndContext>
        {selectedCard ? (
          <CardPanel
            key={selectedCard.id}
            connection={connection}
            card={selectedCard}
            board={board}
            readOnly={readOnly}
            onClose={() => {
              focusAfterMove.current = selectedCard.id;
              setSelected(null);
            }}
          />
        ) : null}
      </div>
    </section>
  );
}

const STATUS_TEXT: Record<BoardStatus, string> = {
  loading: 'Opening this device’s copy…',
  offline: 'Offline — your changes are kept on this device',
  connecting: 'Connecting…',
  live: 'Live',
  closed: 'Disconnected',
};

function StatusPill({ status }: { status: BoardStatus }) {
  return (
    <p className="board-status" role="status" data-status={status}>
      {STATUS_TEXT[status]}
    </p>
  );
}

function PresenceList({ presence, board }: { presence: readonly Presence[]; board: BoardView }) {
  if (presence.length === 0) return null;
  return (
    <div className="board-presence">
      <h3 className="visually-hidden">Looking at this board</h3>
      <ul aria-label="Looking at this board">
        {presence.map((person) => {
          const dragging = person.dragging ? findCard(board, person.dragging)?.title : undefined;
          return (
            <li key={person.clientId} style={{ borderColor: person.colour }}>
              <span className="avatar" style={{ background: person.colour }} aria-hidden="true">
                {person.name.slice(0, 1)}
              </span>
              {person.self ? `${person.name} (you)` : person.name}
              {dragging ? <span className="muted"> · moving {dragging}</span> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function BoardNoticeBanner({
  notice,
  board,
  onDismiss,
}: {
  notice: BoardNotice | null;
  board: BoardView;
  onDismiss: () => void;
}) {
  if (notice?.kind !== 'move-refused') return null;
  const columnName = (id: string) => board.columns.find((column) => column.id === id)?.name ?? id;
  const title = findCard(board, notice.cardId)?.title ?? notice.cardId;
  return (
    <div className="error board-refused" role="alert">
      <p>
        {title} went back to {columnName(notice.from)}: {notice.reason}.
      </p>
      <button type="button" className="ghost small" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

function Column({ column, label, children }: { column: ColumnView; label: string; children: ReactNode }) {
  const { setNodeRef, isOver } = useDroppable({ id: `column:${column.id}`, data: { column: column.id } });
  const headingId = `column-${column.id}`;
  const count = column.cards.length;
  const wip =
    column.wipLimit === null
      ? `${count} ${count === 1 ? 'card' : 'cards'}`
      : `${count} of ${column.wipLimit}${column.overLimit ? ', over the limit' : ''}`;
  return (
    <section
      ref={setNodeRef}
      className={isOver ? 'board-column over' : 'board-column'}
      aria-labelledby={headingId}
      data-column-id={column.id}
    >
      <h3 id={headingId}>
        <span
          className="swatch"
          style={{ background: safeColour(column.colour) ?? NO_COLOUR }}
          aria-hidden="true"
        />
        {label}
        <span className={column.overLimit ? 'wip over-limit' : 'wip'} data-testid={`wip-${column.id}`}>
          {wip}
        </span>
      </h3>
      <ul className="board-cards">{children}</ul>
    </section>
  );
}

function Card({
  card,
  columnId,
  readOnly,
  draggedBy,
  selected,
  onOpen,
  onKey,
}: {
  card: CardView;
  columnId: string;
  readOnly: boolean;
  draggedBy: Presence | undefined;
  selected: boolean;
  onOpen: () => void;
  onKey: (event: KeyboardEvent<HTMLElement>) => void;
}) {
  const drag = useDraggable({ id: card.id, disabled: readOnly });
  const drop = useDroppable({ id: `card:${card.id}`, data: { column: columnId, before: card.id } });
  const {
    role: _role,
    tabIndex: _tabIndex,
    'aria-describedby': _describedBy,
    'aria-pressed': _pressed,
    ...attributes
  } = drag.attributes;
  const style = drag.transform
    ? { transform: `translate3d(${drag.transform.x}px, ${drag.transform.y}px, 0)` }
    : undefined;
  return (
    <li ref={drop.setNodeRef} className={drop.isOver ? 'board-card-slot over' : 'board-card-slot'}>
      <button
        ref={drag.setNodeRef}
        type="button"
        className={`board-card${drag.isDragging ? ' dragging' : ''}${selected ? ' selected' : ''}`}
        style={{ ...style, ...(draggedBy ? { borderColor: draggedBy.colour } : {}) }}
        data-card-id={card.id}
        aria-describedby="board-keys"
        aria-expanded={selected}
        {...attributes}
        {...drag.listeners}
        onClick={onOpen}
        onKeyDown={onKey}
      >
        <CardFace card={card} />
        {draggedBy ? (
          <span className="dragged-by" style={{ background: draggedBy.colour }}>
            {draggedBy.name} is moving this
          </span>
        ) : null}
      </button>
    </li>
  );
}

function CardPanel({
  connection,
  card,
  board,
  readOnly,
  onClose,
}: {
  connection: BoardConnection;
  card: CardView;
  board: BoardView;
  readOnly: boolean;
  onClose: () => void;
}) {
  const column = board.columns.find((each) => each.id === card.placement?.column);
  // Beside the columns on a wide screen, a sheet over them on a phone: Esc or back closes it.
  const closeButton = useRef<HTMLButtonElement>(null);
  useDrawer(true, onClose, closeButton);
  return (
    <>
      <DrawerBackdrop onClose={onClose} className="board-backdrop" />
      <aside className="board-panel" aria-labelledby="card-panel-heading">
        <div className="drawer-header">
          <h3 id="card-panel-heading" dir="auto">
            {card.title}
          </h3>
          <DrawerClose onClose={onClose} label="Close card" buttonRef={closeButton} />
        </div>
        <p className="muted">
          {column ? `In ${column.name}` : 'Waiting for a column'}
          {card.assignee ? (
            <>
              {' · assigned to '}
              <AssigneeName agentId={card.assignee} />
            </>
          ) : null}
        </p>
        <p>
          <a
            href={`/c/${encodeURIComponent(card.conversationId)}`}
            onClick={(event) => {
              event.preventDefault();
              navigate({ screen: 'conversation', conversationId: card.conversationId });
            }}
          >
            Open the conversation
          </a>
        </p>
        <NoteEditor connection={connection} cardId={card.id} readOnly={readOnly} />
      </aside>
    </>
  );
}

/**
 * The card's collaborative note in a plain textarea. Typing sends the one edit between the last
 * text and the new one (never the whole text), and others' edits arrive as deltas that move the
 * cursor with the text, so two agents typing in one note both keep what they wrote.
 */
function NoteEditor({
  connection,
  cardId,
  readOnly,
}: {
  connection: BoardConnection;
  cardId: string;
  readOnly: boolean;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const shown = useRef('');
  useEffect(() => {
    const area = ref.current;
    if (!area) return;
    const initial = findCard(connection.board, cardId)?.note ?? '';
    area.value = initial;
    shown.current = initial;
    return observeNote(connection.doc, cardId, (delta, origin) => {
      if (origin === LOCAL) return;
      const focused = document.activeElement === area;
      const [start, end] = [area.selectionStart, area.selectionEnd];
      shown.current = applyNoteDelta(shown.current, delta);
      area.value = shown.current;
      if (focused) area.setSelectionRange(moveThroughDelta(start, delta), moveThroughDelta(end, delta));
    });
  }, [connection, cardId]);
  return (
    <label>
      Note
      <textarea
        ref={ref}
        rows={8}
        readOnly={readOnly}
        onInput={(event) => {
          const edit = noteEditBetween(shown.current, event.currentTarget.value);
          if (!edit) return;
          editNote(connection.doc, cardId, edit, LOCAL);
          shown.current = event.currentTarget.value;
        }}
      />
    </label>
  );
}

function findCard(board: BoardView, cardId: string): CardView | undefined {
  for (const column of board.columns) {
    const card = column.cards.find((each) => each.id === cardId);
    if (card) return card;
  }
  return board.holding.find((card) => card.id === cardId);
}

/** Where a card lands for Shift+arrow: the previous or next column's end, or one place up or down. */
function keyboardMove(
  board: BoardView,
  card: CardView,
  columnId: string,
  key: string,
): { column: string; position?: Position } | null {
  const columns = board.columns;
  const at = columns.findIndex((column) => column.id === columnId);
  switch (key) {
    case 'ArrowLeft':
      return at > 0 ? { column: columns[at - 1]!.id } : null;
    case 'ArrowRight': {
      const next = columns[at + 1];
      return next ? { column: next.id } : null;
    }
    case 'ArrowUp':
    case 'ArrowDown': {
      const cards = columns[at]?.cards ?? [];
      const index = cards.findIndex((each) => each.id === card.id);
      const neighbour = cards[key === 'ArrowUp' ? index - 1 : index + 1];
      if (!neighbour) return null;
      return {
        column: columnId,
        position: key === 'ArrowUp' ? { before: neighbour.id } : { after: neighbour.id },
      };
    }
    default:
      return null;
  }
}

function readAfterMove(
  board: BoardView,
  cardId: string,
): { card: CardView; column: ColumnView; place: string } | null {
  for (const column of board.columns) {
    const index = column.cards.findIndex((card) => card.id === cardId);
    if (index !== -1) {
      return { card: column.cards[index]!, column, place: `${index + 1} of ${column.cards.length}` };
    }
  }
  return null;
}
