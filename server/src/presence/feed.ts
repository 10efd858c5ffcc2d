import type { JsonObject, TenantId } from '@parley/domain';
import type { SignalChannel } from '../broadcast/signals';
import type { PresenceHub, PresenceUpdate } from './hub';

/** An in-app notice for one agent, as the notifications sender signals it (decision 0026). */
export interface NoticeMessage {
  readonly kind: 'notice';
  readonly trigger: 'assigned' | 'customer_replied' | 'mentioned';
  readonly conversationId: string;
  readonly title: string;
  readonly body: string;
}

/**
 * The contact of a conversation the watcher may see changed outside the conversation's own log (a
 * note on the contact): an open contact panel fetches the profile again. Ids only, no content.
 */
export interface ContactChangedMessage {
  readonly kind: 'contact';
  readonly conversationId: string;
}

/** The signal `contacts.addNote` sends on the tenant's topic; each stream keeps the ids its watcher may see. */
export const CONTACT_CHANGED = 'contact-changed';

/** What the presence stream sends: first who is where, then each change and this agent's notices. */
export type PresenceMessage =
  | { readonly kind: 'snapshot'; readonly presences: readonly PresenceUpdate[] }
  | ({ readonly kind: 'presence' } & PresenceUpdate)
  | NoticeMessage
  | ContactChangedMessage;

/** Who watches, and which conversations they may see (their inbox scope, decision 0015). */
export interface Watcher {
  readonly tenantId: TenantId;
  readonly agentId: string;
  readonly device: string;
  readonly sees: (conversationId: string) => Promise<boolean>;
}

/**
 * The stream of one device: presences of other agents in conversations the watcher may see, and
 * notices addressed to the watcher. Ends when `signal` aborts; then the device leaves wherever it was.
 */
/** Open streams per device in this process: a reconnect overlapping its old stream must not leave. */
const openStreams = new Map<string, number>();

export async function* watchPresence(
  hub: PresenceHub,
  signals: SignalChannel,
  watcher: Watcher,
  signal: AbortSignal,
): AsyncGenerator<PresenceMessage> {
  const queue: (PresenceMessage | Promise<PresenceMessage | null>)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: PresenceMessage | Promise<PresenceMessage | null>) => {
    queue.push(item);
    wake?.();
  };
  const visible = (update: PresenceUpdate) =>
    update.agentId !== watcher.agentId ? watcher.sees(update.conversationId) : Promise.resolve(false);
  const stopPresence = hub.watch(watcher.tenantId, (update) =>
    push(
      visible(update).then(
        (shown) => (shown ? { kind: 'presence', ...update } : null),
        () => null,
      ),
    ),
  );
  const stopNotices = signals.listen([{ kind: 'tenant', tenantId: watcher.tenantId }], (_topic, message) => {
    for (const conversationId of contactChangedIn(message))
      push(
        watcher.sees(conversationId).then(
          (shown): ContactChangedMessage | null => (shown ? { kind: 'contact', conversationId } : null),
          () => null,
        ),
      );
    const notice = noticeFor(message, watcher.agentId);
    if (notice)
      push(
        watcher.sees(notice.conversationId).then(
          (shown) => (shown ? notice : null),
          () => null,
        ),
      );
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort, { once: true });
  const streamKey = `${watcher.tenantId}/${watcher.agentId}/${watcher.device}`;
  openStreams.set(streamKey, (openStreams.get(streamKey) ?? 0) + 1);
  try {
    const presences: PresenceUpdate[] = [];
    for (const update of hub.snapshot(watcher.tenantId)) if (await visible(update)) presences.push(update);
    yield { kind: 'snapshot', presences };
    while (!signal.aborted) {
      const next = queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      // Each message keeps its place: a scope check finishing early never reorders them.
      const message = await next;
      if (message) yield message;
    }
  } finally {
    stopPresence();
    stopNotices();
    signal.removeEventListener('abort', onAbort);
    const left = (openStreams.get(streamKey) ?? 1) - 1;
    if (left > 0) openStreams.set(streamKey, left);
    else {
      openStreams.delete(streamKey);
      hub.leaveDevice(watcher.tenantId, watcher.agentId, watcher.device);
    }
  }
}

function noticeFor(message: JsonObject, agentId: string): NoticeMessage | undefined {
  if (message.type !== 'notice' || message.agentId !== agentId) return undefined;
  const { trigger, conversationId, title, body } = message;
  if (
    (trigger !== 'assigned' && trigger !== 'customer_replied' && trigger !== 'mentioned') ||
    typeof conversationId !== 'string' ||
    typeof title !== 'string' ||
    typeof body !== 'string'
  )
    return undefined;
  return { kind: 'notice', trigger, conversationId, title, body };
}

/** At most `limit` presence changes per device in a window, so one client cannot flood the others. */
export function presenceLimiter(limit = 20, windowMs = 10_000, now: () => number = Date.now) {
  const windows = new Map<string, { start: number; count: number }>();
  return (key: string): boolean => {
    const at = now();
    const current = windows.get(key);
    if (!current || at - current.start >= windowMs) {
      if (windows.size > 10_000) windows.clear();
      windows.set(key, { start: at, count: 1 });
      return true;
    }
    current.count += 1;
    return current.count <= limit;
  };
}

/** The conversations a `contact-changed` signal names (at most 100; anything else names none). */
function contactChangedIn(message: JsonObject): string[] {
  if (message.type !== CONTACT_CHANGED || !Array.isArray(message.conversationIds)) return [];
  return message.conversationIds.filter((id): id is string => typeof id === 'string').slice(0, 100);
}
