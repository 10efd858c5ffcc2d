import {
  createBoardDoc,
  foreignRoots,
  observePlacements,
  sanitizePresence,
  undoMove,
  type BoardSeed,
  type Placement,
  type PlacementChange,
} from '@parley/board';
import type { EpochMs, TenantId } from '@parley/domain';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type WebSocket from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { ConcurrencyError } from '../store/errors';
import type { EventStore } from '../store/types';
import { BoardFollower } from './follow';
import { appendSnapshot, appendUpdate, loadStoredBoard, readUpdatesAfter } from './persistence';
import {
  MAX_PRESENCE_BYTES,
  PresenceRate,
  readPresenceUpdate,
  writePresenceUpdate,
  type PresenceEntry,
} from './presence';
import {
  awarenessMessage,
  isEmptyUpdate,
  MessageType,
  noticeMessage,
  syncStep1Message,
  updateMessage,
} from './protocol';
import {
  BoardCloseCode,
  type BoardAccess,
  type BoardLogger,
  type BoardServerOptions,
  type MoveVerdict,
  type ProposedMove,
} from './types';

/** Origin of updates another process appended to the board stream: already stored and judged. */
const FROM_STORE = Symbol('board-store');
/** Origin of the server's own edits (compensating a refused move, following the domain). */
const SERVER = Symbol('board-server');
/** How long a failed append waits before it is tried again. */
const RETRY_MS = 1_000;
/** A client may send this many times `maxUpdateBytes` before its board has loaded. */
const QUEUE_FACTOR = 4;
const ALLOWED: MoveVerdict = { allowed: true };
const UTF8 = new TextDecoder();
const VIEW_ONLY = noticeMessage({
  kind: 'edits-dropped',
  reason: 'you can view this board but not change it',
});

/** Mutable counters shared by the rooms of one server. */
export interface BoardCounters {
  refusedUpgrades: number;
  rejectedMessages: number;
  droppedReadOnlyUpdates: number;
  eventsAppended: number;
  snapshotsWritten: number;
  boardsUnloaded: number;
  movesRecorded: number;
  movesRefused: number;
  domainEdits: number;
  sessionsEnded: number;
  accessRevoked: number;
  droppedPresence: number;
}

/** What a room needs from its server, with every default resolved. */
export interface RoomSettings {
  readonly store: EventStore;
  readonly maxUpdateBytes: number;
  readonly flushMs: number;
  readonly snapshotEvery: number;
  readonly idleUnloadMs: number;
  readonly canMove: BoardServerOptions['canMove'];
  readonly onCardMoved: BoardServerOptions['onCardMoved'];
  readonly seed: BoardServerOptions['seed'];
  readonly follow: BoardServerOptions['follow'];
  readonly clock: () => EpochMs;
  readonly logger: BoardLogger;
  readonly counters: BoardCounters;
  /** Called when the room has had no connection for `idleUnloadMs`. */
  readonly onIdle: (room: BoardRoom) => void;
  /** Called once the room is gone (unloaded or failed to load), so the server forgets it. */
  readonly onGone: (room: BoardRoom) => void;
}

/** One agent's socket on a board. */
export class BoardConnection {
  /**
   * The one awareness client id this socket may speak for: the first it used that no other
   * agent's socket holds. Its presence is removed when the socket closes.
   */
  presenceId: number | null = null;
  readonly presenceRate: PresenceRate;
  /** Starts as the upgrade's answer; a recheck may change it (`setReadOnly`). */
  private viewOnly: boolean;
  /** False after a ping until the pong arrives. */
  alive = true;
  /** Messages held until the board has loaded and this connection was greeted. */
  queue: Uint8Array[] | null = [];
  private queuedBytes = 0;
  private toldReadOnly = false;

  constructor(
    readonly socket: WebSocket,
    readonly access: BoardAccess,
    now: EpochMs,
  ) {
    this.viewOnly = access.readOnly;
    this.presenceRate = new PresenceRate(now);
  }

  /** A read-only agent receives the board and presence; their document updates are dropped. */
  get readOnly(): boolean {
    return this.viewOnly;
  }

  /** A recheck's answer: a demoted editor is told at once (or when greeted) that edits go nowhere now. */
  setReadOnly(readOnly: boolean): void {
    if (readOnly === this.viewOnly) return;
    this.viewOnly = readOnly;
    this.toldReadOnly = false;
    if (readOnly && !this.queue && this.firstDroppedEdit()) this.send(VIEW_ONLY);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(message: Uint8Array): void {
    if (!this.open) return;
    this.socket.send(message, this.afterSend);
  }

  /** One callback per connection rather than a closure per message: a board broadcast sends many. */
  private readonly afterSend = (error?: Error): void => {
    if (error) this.socket.terminate();
  };

  close(code: BoardCloseCode, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** Queues a message until greeted; false when the client sent too much for that. */
  enqueue(message: Uint8Array, limit: number): boolean {
    this.queuedBytes += message.byteLength;
    this.queue?.push(message);
    return this.queuedBytes <= limit;
  }

  /** True the first time only: a read-only agent is told once that their edits go nowhere. */
  firstDroppedEdit(): boolean {
    const first = !this.toldReadOnly;
    this.toldReadOnly = true;
    return first;
  }
}

/**
 * One loaded board: its document, the agents connected to it, and its persistence. Messages wait
 * until the stored state has loaded; updates are checked on a shadow copy before they touch the
 * document; changes are appended in batches and snapshotted every `snapshotEvery` events.
 */
export class BoardRoom {
  readonly key: string;
  readonly doc = createBoardDoc();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly connections = new Set<BoardConnection>();
  private phase: 'loading' | 'ready' | 'unloading' | 'gone' = 'loading';
  /** When the last connection left (or the room was created), for choosing whom to evict. */
  lastActive: number;
  /**
   * The document as of the last applied update, kept in step with `doc`. An incoming update is
   * applied here first: one that throws half-way leaves only this copy damaged, and it is rebuilt.
   */
  private shadow = new Y.Doc();
  private holds = 0;
  private version = 0;
  private snapshotVersion = 0;
  private pending: Uint8Array[] = [];
  private pendingAgents = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private judging: Promise<void> = Promise.resolve();
  private unloading: Promise<boolean> | undefined;
  private stopObserving: () => void = () => undefined;
  /** Settles once loading ended, loaded or not. */
  private readonly loaded: Promise<void>;
  /** Each card's last placement the workflow accepted: a refused move is judged and undone against it. */
  private readonly accepted = new Map<string, Placement | null>();
  /**
   * The agent each awareness client id on this board belongs to, and the connection speaking for it
   * now (null once it left): see `ownsPresence`. Forgotten when the room unloads.
   */
  private readonly presenceHolders = new Map<
    number,
    { readonly agentId: string; connection: BoardConnection | null }
  >();
  /** The domain → board direction: the seed at load, then each card the domain changes. */
  private readonly follower: BoardFollower;

  constructor(
    readonly tenantId: TenantId,
    readonly boardId: string,
    private readonly settings: RoomSettings,
  ) {
    this.key = roomKey(tenantId, boardId);
    this.lastActive = settings.clock();
    // The server is no participant: it relays presence but has none.
    this.awareness.setLocalState(null);
    this.follower = new BoardFollower(
      {
        tenantId,
        boardId,
        doc: this.doc,
        serving: () => this.phase === 'ready',
        serialize: (task) => {
          this.judging = this.judging.then(task);
        },
        edited: (count) => (settings.counters.domainEdits += count),
        log: (level, details, message) => this.log(level, details, message),
      },
      settings.seed,
      settings.follow,
      SERVER,
    );
    this.loaded = this.load();
  }

  /** Keeps the room from idling while an upgrade is on its way to `join`. */
  hold(): void {
    this.holds++;
    this.checkIdle();
  }

  release(): void {
    this.holds--;
    this.checkIdle();
  }

  /** Adds an accepted socket; it is greeted (sync step 1) once the board has loaded. */
  join(socket: WebSocket, access: BoardAccess): void {
    if (this.phase === 'unloading' || this.phase === 'gone') {
      socket.close(BoardCloseCode.GOING_AWAY, 'the board is closing; reconnect');
      return;
    }
    const connection = new BoardConnection(socket, access, this.settings.clock());
    this.connections.add(connection);
    socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    socket.on('close', () => this.leave(connection));
    socket.on('pong', () => (connection.alive = true));
    socket.on('error', (error) =>
      this.log('debug', { err: error, agentId: access.agentId }, 'board socket error'),
    );
    this.checkIdle();
    if (this.phase === 'ready') this.greet(connection);
  }

  /**
   * Takes what other processes appended to the board since this room last read or wrote it: those
   * updates are stored and judged there, so here they are only applied and sent to this room's
   * agents. Runs in turn with the appends, so the version both use stays one.
   */
  pull(): Promise<void> {
    this.flushing = this.flushing.then(() => this.pullNow());
    return this.flushing;
  }

  private async pullNow(): Promise<void> {
    if (this.phase !== 'ready') return;
    try {
      const caughtUp = await readUpdatesAfter(this.settings.store, this.tenantId, this.boardId, this.version);
      for (const stored of caughtUp.updates) Y.applyUpdate(this.doc, stored, FROM_STORE);
      this.version = caughtUp.version;
    } catch (error) {
      this.log(
        'warn',
        { err: error },
        "reading another process's board updates failed; the next commit retries",
      );
    }
  }

  /** Appends pending updates now (and a snapshot if the tail is long enough). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  /**
   * Closes every connection, persists pending updates, writes a snapshot and frees the room.
   * Without `force`, a room whose updates could not be stored stays loaded and retries later.
   */
  unload(force: boolean): Promise<boolean> {
    this.unloading ??= this.unloadNow(force).finally(() => (this.unloading = undefined));
    return this.unloading;
  }

  /** While an unload is under way, resolves when it ends. */
  get unloaded(): Promise<boolean> | undefined {
    return this.unloading;
  }

  get idle(): boolean {
    return this.phase === 'ready' && this.connections.size === 0 && this.holds === 0;
  }

  private async load(): Promise<void> {
    let seed: BoardSeed | null = null;
    // Subscribed before reading, so a change committed meanwhile is heard, not lost.
    await this.follower.start();
    try {
      const stored = await loadStoredBoard(this.settings.store, this.tenantId, this.boardId);
      for (const update of stored.updates) Y.applyUpdate(this.doc, update);
      this.version = stored.version;
      this.snapshotVersion = stored.snapshotVersion;
    } catch (error) {
      this.log('error', { err: error }, 'board failed to load');
      for (const connection of this.connections) {
        connection.close(BoardCloseCode.UNAVAILABLE, 'the board could not be loaded; try again later');
      }
      this.destroy();
      return;
    }
    try {
      seed = (await this.settings.seed?.(this.tenantId, this.boardId)) ?? null;
    } catch (error) {
      this.log('error', { err: error }, "reading the board's seed failed; it opens as stored");
    }
    this.shadow = copyOf(this.doc);
    this.doc.on('update', this.onDocUpdate);
    this.awareness.on('update', this.onAwareness);
    this.stopObserving = observePlacements(this.doc, this.onPlacements);
    this.follower.plant(seed);
    this.phase = 'ready';
    for (const connection of this.connections) this.greet(connection);
    // A crash before the last snapshot leaves a long tail: shorten it now, not at the next update.
    if (this.version - this.snapshotVersion >= this.settings.snapshotEvery) void this.flush();
    this.checkIdle();
  }

  private greet(connection: BoardConnection): void {
    // Told up front, so a viewer's client can stop offering edits before it makes any.
    if (connection.readOnly && connection.firstDroppedEdit()) connection.send(VIEW_ONLY);
    connection.send(syncStep1Message(this.doc));
    const clients = [...this.awareness.getStates().keys()];
    if (clients.length > 0) connection.send(awarenessMessage(this.awareness, clients));
    const queued = connection.queue ?? [];
    connection.queue = null;
    for (const message of queued) if (connection.open) this.receive(connection, message);
  }

  private onMessage(connection: BoardConnection, data: WebSocket.RawData, isBinary: boolean): void {
    if (this.phase === 'unloading' || this.phase === 'gone') return;
    const message = toBytes(data);
    const { maxUpdateBytes } = this.settings;
    if (message.byteLength > maxUpdateBytes) {
      this.reject(connection, BoardCloseCode.UPDATE_TOO_LARGE, `message over ${maxUpdateBytes} bytes`);
    } else if (!isBinary) {
      this.reject(connection, BoardCloseCode.MALFORMED_MESSAGE, 'text frames are not part of the protocol');
    } else if (connection.queue) {
      if (!connection.enqueue(message, maxUpdateBytes * QUEUE_FACTOR)) {
        connection.close(BoardCloseCode.UNAVAILABLE, 'too much sent before the board loaded; try again');
      }
    } else {
      this.receive(connection, message);
    }
  }

  private receive(connection: BoardConnection, message: Uint8Array): void {
    try {
      const decoder = decoding.createDecoder(message);
      const type = decoding.readVarUint(decoder);
      switch (type) {
        case MessageType.SYNC:
          this.receiveSync(connection, decoder);
          break;
        case MessageType.AWARENESS:
          this.receivePresence(connection, decoding.readVarUint8Array(decoder));
          break;
        case MessageType.QUERY_AWARENESS:
          connection.send(awarenessMessage(this.awareness, [...this.awareness.getStates().keys()]));
          break;
        case MessageType.AUTH:
          // The upgrade already authorised this connection.
          break;
        default:
          this.log('debug', { type, agentId: connection.access.agentId }, 'ignored unknown board message');
      }
    } catch (error) {
      this.log('debug', { err: error }, 'board message failed');
      this.reject(connection, BoardCloseCode.MALFORMED_MESSAGE, 'message could not be decoded or applied');
    }
  }

  private receiveSync(connection: BoardConnection, decoder: decoding.Decoder): void {
    const kind = decoding.readVarUint(decoder);
    switch (kind) {
      case syncProtocol.messageYjsSyncStep1: {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MessageType.SYNC);
        syncProtocol.readSyncStep1(decoder, encoder, this.doc);
        connection.send(encoding.toUint8Array(encoder));
        return;
      }
      case syncProtocol.messageYjsSyncStep2:
      case syncProtocol.messageYjsUpdate:
        this.receiveUpdate(connection, decoding.readVarUint8Array(decoder));
        return;
      default:
        throw new Error(`unknown sync message type ${kind}`);
    }
  }

  /**
   * Relays a connection's presence as the server allows it: only for the connection's own client id
   * (others' presence cannot be changed or removed), each state at most `MAX_PRESENCE_BYTES`,
   * rewritten by `sanitizePresence` (the session's agent and name, a `#rrggbb` colour), at most
   * `PRESENCE_PER_SECOND` messages. What is refused is dropped and counted; the socket stays open.
   */
  private receivePresence(connection: BoardConnection, update: Uint8Array): void {
    const { counters, clock } = this.settings;
    let admitted: PresenceEntry[] = [];
    let dropped = 0;
    for (const entry of readPresenceUpdate(update)) {
      if (!this.ownsPresence(connection, entry.clientId)) {
        // y-websocket clients send back every presence they hear: one at a clock the room has
        // already seen is that echo, not a forgery, and is ignored without counting.
        const known = this.awareness.meta.get(entry.clientId);
        if (!known || entry.clock > known.clock) dropped++;
      } else if (entry.state.byteLength > MAX_PRESENCE_BYTES) dropped++;
      else admitted.push(entry);
    }
    // Only what would be relayed counts against the rate, so echoes never use up a client's own.
    if (admitted.length > 0 && !connection.presenceRate.take(clock())) {
      dropped += admitted.length;
      admitted = [];
    }
    counters.droppedPresence += dropped;
    if (admitted.length === 0) return;
    const session = {
      agentId: connection.access.agentId,
      name: connection.access.agentName ?? connection.access.agentId,
    };
    const relayed = admitted.map(({ clientId, clock: entryClock, state }) => {
      const claimed: unknown = JSON.parse(UTF8.decode(state));
      const json = claimed === null ? 'null' : JSON.stringify(sanitizePresence(claimed, session));
      return { clientId, clock: entryClock, json };
    });
    awarenessProtocol.applyAwarenessUpdate(this.awareness, writePresenceUpdate(relayed), connection);
  }

  /**
   * True when the connection may speak for this awareness client: the id it is bound to, or, before
   * it is bound, one that no other agent has used on this board (their own reconnect may take it).
   */
  private ownsPresence(connection: BoardConnection, clientId: number): boolean {
    if (connection.presenceId !== null) return connection.presenceId === clientId;
    if (clientId === this.awareness.clientID) return false;
    const { agentId } = connection.access;
    const holder = this.presenceHolders.get(clientId);
    if (holder && holder.agentId !== agentId) return false;
    connection.presenceId = clientId;
    this.presenceHolders.set(clientId, { agentId, connection });
    return true;
  }

  private receiveUpdate(connection: BoardConnection, update: Uint8Array): void {
    if (connection.readOnly) {
      if (isEmptyUpdate(update)) return;
      this.settings.counters.droppedReadOnlyUpdates++;
      if (connection.firstDroppedEdit()) connection.send(VIEW_ONLY);
      return;
    }
    try {
      Y.applyUpdate(this.shadow, update, connection);
    } catch (error) {
      this.rebuildShadow();
      throw error;
    }
    // Only the board's own roots (S12): anything else never reaches the document or the store.
    const foreign = foreignRoots(this.shadow);
    if (foreign.length > 0) {
      this.rebuildShadow();
      this.log(
        'warn',
        { agentId: connection.access.agentId, roots: foreign.slice(0, 5) },
        'update outside the board layout',
      );
      this.reject(connection, BoardCloseCode.OUTSIDE_SCHEMA, 'the update adds content outside the board');
      return;
    }
    Y.applyUpdate(this.doc, update, connection);
  }

  private rebuildShadow(): void {
    this.shadow.destroy();
    this.shadow = copyOf(this.doc);
  }

  private reject(connection: BoardConnection, code: BoardCloseCode, reason: string): void {
    this.settings.counters.rejectedMessages++;
    this.log('warn', { agentId: connection.access.agentId, code, reason }, 'board connection rejected');
    connection.queue = null;
    connection.close(code, reason);
  }

  private leave(connection: BoardConnection): void {
    if (!this.connections.delete(connection)) return;
    const id = connection.presenceId;
    const holder = id === null ? undefined : this.presenceHolders.get(id);
    if (id !== null && holder?.connection === connection) {
      holder.connection = null;
      if (this.phase !== 'gone') awarenessProtocol.removeAwarenessStates(this.awareness, [id], null);
    }
    this.lastActive = this.settings.clock();
    this.checkIdle();
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    const from = origin instanceof BoardConnection ? origin : undefined;
    if (!from) Y.applyUpdate(this.shadow, update);
    if (origin !== FROM_STORE) {
      this.pending.push(update);
      this.pendingAgents.add(from?.access.agentId ?? 'server');
      this.scheduleFlush(this.settings.flushMs);
    }
    const message = updateMessage(update);
    for (const connection of this.connections) {
      if (connection !== from && !connection.queue) connection.send(message);
    }
  };

  private readonly onAwareness = ({
    added,
    updated,
    removed,
  }: {
    added: number[];
    updated: number[];
    removed: number[];
  }): void => {
    // Sent back to the sender too: the y-websocket client counts it as a sign of life.
    const message = awarenessMessage(this.awareness, [...added, ...updated, ...removed]);
    for (const connection of this.connections) if (!connection.queue) connection.send(message);
  };

  private readonly onPlacements = (changes: readonly PlacementChange[], origin: unknown): void => {
    for (const change of changes) {
      if (origin instanceof BoardConnection) {
        const judged = this.follower.awaitVerdict(change.cardId);
        this.judging = this.judging.then(() => this.judge(change, origin).finally(judged));
      } else if (origin === SERVER) {
        // The server's own edit (an undo, or following the domain) stands as accepted.
        this.accepted.set(change.cardId, change.to);
      } else if (origin === FROM_STORE) {
        // Another process judged it; follow its outcome.
        this.judging = this.judging.then(() => {
          this.accepted.set(change.cardId, change.to);
        });
      }
    }
  };

  /** Asks the workflow about a card changing column; undoes a refused move, reports an allowed one. */
  private async judge(change: PlacementChange, connection: BoardConnection): Promise<void> {
    const { cardId, to } = change;
    const accepted = this.accepted.has(cardId) ? this.accepted.get(cardId)! : change.from;
    // A malformed placement only sends the card to holding; the next real move is judged from `accepted`.
    if (to === null) {
      this.accepted.set(cardId, accepted);
      return;
    }
    // A first placement, or a reorder within the accepted column, is no workflow move.
    if (accepted === null || accepted.column === to.column) {
      this.accepted.set(cardId, to);
      return;
    }

    const move: ProposedMove = {
      tenantId: this.tenantId,
      boardId: this.boardId,
      cardId,
      conversationId: change.conversationId,
      from: accepted.column,
      to: to.column,
      by: connection.access.agentId,
    };
    const verdict = await this.verdictOn(move);
    if (this.phase === 'gone') return;
    if (!verdict.allowed) {
      this.accepted.set(cardId, accepted);
      undoMove(this.doc, { ...change, from: accepted }, SERVER);
      connection.send(
        noticeMessage({ kind: 'move-refused', cardId, from: move.from, to: move.to, reason: verdict.reason }),
      );
      this.settings.counters.movesRefused++;
      this.log('info', { cardId, from: move.from, to: move.to, by: move.by }, 'card move refused');
      return;
    }
    this.accepted.set(cardId, to);
    this.settings.counters.movesRecorded++;
    try {
      await this.settings.onCardMoved?.({ ...move, key: to.key, at: this.settings.clock() });
    } catch (error) {
      this.log('error', { err: error, cardId, from: move.from, to: move.to }, 'recording a card move failed');
    }
  }

  private async verdictOn(move: ProposedMove): Promise<MoveVerdict> {
    if (!this.settings.canMove) return ALLOWED;
    try {
      return await this.settings.canMove(move);
    } catch (error) {
      // Fail closed: a move nobody could check must not bypass the workflow.
      this.log('error', { err: error, cardId: move.cardId }, 'checking a card move failed');
      return { allowed: false, reason: 'the move could not be checked against the workflow; try again' };
    }
  }

  private scheduleFlush(delay: number): void {
    if (this.flushTimer === undefined && this.phase !== 'gone') {
      this.flushTimer = setTimeout(() => void this.flush(), delay);
    }
  }

  private async flushNow(): Promise<void> {
    if (this.phase === 'gone') return;
    if (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      const agents = [...this.pendingAgents].sort();
      this.pendingAgents.clear();
      const update = batch.length === 1 ? batch[0]! : Y.mergeUpdates(batch);
      try {
        await this.append(update, agents);
      } catch (error) {
        this.pending.unshift(update);
        for (const agent of agents) this.pendingAgents.add(agent);
        this.log(
          'error',
          { err: error, updates: batch.length },
          'appending board updates failed; will retry',
        );
        this.scheduleFlush(RETRY_MS);
        return;
      }
    }
    if (this.version - this.snapshotVersion >= this.settings.snapshotEvery) await this.snapshot();
  }

  /** Appends at the version this room last saw; if another process appended meanwhile, takes its updates first. */
  private async append(update: Uint8Array, agents: string[]): Promise<void> {
    const { store, counters } = this.settings;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await appendUpdate(store, this.tenantId, this.boardId, update, this.version, {
          agents,
        });
        this.version = result.nextExpectedVersion;
        counters.eventsAppended += result.events.length;
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 3) throw error;
        const caughtUp = await readUpdatesAfter(store, this.tenantId, this.boardId, this.version);
        for (const stored of caughtUp.updates) Y.applyUpdate(this.doc, stored, FROM_STORE);
        this.version = caughtUp.version;
      }
    }
  }

  private async snapshot(): Promise<void> {
    const coversVersion = this.version;
    if (coversVersion <= this.snapshotVersion) return;
    try {
      // The document itself, encoded once: garbage-collected, unlike a merge of the stored updates.
      await appendSnapshot(
        this.settings.store,
        this.tenantId,
        this.boardId,
        Y.encodeStateAsUpdate(this.doc),
        coversVersion,
      );
      this.snapshotVersion = coversVersion;
      this.settings.counters.snapshotsWritten++;
    } catch (error) {
      this.log('error', { err: error }, 'writing a board snapshot failed');
    }
  }

  private async unloadNow(force: boolean): Promise<boolean> {
    await this.loaded;
    if (this.phase === 'gone') return true;
    this.phase = 'unloading';
    clearTimeout(this.idleTimer);
    for (const connection of this.connections)
      connection.close(BoardCloseCode.GOING_AWAY, 'the board is closing');
    await this.judging;
    await this.flush();
    if (this.pending.length > 0 && !force) {
      this.phase = 'ready';
      this.checkIdle();
      return false;
    }
    if (this.pending.length > 0) {
      this.log('error', { updates: this.pending.length }, 'board unloaded with updates the store refused');
    }
    await this.snapshot();
    this.settings.counters.boardsUnloaded++;
    this.destroy();
    return true;
  }

  private destroy(): void {
    this.phase = 'gone';
    clearTimeout(this.flushTimer);
    clearTimeout(this.idleTimer);
    this.stopObserving();
    this.follower.stop();
    this.awareness.destroy();
    this.doc.destroy();
    this.shadow.destroy();
    this.settings.onGone(this);
  }

  private checkIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idle) this.idleTimer = setTimeout(() => this.settings.onIdle(this), this.settings.idleUnloadMs);
  }

  private log(level: keyof BoardLogger, details: object, message: string): void {
    this.settings.logger[level]({ tenantId: this.tenantId, boardId: this.boardId, ...details }, message);
  }
}

/** The in-memory key of a board: the tenant is part of it, so equal board ids never share a room. */
export function roomKey(tenantId: TenantId, boardId: string): string {
  return `${tenantId}/${boardId}`;
}

function copyOf(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc({ gc: doc.gc });
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
