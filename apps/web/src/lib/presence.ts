import type { AppRouter } from '@parley/server/router';
import type { inferRouterOutputs } from '@trpc/server';
import type { Client } from './api/client';

type Outputs = inferRouterOutputs<AppRouter>;
/** One message of the presence stream, as the server sends it (inferred from `AppRouter`). */
export type PresenceMessage = Outputs['presence']['watch'] extends AsyncIterable<infer M> ? M : never;
/** An in-app notice for this agent (assigned, answered, mentioned). */
export type Notice = Extract<PresenceMessage, { kind: 'notice' }>;

/** Another agent's tab in a conversation. */
export interface Presence {
  readonly agentId: string;
  readonly name: string;
  readonly device: string;
  readonly typing: boolean;
}

interface Held {
  readonly agentId: string;
  readonly name: string;
  readonly device: string;
  readonly conversationId: string;
  viewingUntil: number;
  typingUntil: number;
}

/** How often this tab repeats where it is (the server forgets it after 30 s), and typing (after 6 s). */
const REPEAT_MS = { viewing: 15_000, typing: 3_000 } as const;
/** Typing stops counting this long after the last keystroke. */
const TYPING_IDLE_MS = 4_000;
const EMPTY: readonly Presence[] = [];

/**
 * This tab's side of presence (decision 0026): it tells the server which conversation it shows and
 * when its agent types, and keeps who else is where, each until the time the server gave it.
 */
export class PresenceClient {
  readonly device = crypto.randomUUID().replaceAll('-', '');
  private readonly held = new Map<string, Held>();
  private readonly listeners = new Set<() => void>();
  private readonly noticeListeners = new Set<(notice: Notice) => void>();
  private readonly contactListeners = new Set<(conversationId: string) => void>();
  private byConversation = new Map<string, readonly Presence[]>();
  private subscription: { unsubscribe(): void } | null = null;
  private current: string | null = null;
  private typingSentAt = 0;
  private lastKeyAt = 0;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    private readonly client: Client,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.subscription) return;
    this.subscription = this.client.presence.watch.subscribe(
      { device: this.device },
      {
        onData: (message) => this.receive(message),
        onError: () => undefined, // the link reconnects; the next snapshot replaces what we hold
      },
    );
    this.timers.push(
      setInterval(() => this.expire(), 1_000),
      setInterval(() => this.repeat(), REPEAT_MS.viewing),
    );
  }

  stop(): void {
    if (this.current) this.send(this.current, 'left');
    this.subscription?.unsubscribe();
    this.subscription = null;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** Who else is in the conversation now, typing first (a stable array while nothing changes). */
  in(conversationId: string): readonly Presence[] {
    return this.byConversation.get(conversationId) ?? EMPTY;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onNotice(listener: (notice: Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /** Called with a conversation's id when its contact changed elsewhere (another agent's note). */
  onContactChanged(listener: (conversationId: string) => void): () => void {
    this.contactListeners.add(listener);
    return () => this.contactListeners.delete(listener);
  }

  /** This tab shows a conversation (or none). */
  view(conversationId: string | null): void {
    if (this.current === conversationId) return;
    if (this.current && conversationId === null) this.send(this.current, 'left');
    this.current = conversationId;
    this.typingSentAt = 0;
    if (conversationId) this.send(conversationId, 'viewing');
  }

  /** The agent typed in the conversation's composer. */
  typed(conversationId: string): void {
    if (this.current !== conversationId) this.view(conversationId);
    const at = this.now();
    this.lastKeyAt = at;
    if (at - this.typingSentAt < REPEAT_MS.typing) return;
    this.typingSentAt = at;
    this.send(conversationId, 'typing');
  }

  /** The draft was sent or emptied: the agent is no longer typing. */
  stoppedTyping(conversationId: string): void {
    if (this.typingSentAt === 0 || this.current !== conversationId) return;
    this.typingSentAt = 0;
    this.send(conversationId, 'viewing');
  }

  private repeat(): void {
    if (!this.current || document.visibilityState === 'hidden') return;
    const typing = this.now() - this.lastKeyAt < TYPING_IDLE_MS;
    this.send(this.current, typing ? 'typing' : 'viewing');
  }

  private send(conversationId: string, activity: 'viewing' | 'typing' | 'left'): void {
    void this.client.presence.set
      .mutate({ device: this.device, conversationId, activity })
      .catch(() => undefined);
  }

  private receive(message: PresenceMessage): void {
    const at = this.now();
    switch (message.kind) {
      case 'snapshot':
        this.held.clear();
        for (const presence of message.presences) this.hold(presence, at);
        break;
      case 'presence':
        this.hold(message, at);
        break;
      case 'notice':
        for (const listener of this.noticeListeners) listener(message);
        return;
      case 'contact':
        for (const listener of this.contactListeners) listener(message.conversationId);
        return;
      default:
        return message satisfies never;
    }
    this.publish();
  }

  private hold(
    presence: {
      conversationId: string;
      agentId: string;
      name: string;
      device: string;
      activity: string;
      ttlMs: number;
    },
    at: number,
  ): void {
    const key = `${presence.agentId}/${presence.device}`;
    const before = this.held.get(key);
    if (presence.activity === 'left') {
      if (before?.conversationId === presence.conversationId) this.held.delete(key);
      return;
    }
    const same = before?.conversationId === presence.conversationId ? before : undefined;
    const typing = presence.activity === 'typing';
    this.held.set(key, {
      agentId: presence.agentId,
      name: presence.name,
      device: presence.device,
      conversationId: presence.conversationId,
      viewingUntil: Math.max(same?.viewingUntil ?? 0, at + (typing ? 30_000 : presence.ttlMs)),
      typingUntil: typing ? at + presence.ttlMs : 0,
    });
  }

  private expire(): void {
    const at = this.now();
    let changed = false;
    for (const [key, held] of this.held) {
      if (held.viewingUntil <= at) {
        this.held.delete(key);
        changed = true;
      } else if (held.typingUntil !== 0 && held.typingUntil <= at) {
        held.typingUntil = 0;
        changed = true;
      }
    }
    if (changed) this.publish();
  }

  private publish(): void {
    const at = this.now();
    const next = new Map<string, Presence[]>();
    for (const held of this.held.values()) {
      const list = next.get(held.conversationId) ?? [];
      // One line per agent: typing on any of their tabs counts.
      const typing = held.typingUntil > at;
      const existing = list.find((each) => each.agentId === held.agentId);
      if (existing) {
        if (typing && !existing.typing) list.splice(list.indexOf(existing), 1, { ...existing, typing });
      } else list.push({ agentId: held.agentId, name: held.name, device: held.device, typing });
      next.set(held.conversationId, list);
    }
    for (const list of next.values())
      list.sort((a, b) => Number(b.typing) - Number(a.typing) || a.name.localeCompare(b.name));
    // Keep the old array where nothing changed, so only the rows that changed render again.
    const merged = new Map<string, readonly Presence[]>();
    for (const [conversationId, list] of next) {
      const old = this.byConversation.get(conversationId);
      merged.set(conversationId, old && sameList(old, list) ? old : list);
    }
    this.byConversation = merged;
    for (const listener of this.listeners) listener();
  }
}

function sameList(a: readonly Presence[], b: readonly Presence[]): boolean {
  return (
    a.length === b.length &&
    a.every((each, i) => each.agentId === b[i]!.agentId && each.typing === b[i]!.typing)
  );
}

/** The tab's presence client while a session is signed in (the list's markers read it). */
let active: PresenceClient | null = null;
const activeListeners = new Set<() => void>();

/** Makes `client` the tab's presence client (or none). */
export function setActivePresence(client: PresenceClient | null): void {
  active = client;
  for (const listener of activeListeners) listener();
}

/** The tab's presence client, and a way to hear when it changes. */
export const activePresence = {
  get: (): PresenceClient | null => active,
  subscribe: (listener: () => void): (() => void) => {
    activeListeners.add(listener);
    return () => activeListeners.delete(listener);
  },
};
