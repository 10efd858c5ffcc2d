import {
  BOARD_NOTICE_MESSAGE,
  createBoardDoc,
  parseBoardNotice,
  readBoard,
  safeColour,
  type BoardNotice,
  type BoardView,
} from '@parley/board';
import * as decoding from 'lib0/decoding';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';

/** Where the board is: loading this device's copy, then offline, connecting or live with the server. */
export type BoardStatus = 'loading' | 'offline' | 'connecting' | 'live' | 'closed';

/** Someone with the board open, as their awareness state says. */
export interface Presence {
  readonly clientId: number;
  readonly agentId: string;
  readonly name: string;
  /** Always `#rrggbb` (`safeColour`): it goes into a style, and any client may send presence. */
  readonly colour: string;
  /** The card they are dragging, if any. */
  readonly dragging: string | null;
  readonly self: boolean;
}

/** The longest wait between reconnects; each wait is jittered between half and all of its step. */
const MAX_BACKOFF_MS = 10_000;
const FIRST_BACKOFF_MS = 100;

/**
 * One open board: the Y.Doc with this device's copy in IndexedDB (so it opens and edits offline),
 * connected to `/boards/<id>` only once that copy has loaded, so the first sync sends the offline
 * edits instead of fetching a board the device already has. Reconnects back off exponentially with
 * jitter; going offline (the browser's `offline` event) disconnects, `online` reconnects at once.
 */
export class BoardConnection {
  readonly doc: Y.Doc = createBoardDoc();
  readonly persistence: IndexeddbPersistence;
  private provider: WebsocketProvider | null = null;
  private listeners = new Set<() => void>();
  private view: BoardView = readBoard(this.doc);
  private people: readonly Presence[] = [];
  private state: BoardStatus = 'loading';
  private lastNotice: BoardNotice | null = null;
  private viewOnly = false;
  private destroyed = false;

  constructor(
    readonly boardId: string,
    private readonly me: { readonly tenantId: string; readonly id: string; readonly name: string },
  ) {
    this.persistence = new IndexeddbPersistence(`parley:${me.tenantId}:${me.id}:board:${boardId}`, this.doc);
    this.doc.on('update', this.refresh);
    void this.persistence.whenSynced.then(() => {
      if (this.destroyed) return;
      this.refresh();
      this.connect();
    });
  }

  /** Calls `listener` after any change of the board, presence, status or notices. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get board(): BoardView {
    return this.view;
  }

  get presence(): readonly Presence[] {
    return this.people;
  }

  get status(): BoardStatus {
    return this.state;
  }

  /** The server's latest word to this agent (a refused move, or that they may only view). */
  get notice(): BoardNotice | null {
    return this.lastNotice;
  }

  /** True once the server said this agent may only view the board. */
  get readOnly(): boolean {
    return this.viewOnly;
  }

  dismissNotice(): void {
    this.lastNotice = null;
    this.emit();
  }

  /** Tells the others which card this agent is dragging (null when the drag ends). */
  setDragging(cardId: string | null): void {
    this.provider?.awareness.setLocalStateField('dragging', cardId);
  }

  destroy(): void {
    this.destroyed = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.provider?.destroy();
    void this.persistence.destroy();
    this.doc.off('update', this.refresh);
    this.doc.destroy();
    this.listeners.clear();
  }

  private connect(): void {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const provider = new WebsocketProvider(
      `${scheme}://${window.location.host}/boards`,
      this.boardId,
      this.doc,
      {
        connect: navigator.onLine,
        maxBackoffTime: MAX_BACKOFF_MS,
      },
    );
    this.provider = provider;
    provider.messageHandlers[BOARD_NOTICE_MESSAGE] = (_encoder, decoder) => {
      const notice = parseBoardNotice(decoding.readVarString(decoder));
      if (!notice) return;
      if (notice.kind === 'edits-dropped') this.viewOnly = true;
      this.lastNotice = notice;
      this.emit();
    };
    // y-websocket waits min(2^attempts * 100 ms, maxBackoffTime) after each close, read right after
    // this event: narrowing maxBackoffTime to a random point of the step's upper half adds the jitter,
    // so many agents cut off together do not all come back in the same instant.
    provider.on('connection-close', () => {
      const step = Math.min(FIRST_BACKOFF_MS * 2 ** (provider.wsUnsuccessfulReconnects + 1), MAX_BACKOFF_MS);
      provider.maxBackoffTime = Math.round(step * (0.5 + Math.random() / 2));
    });
    provider.on('status', () => this.refresh());
    provider.on('sync', () => this.refresh());
    provider.awareness.setLocalState({
      agentId: this.me.id,
      name: this.me.name,
      colour: colourOf(this.me.id),
      dragging: null,
    });
    provider.awareness.on('change', this.refresh);
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.refresh();
  }

  private readonly onOnline = () => {
    if (!this.provider) return;
    this.provider.maxBackoffTime = MAX_BACKOFF_MS;
    this.provider.connect();
  };

  private readonly onOffline = () => {
    this.provider?.disconnect();
    this.refresh();
  };

  private readonly refresh = () => {
    if (this.destroyed) return;
    this.view = readBoard(this.doc);
    const provider = this.provider;
    this.state = !provider
      ? 'loading'
      : provider.wsconnected && provider.synced
        ? 'live'
        : provider.shouldConnect
          ? 'connecting'
          : navigator.onLine
            ? 'closed'
            : 'offline';
    this.people = provider ? presenceOf(provider, this.doc.clientID) : [];
    this.emit();
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function presenceOf(provider: WebsocketProvider, self: number): Presence[] {
  const people: Presence[] = [];
  for (const [clientId, state] of provider.awareness.getStates()) {
    const { agentId, name, colour, dragging } = state as Record<string, unknown>;
    if (typeof agentId !== 'string' || typeof name !== 'string') continue;
    people.push({
      clientId,
      agentId,
      name,
      colour: safeColour(colour) ?? colourOf(agentId),
      dragging: typeof dragging === 'string' ? dragging : null,
      self: clientId === self,
    });
  }
  return people.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
}

/** Presence colours, dark enough for white text and light enough on the dark theme; `#rrggbb` as the server requires. */
const PALETTE = [
  '#1d4ed8',
  '#b91c1c',
  '#047857',
  '#7c3aed',
  '#a16207',
  '#0e7490',
  '#be185d',
  '#4d7c0f',
  '#c2410c',
  '#4338ca',
  '#0f766e',
  '#9d174d',
] as const;

/** A stable colour per agent. */
function colourOf(agentId: string): string {
  let hash = 0;
  for (const char of agentId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}
