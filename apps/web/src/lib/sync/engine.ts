import type { CatchUpAnswer, ConversationPage, ListItem, ResyncAnswer, SyncEvent } from '../api/wire';
import { conversationIdOf, withKeys, type ConversationRow, type EventRow, type ParleyDb } from '../db/schema';
import {
  dropErased,
  erasureTables,
  evictCachedMedia,
  isErasedItem,
  isErasureNotice,
  noticeOf,
  resyncNotice,
} from './erasure';
import { applyToSummary, confirmedRow, refoldDeviceEvents } from './summary';

export type { CatchUpAnswer, ListItem, ResyncAnswer, SyncEvent } from '../api/wire';

export interface LiveHandlers {
  onEvent(event: SyncEvent): void;
  onResync(answer: ResyncAnswer): void;
  /** The stream is open and delivering. */
  onOpen(): void;
  /** The connection dropped or failed; the engine catches up again before trusting it. */
  onLost(error: unknown): void;
}

/** The server calls the engine makes; `api/client.ts` implements them over tRPC. */
export interface SyncApi {
  catchUp(cursor: string | null, limit: number): Promise<CatchUpAnswer>;
  list(cursor: string | null): Promise<ConversationPage>;
  conversationEvents(conversationId: string, afterVersion: number): Promise<readonly SyncEvent[]>;
  live(cursor: string, handlers: LiveHandlers): { unsubscribe(): void };
}

export type SyncPhase = 'idle' | 'catching-up' | 'live' | 'offline' | 'stopped';

export interface SyncEngineOptions {
  readonly db: ParleyDb;
  readonly api: SyncApi;
  /** Called each time catch-up has finished after a (re)connection: the outbox flushes then. */
  readonly onCaughtUp?: () => void;
  readonly pageSize?: number;
  readonly clock?: () => number;
  /** Delay before reconnecting after a lost stream or failed catch-up. */
  readonly retryMs?: (attempt: number) => number;
  /** How live events are gathered into one write (docs/decisions/0012-batched-reply-flush.md). */
  readonly burst?: BurstLimits;
}

/** Live events wait up to `waitMs` for company, and one write takes at most `events` of them. */
export interface BurstLimits {
  readonly waitMs: number;
  readonly events: number;
}

export const DEFAULT_BURST: BurstLimits = { waitMs: 8, events: 500 };

/**
 * Keeps the local copy in step with the server: catch-up pages (each page and its cursor in one
 * transaction) until the log's end, then the live stream from that cursor. Whenever the stream is
 * lost, it catches up again before listening; a `resync` answer clears the copy and reloads it.
 */
export class SyncEngine {
  private phaseValue: SyncPhase = 'idle';
  private readonly listeners = new Set<() => void>();
  private subscription: { unsubscribe(): void } | null = null;
  private cycle: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private liveQueue: Promise<void> = Promise.resolve();
  private readonly clock: () => number;

  constructor(private readonly options: SyncEngineOptions) {
    this.clock = options.clock ?? Date.now;
  }

  get phase(): SyncPhase {
    return this.phaseValue;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setPhase(phase: SyncPhase): void {
    if (this.phaseValue === 'stopped' || this.phaseValue === phase) return;
    this.phaseValue = phase;
    for (const listener of this.listeners) listener();
  }

  /** Starts (or restarts, after a loss or `online`) the cycle: catch up, then listen live. */
  start(): Promise<void> {
    if (this.phaseValue === 'stopped') return Promise.resolve();
    if (this.cycle) return this.cycle;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.cycle = (async () => {
      try {
        this.setPhase('catching-up');
        const cursor = await this.catchUp();
        if (this.phaseValue === 'stopped') return;
        this.failures = 0;
        this.options.onCaughtUp?.();
        this.listen(cursor);
      } catch {
        this.retryLater();
      } finally {
        this.cycle = null;
      }
    })();
    return this.cycle;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.setPhase('stopped');
    this.phaseValue = 'stopped';
  }

  private retryLater(): void {
    if (this.phaseValue === 'stopped') return;
    this.setPhase('offline');
    this.failures += 1;
    const delay = this.options.retryMs?.(this.failures) ?? Math.min(5_000, 500 * 2 ** (this.failures - 1));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.start(), delay);
  }

  /** Reads pages until the end of the log; returns the cursor to listen from. */
  async catchUp(): Promise<string> {
    const { db, api } = this.options;
    for (;;) {
      const stored = await db.cursors.get('events');
      const answer = await api.catchUp(stored?.cursor ?? null, this.options.pageSize ?? 500);
      if (answer.kind === 'resync') {
        await this.resync(answer);
        continue;
      }
      await this.applyPage(answer.events, answer.cursor);
      if (!answer.hasMore) return answer.cursor;
    }
  }

  /** Writes a page of events, the list rows they change and the new cursor, all or nothing. */
  async applyPage(events: readonly SyncEvent[], cursor: string): Promise<void> {
    const { db } = this.options;
    const notices = events.filter(isErasureNotice);
    const synced = notices.length === 0 ? events : events.filter((event) => !isErasureNotice(event));
    const media: string[] = [];
    await db.transaction('rw', [...erasureTables(db), db.cursors], async () => {
      const rows = synced.map(toRow);
      if (rows.length > 0) await db.events.bulkPut(rows);
      const touched = [...new Set(rows.map((row) => row.conversationId).filter((id) => id !== ''))];
      if (touched.length > 0) {
        const current = await db.conversations.bulkGet(touched);
        // Sync folds onto what it confirmed before, never onto this device's provisional events.
        const summaries = new Map<string, ConversationRow | undefined>(
          touched.map((id, index) => [id, current[index] && confirmedRow(current[index])]),
        );
        for (const row of rows) {
          if (row.conversationId === '') continue;
          summaries.set(row.conversationId, applyToSummary(summaries.get(row.conversationId), row));
        }
        const changed = [...summaries.values()].filter((row): row is ConversationRow => row !== undefined);
        await db.conversations.bulkPut(changed);
        // Provisional events sync has not reached yet are shown again on top.
        const ahead = new Set(current.filter((row) => row?.confirmed).map((row) => row!.conversationId));
        if (ahead.size > 0)
          await refoldDeviceEvents(
            db,
            changed.filter((row) => ahead.has(row.conversationId)),
          );
      }
      // An erased contact's conversations leave the device with the page that says so (decision
      // 0029), after its events, so nothing the page brought of them stays.
      for (const notice of notices) media.push(...(await dropErased(db, noticeOf(notice))).media);
      await db.cursors.put({ name: 'events', cursor, updatedAt: this.clock() });
    });
    await evictCachedMedia(media);
  }

  /**
   * The server cannot continue from our cursor: clear the synced copy (never the outbox or the
   * drafts, but those of an erased contact's conversations), reload the list from the queries, and
   * continue from the cursor the answer names.
   * Conversations' events are fetched again when each is opened (`hydrate`).
   */
  async resync(answer: ResyncAnswer): Promise<void> {
    const { db, api } = this.options;
    const items: ListItem[] = [];
    let page: string | null = null;
    do {
      const result = await api.list(page);
      items.push(...result.items);
      page = result.nextCursor;
    } while (page !== null);
    // A resync crosses any erasure notice between the old cursor and this one (decision 0029):
    // the list reads an erased contact's conversations as "[erased]", and they are not kept, nor
    // what the agent had queued or drafted there.
    const erased = items.filter(isErasedItem).map((item) => item.conversationId);
    let media: readonly string[] = [];
    await db.transaction('rw', [...erasureTables(db), db.cursors], async () => {
      await db.events.clear();
      await db.conversations.clear();
      const gone = new Set(erased);
      const kept = items.filter((item) => !gone.has(item.conversationId));
      await db.conversations.bulkPut(kept.map((item) => withKeys({ ...item, hydrated: false })));
      const [outbox, drafts] = await Promise.all([
        db.outbox.where('conversationId').anyOf(erased).primaryKeys(),
        db.drafts.where('conversationId').anyOf(erased).primaryKeys(),
      ]);
      await db.meta.bulkDelete(erased.map((id) => `contact-profile:${id}`));
      if (outbox.length + drafts.length > 0) {
        const notice = resyncNotice(answer.cursor, erased, this.clock());
        media = (await dropErased(db, notice)).media;
      }
      await db.cursors.put({ name: 'events', cursor: answer.cursor, updatedAt: this.clock() });
    });
    await evictCachedMedia(media);
  }

  /** Fetches the events of a conversation the list knows only from a resync. */
  async hydrate(conversationId: string): Promise<void> {
    const { db, api } = this.options;
    const row = await db.conversations.get(conversationId);
    if (!row || row.hydrated) return;
    const events: SyncEvent[] = [];
    for (;;) {
      const page = await api.conversationEvents(conversationId, events.at(-1)?.version ?? 0);
      events.push(...page);
      if (page.length < 500) break;
    }
    await db.transaction('rw', db.events, db.conversations, async () => {
      await db.events.bulkPut(events.map(toRow));
      const current = await db.conversations.get(conversationId);
      if (current) await db.conversations.put({ ...current, hydrated: true });
    });
  }

  /**
   * Listens from `cursor`. Live events are written in bursts: the first of a burst waits a few
   * milliseconds, and everything that arrived by the time the previous write finished goes into
   * the next one (events, list rows and cursor in one transaction, as a catch-up page), so the
   * screens' queries re-run once per burst rather than once per event.
   */
  private listen(cursor: string): void {
    if (this.phaseValue === 'stopped') return;
    const limits = this.options.burst ?? DEFAULT_BURST;
    const pending: SyncEvent[] = [];
    let scheduled = false;
    const writeBurst = () => {
      this.liveQueue = this.liveQueue
        .then(async () => {
          scheduled = false;
          // A lost stream's unwritten events are dropped: catch-up resumes from the stored cursor.
          if (this.subscription !== subscription) return;
          const events = pending.splice(0, limits.events);
          if (pending.length > 0) schedule();
          if (events.length > 0) await this.applyPage(events, events.at(-1)!.cursor);
        })
        .catch(() => this.lose(subscription));
    };
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      setTimeout(writeBurst, limits.waitMs);
    };
    const subscription = this.options.api.live(cursor, {
      onOpen: () => {
        if (this.subscription === subscription) this.setPhase('live');
      },
      onEvent: (event) => {
        if (this.subscription !== subscription) return;
        this.setPhase('live');
        pending.push(event);
        schedule();
      },
      onResync: (answer) => {
        if (this.subscription !== subscription) return;
        pending.length = 0;
        this.liveQueue = this.liveQueue.then(async () => {
          await this.resync(answer);
          this.lose(subscription);
        });
      },
      onLost: () => this.lose(subscription),
    });
    this.subscription = subscription;
  }

  /** The stream is not to be trusted any more: drop it, and catch up before listening again. */
  private lose(subscription: { unsubscribe(): void }): void {
    if (this.subscription !== subscription) return;
    subscription.unsubscribe();
    this.subscription = null;
    this.retryLater();
  }
}

function toRow(event: SyncEvent): EventRow {
  return {
    streamId: event.streamId,
    version: event.version,
    conversationId: conversationIdOf(event.streamId),
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
    cursor: event.cursor,
  };
}
