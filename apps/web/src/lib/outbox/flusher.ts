import type { MessageTag, ReplyContent } from '@parley/domain';
import type { EventRow, OutboxRow, ParleyDb, Refusal } from '../db/schema';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import type { Locks } from './locks';
import { COUNTER_KEY, readCounter, type OutboxCounter } from './queue';

/** One numbered reply as `conversations.reply` takes it. */
export interface ReplyRequest {
  readonly conversationId: string;
  readonly clientId: string;
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
}

/** The server's answers (docs/sync-protocol.md, "Replies"). */
export type ReplyAnswer =
  | {
      readonly kind: 'accepted';
      readonly sequence: number;
      readonly clientMessageId: string;
      readonly conversationId: string;
      readonly version: number;
      readonly cursor: string | null;
      readonly duplicate: boolean;
    }
  | ({
      readonly kind: 'refused';
      readonly sequence: number;
      readonly clientMessageId: string;
      readonly conversationId: string;
      readonly duplicate: boolean;
    } & Refusal)
  | { readonly kind: 'out-of-order'; readonly sequence: number; readonly expectedSequence: number };

/** Sends one reply; throws on anything but an answer. */
export type ReplyTransport = (request: ReplyRequest, signal: AbortSignal) => Promise<ReplyAnswer>;

/** What a failed request means for the outbox. */
export type Failure =
  /** The network, a 5xx, a timeout, a conflict: nothing is known to be lost; try again later. */
  | { readonly kind: 'retry'; readonly message: string }
  /** The session is gone: wait for the agent to sign in again. */
  | { readonly kind: 'unauthorized' }
  /** The server can never take this request (an unknown conversation, a malformed reply), and applied nothing. */
  | { readonly kind: 'rejected'; readonly refusal: Refusal }
  /** The server holds another message under this number: this device's numbering is lost. */
  | { readonly kind: 'sequence-reused' };

/** What the flusher is doing, for the offline banner and the message states. */
export interface FlusherState {
  readonly phase: 'idle' | 'flushing' | 'waiting' | 'unauthorized' | 'stopped';
  /** The reply a request is carrying now, in this tab. */
  readonly inFlight: string | null;
  /** When the next retry is due, while waiting. */
  readonly retryAt: number | null;
  readonly lastError: string | null;
}

export interface FlusherOptions {
  readonly db: ParleyDb;
  readonly send: ReplyTransport;
  readonly classify: (error: unknown) => Failure;
  readonly locks: Locks;
  /** The Web Lock's name: one flusher per account database across all tabs. */
  readonly lockName: string;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  /** A new client id when the server says the numbering is lost. */
  readonly newClientId: () => string;
}

/** Consecutive "out of order" answers tolerated before the flusher backs off instead of renumbering. */
const MAX_RENUMBERS = 3;

/**
 * Sends the outbox's replies one at a time, in sequence order, holding a Web Lock so that exactly
 * one tab sends. A row leaves the outbox only once the server has answered for it. Network errors
 * and 5xx back off with jitter and release the lock meanwhile, so any tab (or this one, on its
 * timer, on `online`, on becoming visible or on reconnect) can take over.
 */
export class OutboxFlusher {
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;
  private state: FlusherState = { phase: 'idle', inFlight: null, retryAt: null, lastError: null };
  private readonly listeners = new Set<() => void>();
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly options: FlusherOptions) {
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.policy = options.backoff ?? DEFAULT_BACKOFF;
  }

  get current(): FlusherState {
    return this.state;
  }

  /** Calls `listener` whenever the state changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends whatever waits. `resetBackoff` (on `online`, visibility and reconnect) retries at once
   * instead of waiting for the timer. Calls made while a flush runs make it look once more.
   */
  flush(options: { resetBackoff?: boolean } = {}): Promise<void> {
    if (this.state.phase === 'stopped') return Promise.resolve();
    if (options.resetBackoff) this.failures = 0;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.options.locks.request(this.options.lockName, {}, () => this.drain());
        } while (this.again && this.timer === undefined && this.state.phase !== 'stopped');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Resolves once no flush is running in this tab (the update prompt waits for this). */
  async settled(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Stops for good (sign-out, tab closing): aborts the request in flight, which is retried later. */
  stop(): void {
    clearTimeout(this.timer);
    this.abort.abort();
    this.set({ phase: 'stopped', inFlight: null, retryAt: null });
  }

  private stopped(): boolean {
    return this.state.phase === 'stopped';
  }

  private set(change: Partial<FlusherState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener();
  }

  private async drain(): Promise<void> {
    const { db } = this.options;
    let renumbers = 0;
    for (;;) {
      if (this.state.phase === 'stopped') return;
      const row = await db.outbox.orderBy('sequence').first();
      if (!row || row.sequence === undefined) {
        this.set({ phase: 'idle', inFlight: null, retryAt: null, lastError: null });
        return;
      }
      const counter = await db.transaction('rw', db.outbox, db.meta, async () => {
        // Counted before the request leaves, so "discard" knows the server may have seen it.
        const current = await db.outbox.get(row.clientMessageId);
        if (!current || current.sequence !== row.sequence) return undefined;
        await db.outbox.update(row.clientMessageId, { attempts: current.attempts + 1 });
        return readCounter(db);
      });
      if (!counter) continue;
      this.set({ phase: 'flushing', inFlight: row.clientMessageId, retryAt: null });
      let answer: ReplyAnswer;
      try {
        answer = await this.options.send(
          {
            conversationId: row.conversationId,
            clientId: counter.clientId,
            sequence: row.sequence,
            clientMessageId: row.clientMessageId,
            content: row.content,
            tag: row.tag,
          },
          this.abort.signal,
        );
      } catch (error) {
        if (this.stopped()) return;
        const failure = this.options.classify(error);
        switch (failure.kind) {
          case 'retry':
            await db.outbox.update(row.clientMessageId, { lastError: failure.message });
            this.scheduleRetry(failure.message);
            return;
          case 'unauthorized':
            this.set({ phase: 'unauthorized', inFlight: null, retryAt: null, lastError: 'signed out' });
            return;
          case 'rejected':
            await this.refuse(row, failure.refusal);
            continue;
          case 'sequence-reused':
            await this.restartNumbering();
            continue;
          default:
            return failure satisfies never;
        }
      }
      // A stopped flusher writes nothing more: the row is resent, and answered as a duplicate.
      if (this.stopped()) return;
      this.failures = 0;
      switch (answer.kind) {
        case 'accepted':
          renumbers = 0;
          await this.acknowledge(row, answer);
          break;
        case 'refused':
          renumbers = 0;
          await this.refuse(row, answer);
          break;
        case 'out-of-order':
          if (++renumbers > MAX_RENUMBERS) {
            this.scheduleRetry(`the server expects reply ${answer.expectedSequence}`);
            return;
          }
          await this.renumberFrom(answer.expectedSequence);
          break;
        default:
          return answer satisfies never;
      }
    }
  }

  private scheduleRetry(message: string): void {
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.random, this.policy);
    const retryAt = this.clock() + delay;
    this.set({ phase: 'waiting', inFlight: null, retryAt, lastError: message });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** The server has the reply: it leaves the outbox, and its event shows until sync brings the real one. */
  private async acknowledge(row: OutboxRow, answer: Extract<ReplyAnswer, { kind: 'accepted' }>) {
    const { db } = this.options;
    const streamId = `conversation-${row.conversationId}`;
    await db.transaction('rw', db.outbox, db.events, async () => {
      await db.outbox.delete(row.clientMessageId);
      if (answer.cursor === null) return; // queued before (a resend): its event is already on its way
      const existing = await db.events.get([streamId, answer.version]);
      if (existing) return;
      const event: EventRow = {
        streamId,
        version: answer.version,
        conversationId: row.conversationId,
        id: `provisional-${row.clientMessageId}`,
        type: 'ReplyQueued',
        data: {
          clientMessageId: row.clientMessageId,
          agentId: row.agentId,
          content: row.content,
          tag: row.tag,
          queuedAt: row.createdAt,
        },
        metadata: {},
        recordedAt: this.clock(),
        cursor: answer.cursor,
        provisional: true,
      };
      await db.events.put(event);
    });
    this.set({ inFlight: null });
  }

  /** A refusal for good: the reply keeps its reason and leaves the sending order. */
  private async refuse(row: OutboxRow, refusal: Refusal): Promise<void> {
    const { db } = this.options;
    const { code, rule, message, hint } = refusal;
    await db.transaction('rw', db.outbox, async () => {
      const current = await db.outbox.get(row.clientMessageId);
      if (!current) return;
      const { sequence, ...rest } = current;
      await db.outbox.put({
        ...rest,
        ...(sequence === undefined ? {} : { refusedSequence: sequence }),
        refusal: { code, rule, message, hint },
      });
    });
    this.set({ inFlight: null });
  }

  /** Numbers the waiting replies `first`, `first + 1`, ... in their order (the server said where it stands). */
  private async renumberFrom(first: number): Promise<void> {
    const { db } = this.options;
    await db.transaction('rw', db.outbox, db.meta, async () => {
      const counter = await readCounter(db);
      const rows = await db.outbox.orderBy('sequence').toArray();
      await db.outbox.bulkPut(rows.map((row, index) => ({ ...row, sequence: first + index })));
      const next: OutboxCounter = { ...counter, nextSequence: first + rows.length };
      await db.meta.put({ key: COUNTER_KEY, value: next });
    });
  }

  private async restartNumbering(): Promise<void> {
    const { db } = this.options;
    await db.transaction('rw', db.outbox, db.meta, async () => {
      const counter = await readCounter(db);
      await db.meta.put({ key: COUNTER_KEY, value: { ...counter, clientId: this.options.newClientId() } });
    });
    await this.renumberFrom(1);
  }
}
