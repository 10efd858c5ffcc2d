import type { IncomingMessage } from 'node:http';
import type { BoardSeed } from '@parley/board';
import type { EpochMs, TenantId } from '@parley/domain';
import type { EventStore } from '../store/types';

/** Who is on the other end of an accepted board connection. */
export interface BoardAccess {
  readonly tenantId: TenantId;
  readonly agentId: string;
  /** The name the agent's presence shows; the client's own claim is ignored. Defaults to `agentId`. */
  readonly agentName?: string;
  /** A read-only agent receives the board and presence; their document updates are dropped. */
  readonly readOnly: boolean;
  /**
   * Asked again every `recheckEveryMs` while the socket is open: the session can end, and the
   * agent's membership or role change, after the upgrade. A refusal closes the socket (401 with
   * `SESSION_ENDED`, any other with `ACCESS_REVOKED`); a changed `readOnly` applies at once (a
   * demoted editor is told `edits-dropped`). A failed check is asked again at the next tick.
   * Absent: the upgrade's answer holds.
   */
  readonly recheck?: () => Promise<BoardRecheck>;
}

/** A recheck's answer: the connection's right now, or why it has none any more. */
export type BoardRecheck = { readonly readOnly: boolean } | BoardRefusal;

/** Why an upgrade is refused: the HTTP status written before the socket closes. */
export interface BoardRefusal {
  readonly refuse: 401 | 403 | 404;
  readonly reason: string;
}

/**
 * Decides whether the request may open the board: checks the session cookie, that the board
 * belongs to the session's tenant, and the agent's right to it. Only its answer is trusted for the
 * tenant: two tenants' boards with the same id never share a room or a stream.
 */
export type AuthorizeBoard = (
  request: IncomingMessage,
  boardId: string,
) => Promise<BoardAccess | BoardRefusal>;

/** A card changing column, as the domain bridge sees it. `from` is the last column the server accepted. */
export interface ProposedMove {
  readonly tenantId: TenantId;
  readonly boardId: string;
  readonly cardId: string;
  readonly conversationId: string;
  readonly from: string;
  readonly to: string;
  readonly by: string;
}

/** The workflow's answer to a proposed move; a refusal's reason is shown to the agent who moved. */
export type MoveVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** A move the workflow allowed, for the audit trail and analytics. */
export interface CardMovedEvent extends ProposedMove {
  /** The card's order key in its new column. */
  readonly key: string;
  readonly at: EpochMs;
}

/** The subset of pino's logger the board server uses. */
export interface BoardLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface BoardServerOptions {
  readonly store: EventStore;
  readonly authorize: AuthorizeBoard;
  /** Upgrades under this path are boards: `<path>/<boardId>`. Defaults to `/boards`. */
  readonly path?: string;
  /** A larger message closes its connection with `UPDATE_TOO_LARGE`. Defaults to 1 MiB. */
  readonly maxUpdateBytes?: number;
  /** Updates are batched this long before one event is appended. Defaults to 30 ms. */
  readonly flushMs?: number;
  /** A snapshot is written once this many update events follow the last one. Defaults to 200. */
  readonly snapshotEvery?: number;
  /** A board with no connection for this long is snapshotted and unloaded. Defaults to 60 s. */
  readonly idleUnloadMs?: number;
  /** At most this many boards in memory; idle ones are unloaded first, else upgrades get 503. Defaults to 1000. */
  readonly maxLoadedBoards?: number;
  /** Sockets that miss a pong for this long are dropped. Defaults to 30 s. */
  readonly pingIntervalMs?: number;
  /** How often each connection's `access.recheck` is asked. Defaults to 60 s. */
  readonly recheckEveryMs?: number;
  /** Judges a card changing column; refused moves are undone. Defaults to allowing every move. */
  readonly canMove?: (move: ProposedMove) => MoveVerdict | Promise<MoveVerdict>;
  /** Called once per allowed move, in order per board, so the caller can append a domain event. */
  readonly onCardMoved?: (event: CardMovedEvent) => void | Promise<void>;
  /**
   * What a board should hold at least (its workflow's stages and cards), asked each time it loads;
   * whatever the stored board lacks is added as the server's edit. Null for nothing.
   */
  readonly seed?: (tenantId: TenantId, boardId: string) => Promise<BoardSeed | null>;
  /**
   * The domain's changes to a loaded board (cards entering its workflow, moved by the API), applied
   * as the server's own edits: each changed card is reconciled with `follow.seedOf`, and the whole
   * board with `seed` when changes may have been missed. Null or absent: the board follows nothing.
   */
  readonly follow?: BoardFollow;
  readonly clock?: () => EpochMs;
  readonly logger?: BoardLogger;
}

/** Where a loaded board hears of the domain's changes and reads the domain's view of some cards. */
export interface BoardFollow {
  /**
   * Calls `onChange` with the id of each card the domain changed on this board (tenant and board
   * only), or null when changes may have been missed. `ready` resolves once changes are routed here.
   */
  watch(tenantId: TenantId, boardId: string, onChange: (cardId: string | null) => void): BoardWatch;
  /** The board's seed narrowed to these cards: its columns, and those of the cards the domain has on it. */
  seedOf(tenantId: TenantId, boardId: string, cardIds: readonly string[]): Promise<BoardSeed | null>;
}

/** A running `BoardFollow.watch`. */
export interface BoardWatch {
  readonly ready: Promise<void>;
  stop(): void;
}

/** Counters and gauges of one board server, for metrics and tests. */
export interface BoardServerStats {
  readonly loadedBoards: number;
  readonly connections: number;
  readonly refusedUpgrades: number;
  readonly rejectedMessages: number;
  readonly droppedReadOnlyUpdates: number;
  readonly eventsAppended: number;
  readonly snapshotsWritten: number;
  readonly boardsUnloaded: number;
  readonly movesRecorded: number;
  readonly movesRefused: number;
  /** Cards and columns the server added or moved to follow the domain (seeds included). */
  readonly domainEdits: number;
  /** Connections closed because their session ended after the upgrade. */
  readonly sessionsEnded: number;
  /** Connections closed because a recheck withdrew their right to the board. */
  readonly accessRevoked: number;
  /**
   * Presence entries not relayed: for a client id the connection does not own, over
   * `MAX_PRESENCE_BYTES`, or beyond `PRESENCE_PER_SECOND` (the whole message then).
   */
  readonly droppedPresence: number;
}

/** What `attachBoardServer` returns. */
export interface BoardServerHandle {
  stats(): BoardServerStats;
  /** Asks an agent's open connections again now, not at the next round (they were deactivated). */
  recheckAgent(tenantId: TenantId, agentId: string): void;
  /** Appends every board's pending updates now. */
  flush(): Promise<void>;
  /** Stops accepting, closes every connection (1001), snapshots and unloads every board. */
  close(): Promise<void>;
}

/**
 * WebSocket close codes the board server uses. The y-websocket client stops reconnecting on
 * 4400-4499 (resending the same update cannot succeed) and retries on the others.
 */
export const BoardCloseCode = {
  /** A message failed to decode or apply; the board is unchanged. */
  MALFORMED_MESSAGE: 4400,
  /** A message exceeded `maxUpdateBytes`; the board is unchanged. */
  UPDATE_TOO_LARGE: 4413,
  /** The board could not be loaded, or the client sent too much before it was; try again later. */
  UNAVAILABLE: 4503,
  /** The agent's session ended after the connection opened; sign in again. */
  SESSION_ENDED: 4401,
  /** A recheck found the agent may no longer open this board (membership or role changed). */
  ACCESS_REVOKED: 4403,
  /** An update added a root outside the board's layout (`foreignRoots`); the board is unchanged. */
  OUTSIDE_SCHEMA: 4422,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
} as const;
export type BoardCloseCode = (typeof BoardCloseCode)[keyof typeof BoardCloseCode];
