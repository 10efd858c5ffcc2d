/**
 * The only colour form a board puts into a style: `#rrggbb`. Column colours and presence colours
 * travel in documents and awareness states anyone on the board can write, so anything else (a
 * `url(…)`, an `expression(…)`, a `var(…)`) is refused wherever it is read or relayed.
 */
const SAFE_COLOUR = /^#[0-9a-fA-F]{6}$/;

/** The colour when it is `#rrggbb`, else null. */
export function safeColour(value: unknown): string | null {
  return typeof value === 'string' && SAFE_COLOUR.test(value) ? value : null;
}

/**
 * Someone's presence (awareness state) on a board, as the server relays it: `agentId` and `name`
 * come from the connection's session, never from the client; `colour` is `#rrggbb` or absent.
 */
export interface PresenceState {
  readonly agentId: string;
  readonly name: string;
  readonly colour?: string;
  /** The card they are dragging, if any. */
  readonly dragging: string | null;
}

/** The longest card id a presence may name as dragged (board ids and card ids are shorter). */
export const MAX_DRAGGING_LENGTH = 200;

/**
 * What the server relays of a client's awareness state: the session's agent and name, a safe colour
 * if one was given, the dragged card if it is a short string. Every other field is dropped.
 */
export function sanitizePresence(
  state: unknown,
  session: { readonly agentId: string; readonly name: string },
): PresenceState {
  const claimed = typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : {};
  const colour = safeColour(claimed.colour);
  const dragging =
    typeof claimed.dragging === 'string' && claimed.dragging.length <= MAX_DRAGGING_LENGTH
      ? claimed.dragging
      : null;
  return { agentId: session.agentId, name: session.name, ...(colour && { colour }), dragging };
}
