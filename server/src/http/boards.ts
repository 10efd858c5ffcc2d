import type { IncomingMessage, Server } from 'node:http';
import type { BoardSeed, NewCard } from '@parley/board';
import { streamCategory, StreamCategory, type TenantId, type WorkflowDefinition } from '@parley/domain';
import { boardPermissionOf } from '../api/board-access';
import { aggregateIds } from '../api/tenant-streams';
import type { Auth } from '../auth/service';
import type { Session } from '../auth/sessions';
import { readSessionCookie, requestIsSecure } from '../auth/cookies';
import {
  attachBoardServer,
  workflowBridge,
  type AuthorizeBoard,
  type BoardFollow,
  type BoardRefusal,
  type BoardServerHandle,
  type BoardServerOptions,
} from '../boards';
import { onAnyAccessChanged } from '../people/access';
import type { Services } from '../services';

/** Most cards a board is seeded with on load; later ones still arrive when they move. */
const MAX_SEEDED_CARDS = 2000;

type BoardGrains = Pick<Services['grains'], 'workflow' | 'inbox' | 'card' | 'conversation'>;
/** The conversation events that change what a card shows (its assignee and labels). */
const CARD_DETAILS: ReadonlySet<string> = new Set([
  'ConversationAssigned',
  'ConversationUnassigned',
  'LabelAdded',
  'LabelRemoved',
]);
/** Deliveries a loaded board may have unread before it reconciles all of itself instead. */
const FOLLOW_BUFFER = 256;

/**
 * Serves `/boards/<boardId>` on the HTTP server. A board is a workflow: the board id is the
 * workflow id (and so, by the workflow engine's default, the id of the inbox that feeds it). The
 * session cookie decides the tenant; the workflow bridge judges and records moves; the board is
 * reconciled with the workflow's stages and cards each time it loads, and with each card the
 * domain changes while it is loaded.
 */
export function mountBoards(
  httpServer: Server,
  services: Pick<Services, 'store' | 'grains' | 'db' | 'logger' | 'broadcast' | 'channels'>,
  auth: Pick<Auth, 'resolve'>,
  overrides: Partial<BoardServerOptions> = {},
): BoardServerHandle {
  const handle = attachBoardServer(httpServer, {
    store: services.store,
    authorize: boardAuthorizer(auth, services.grains, () => services.channels.publicUrl()),
    seed: workflowSeed(services),
    follow: workflowFollow(services),
    ...workflowBridge({ grains: services.grains }),
    logger: services.logger.child({ part: 'boards' }),
    ...overrides,
  });
  // A deactivated agent's open boards close at once, not at the next round of checks (0035).
  const stopHearing = onAnyAccessChanged(services.broadcast, (tenantId, agentId) =>
    handle.recheckAgent(tenantId, agentId),
  );
  return {
    ...handle,
    close: () => {
      stopHearing();
      return handle.close();
    },
  };
}

/**
 * The board upgrade's checks, in order: same-origin (a page of another site cannot open a board
 * with the agent's cookie), a live session, a workflow of that id in the session's tenant (another
 * tenant's board answers 404, exactly like one that does not exist, and so does the board of an
 * inbox the agent is not a member of: decision 0015), then the agent's permission (rules BA1, BA2
 * through `boardPermissionOf`, the check the API's card moves make too): viewers get a read-only
 * connection. All of it is asked again while the socket stays open: signing out or leaving the
 * board's inbox closes the agent's boards, and a role change makes them read-only or not.
 */
export function boardAuthorizer(
  auth: Pick<Auth, 'resolve'>,
  grains: Pick<BoardGrains, 'workflow' | 'inbox'>,
  publicUrl: () => string | undefined = () => undefined,
): AuthorizeBoard {
  return async (request, boardId) => {
    if (!sameOrigin(request))
      return { refuse: 403, reason: 'board connections from other sites are refused' };
    const cookie = readSessionCookie(request.headers.cookie, requestIsSecure(request, publicUrl()));
    const right = await boardRight(auth, grains, cookie, boardId);
    if ('refuse' in right) return right;
    const { tenantId, agent } = right.session;
    return {
      tenantId,
      agentId: agent.id,
      agentName: agent.name,
      readOnly: right.readOnly,
      // The same check again: an ended session, another agent behind the cookie, or a board gone
      // closes the socket; a membership or role change switches it between editing and viewing.
      recheck: async () => {
        const now = await boardRight(auth, grains, cookie, boardId);
        if ('refuse' in now) return now;
        if (now.session.agent.id !== agent.id || now.session.tenantId !== tenantId) {
          return { refuse: 401, reason: 'sign in to open a board' };
        }
        return { readOnly: now.readOnly };
      },
    };
  };
}

/** A live session's right to a board (BA1/BA2 through `boardPermissionOf`), or why it has none. */
async function boardRight(
  auth: Pick<Auth, 'resolve'>,
  grains: Pick<BoardGrains, 'workflow' | 'inbox'>,
  cookie: string | undefined,
  boardId: string,
): Promise<{ session: Session; readOnly: boolean } | BoardRefusal> {
  const session = await auth.resolve(cookie);
  if (!session) return { refuse: 401, reason: 'sign in to open a board' };
  const permission = await boardPermissionOf(grains, session.tenantId, session.agent, boardId);
  if (permission === null) return { refuse: 404, reason: `there is no board ${boardId}` };
  return { session, readOnly: permission === 'view' };
}

/** The workflow's stages as columns and the cards on it, titled with their contact's name. */
export function workflowSeed(
  services: Pick<Services, 'grains' | 'db'>,
): (tenantId: TenantId, boardId: string) => Promise<BoardSeed | null> {
  const { db } = services;
  return async (tenantId, boardId) =>
    seedOf(
      services,
      tenantId,
      boardId,
      await aggregateIds(db.sql, tenantId, StreamCategory.card, MAX_SEEDED_CARDS),
    );
}

/**
 * The domain → board direction for loaded boards: a board hears the card events on its board topic
 * (`card-*` events carry their workflow's board topic; a workflow's own events are on it too), in
 * its tenant only, and reads the changed cards from their grains. A revised workflow, or deliveries
 * lost to a full buffer, reconcile the whole board.
 */
export function workflowFollow(services: Pick<Services, 'grains' | 'broadcast'>): BoardFollow {
  return {
    watch(tenantId, boardId, onChange) {
      // The tenant's topic too: a card shows its conversation's assignee and labels, which change
      // after the card entered the board (the assignment follows the card's CycleStarted).
      const subscription = services.broadcast.subscribe(
        [
          { kind: 'board', tenantId, id: boardId },
          { kind: 'tenant', tenantId },
        ],
        { bufferSize: FOLLOW_BUFFER },
      );
      void (async () => {
        for await (const delivery of subscription) {
          if (delivery.kind === 'overflow') onChange(null);
          else if (delivery.event.tenantId !== tenantId) continue;
          else if (streamCategory(delivery.event.streamId) === StreamCategory.card) {
            onChange(delivery.event.streamId.slice(StreamCategory.card.length + 1));
          } else if (streamCategory(delivery.event.streamId) === StreamCategory.workflow) onChange(null);
          else if (
            streamCategory(delivery.event.streamId) === StreamCategory.conversation &&
            CARD_DETAILS.has(delivery.event.type)
          ) {
            onChange(delivery.event.streamId.slice(StreamCategory.conversation.length + 1));
          }
        }
      })();
      return { ready: subscription.ready, stop: () => subscription.unsubscribe() };
    },
    seedOf: (tenantId, boardId, cardIds) => seedOf(services, tenantId, boardId, cardIds),
  };
}

/** The workflow's stages as columns, and those of the cards that are on the workflow. */
async function seedOf(
  services: Pick<Services, 'grains'>,
  tenantId: TenantId,
  boardId: string,
  conversationIds: readonly string[],
): Promise<BoardSeed | null> {
  const { grains } = services;
  const workflow = (await grains.workflow(tenantId, boardId).read()).state;
  if (workflow === null) return null;
  const cards: NewCard[] = [];
  for (const conversationId of conversationIds) {
    const card = await cardOf(grains, tenantId, workflow, conversationId);
    if (card) cards.push(card);
  }
  return {
    columns: workflow.stages.map((stage) => ({ id: stage.id, name: stage.name, wipLimit: stage.wipLimit })),
    cards,
  };
}

/** A conversation's card at its stage, titled with its contact's name; null when it is not on the workflow. */
async function cardOf(
  grains: Pick<BoardGrains, 'card' | 'conversation'>,
  tenantId: TenantId,
  workflow: WorkflowDefinition,
  conversationId: string,
): Promise<NewCard | null> {
  const card = (await grains.card(tenantId, conversationId).read()).state;
  if (card?.workflowId !== workflow.workflowId) return null;
  const conversation = (await grains.conversation(tenantId, conversationId).read()).state;
  return {
    id: conversationId,
    conversationId,
    title: conversation?.contact.name ?? conversationId,
    column: card.stageId,
    assignee: conversation?.assigneeId ?? null,
    labels: conversation?.labels ?? [],
  };
}

/** True without an Origin header (not a browser) or when it names the host the request came to. */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
