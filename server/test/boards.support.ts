import {
  BOARD_NOTICE_MESSAGE,
  createBoardDoc,
  parseBoardNotice,
  readBoard,
  type BoardNotice,
} from '@parley/board';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { SESSION_COOKIE } from '../src/auth/cookies';

/** One agent's board in a test: the real y-websocket client and the notices the server sent it. */
export interface BoardClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly notices: BoardNotice[];
  destroy(): void;
}

/** The real y-websocket client on `ws://<host>/boards/<boardId>`, sending a session cookie as a browser would. */
export function connectBoard(host: string, boardId: string, sessionCookie: string | undefined): BoardClient {
  const headers = { cookie: `${SESSION_COOKIE}=${sessionCookie}` };
  class SessionSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const doc = createBoardDoc();
  type Options = NonNullable<ConstructorParameters<typeof WebsocketProvider>[3]>;
  const provider = new WebsocketProvider(`ws://${host}/boards`, boardId, doc, {
    WebSocketPolyfill: SessionSocket as unknown as Options['WebSocketPolyfill'],
    disableBc: true,
    maxBackoffTime: 200,
  });
  const notices: BoardNotice[] = [];
  provider.messageHandlers[BOARD_NOTICE_MESSAGE] = (_encoder, decoder) => {
    const notice = parseBoardNotice(decoding.readVarString(decoder));
    if (notice) notices.push(notice);
  };
  return {
    doc,
    provider,
    notices,
    destroy() {
      provider.destroy();
      doc.destroy();
    },
  };
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after 10 s. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 20) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The column a card shows in on a client's board, or undefined. */
export function columnOf(client: Pick<BoardClient, 'doc'>, cardId: string): string | undefined {
  return readBoard(client.doc).columns.find((column) => column.cards.some((card) => card.id === cardId))?.id;
}

/** A card as a client's board shows it in a column, or undefined. */
export function readCard(client: Pick<BoardClient, 'doc'>, cardId: string) {
  return readBoard(client.doc)
    .columns.flatMap((column) => column.cards)
    .find((card) => card.id === cardId);
}
