import { StreamCategory, streamFor } from '@parley/domain';
import type { ClientCommand } from '@parley/domain';
import type { CommandAnswer, CommandBatchAnswer, CommandBatchRequest, CommandRequest } from '../api/wire';
import type { EventRow, OutboxRow, ParleyDb, Refusal } from '../db/schema';
import { refoldDeviceEvents } from '../sync/summary';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import type { Locks } from './locks';
import { COUNTER_KEY, readCounter, type OutboxCounter } from './queue';

export type { CommandAnswer, CommandBatchAnswer, CommandBatchRequest, CommandRequest } from '../api/wire';

/**
 * Sends one batch of numbered commands (`conversations.commandBatch`); throws on anything but an
 * answer (an error then concerns the batch's first command).
 */
export type CommandTransport = (
  batch: CommandBatchRequest,
  signal: AbortSignal,
) => Promise<CommandBatchAnswer>;

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
  /** The replies the request in flight carries, in this tab. */
  readonly inFlight: readonly string[];
  /** When the next retry is due, while waiting. */
  readonly retryAt: number | null;
  readonly lastError: string | null;
}

/** How much one request carries (docs/decisions/0012-batched-reply-flush.md). */
export interface BatchLimits {
  /** Replies per request; the server takes at most 100 (`MAX_REPLY_BATCH`). */
  readonly replies: number;
  /** Characters of content per request (one reply over it still goes, alone). */
  readonly contentChars: number;
}

export const DEFAULT_BATCH: BatchLimits = { replies: 100, contentChars: 256_000 };

export interface FlusherOptions {
  readonly db: ParleyDb;
  readonly send: CommandTransport;
  readonly classify: (error: unknown) => Failure;
  readonly locks: Locks;
  /** The Web Lock's name: one flusher per account database across all tabs. */
  readonly lockName: string;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  readonly batch?: BatchLimits;
  /** A new client id when the server says the numbering is lost. */
  readonly newClientId: () => string;
  /** Runs before a batch is sent (uploads its replies' files); throwing fails the batch like a failed send. */
  readonly beforeSend?: (rows: readonly OutboxRow[], signal: AbortSignal) => Promise<void>;
  /**
   * True while sync catches up after a (re)connection: nothing is sent meanwhile, so an erasure
   * notice the catch-up brings drops the erased contact's commands before they leave (decision
   * 0029). The end of catch-up flushes (`onCaughtUp`); a look a moment later covers one that fails.
   */
  readonly holdWhile?: () => boolean;
}

/** How soon a flush held by `holdWhile` looks again. */
const HOLD_RECHECK_MS = 1_000;

/** Consecutive "out of order" answers tolerated before the flusher backs off instead of renumbering. */
const MAX_RENUMBERS = 3;

const NOTHING_IN_FLIGHT: readonly string[] = [];

/**
 * Sends the outbox's replies in sequence order, a batch per request and one request at a time,
 * holding a Web Lock so that exactly one tab sends. A row leaves the outbox only once the server
 * has answered for it. Network errors and 5xx back off with jitter and release the lock meanwhile,
 * so any tab (or this one, on its timer, on `online`, on becoming visible or on reconnect) can
 * take over; a resend carries the same numbers and message ids, answered as duplicates.
 */
export class OutboxFlusher {
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;
  private readonly limits: BatchLimits;
  private state: FlusherState = {
    phase: 'idle',
    inFlight: NOTHING_IN_FLIGHT,
    retryAt: null,
    lastError: null,
  };
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
    this.limits = options.batch ?? DEFAULT_BATCH;
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
    if (this.options.holdWhile?.()) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, HOLD_RECHECK_MS);
      return this.running ?? Promise.resolve();
    }
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
    this.set({ phase: 'stopped', inFlight: NOTHING_IN_FLIGHT, retryAt: null });
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
    let batch: Batch | null = await db.transaction('rw', db.outbox, db.meta, () => this.claimNext());
    for (;;) {
      if (this.stopped()) return;
      if (!batch) {
        this.set({ phase: 'idle', inFlight: NOTHING_IN_FLIGHT, retryAt: null, lastError: null });
        return;
      }
      const { rows, clientId } = batch;
      this.set({ phase: 'flushing', inFlight: rows.map((row) => row.clientMessageId), retryAt: null });
      let answers: readonly CommandAnswer[];
      try {
        await this.options.beforeSend?.(rows, this.abort.signal);
        ({ answers } = await this.options.send(
          {
            clientId,
            commands: rows.map((row) => ({
              sequence: row.sequence!,
              conversationId: row.conversationId,
              command: wireCommand(row.command),
            })),
          },
          this.abort.signal,
        ));
      } catch (error) {
        if (this.stopped()) return;
        // An error answers the batch's first reply; nothing after it was applied by this request.
        const first = rows[0]!;
        const failure = this.options.classify(error);
        switch (failure.kind) {
          case 'retry':
            await db.outbox.update(first.clientMessageId, { lastError: failure.message });
            this.scheduleRetry(failure.message);
            return;
          case 'unauthorized':
            this.set({
              phase: 'unauthorized',
              inFlight: NOTHING_IN_FLIGHT,
              retryAt: null,
              lastError: 'signed out',
            });
            return;
          case 'rejected':
            batch = await this.record([
              { row: first, answer: { status: 'rejected', refusal: failure.refusal } },
            ]);
            continue;
          case 'sequence-reused':
            await this.restartNumbering();
            batch = await db.transaction('rw', db.outbox, db.meta, () => this.claimNext());
            continue;
          default:
            return failure satisfies never;
        }
      }
      // A stopped flusher writes nothing more: the rows are resent, and answered as duplicates.
      if (this.stopped()) return;
      this.failures = 0;
      const results = pairAnswers(rows, answers);
      if (results.length === 0) {
        // A correct server answers at least the first reply or throws: try again later.
        this.scheduleRetry('the server answered none of the batch');
        return;
      }
      const last = results.at(-1)?.answer;
      if (results.some((result) => result.answer.status !== 'out-of-order')) renumbers = 0;
      if (last?.status !== 'out-of-order') {
        batch = await this.record(results);
        continue;
      }
      await this.record(results, { claimNext: false });
      if (++renumbers > MAX_RENUMBERS) {
        this.scheduleRetry(`the server expects command ${last.expected}`);
        return;
      }
      await this.renumberFrom(last.expected);
      batch = await db.transaction('rw', db.outbox, db.meta, () => this.claimNext());
    }
  }

  /**
   * Inside a transaction on `outbox` and `meta`: the next batch in sequence order, counted as
   * carried (`attempts`) before the request leaves so "discard" knows the server may have seen it.
   * Null when nothing waits.
   */
  private async claimNext(): Promise<Batch | null> {
    const { db } = this.options;
    const waiting = await db.outbox.orderBy('sequence').limit(this.limits.replies).toArray();
    if (waiting.length === 0) return null;
    const { clientId } = await readCounter(db);
    const rows: OutboxRow[] = [];
    let chars = 0;
    for (const row of waiting) {
      chars += contentSize(row);
      if (rows.length > 0 && chars > this.limits.contentChars) break;
      // What the server will name in its events' metadata: the rebase then knows the command is in.
      rows.push({ ...row, attempts: row.attempts + 1, sent: { clientId, sequence: row.sequence! } });
    }
    await db.outbox.bulkPut(rows);
    return { rows, clientId };
  }

  private scheduleRetry(message: string): void {
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.random, this.policy);
    const retryAt = this.clock() + delay;
    this.set({ phase: 'waiting', inFlight: NOTHING_IN_FLIGHT, retryAt, lastError: message });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /**
   * Writes a batch's answers and claims the next batch in one transaction, so the screens' queries
   * run once per batch and the next request leaves after one write: an accepted reply leaves the
   * outbox and shows as a provisional event until sync brings the real one; a refused one keeps its
   * reason and leaves the sending order. Returns the next batch (null when none waits or when
   * `claimNext` is false).
   */
  private async record(
    results: readonly BatchResult[],
    options: { claimNext?: boolean } = {},
  ): Promise<Batch | null> {
    const { db } = this.options;
    const next = await db.transaction('rw', [db.outbox, db.events, db.meta, db.conversations], async () => {
      const accepted: Acknowledged[] = [];
      for (const { row, answer } of results) {
        switch (answer.status) {
          case 'accepted':
            accepted.push({ row, answer });
            break;
          case 'refused':
            await this.refuse(row, {
              code: answer.code,
              rule: answer.rule,
              message: answer.message,
              hint: answer.nextStep,
            });
            break;
          case 'rejected':
            await this.refuse(row, answer.refusal);
            break;
          case 'out-of-order':
            break;
          default:
            return answer satisfies never;
        }
      }
      await this.acknowledge(accepted);
      return options.claimNext === false ? null : this.claimNext();
    });
    this.set({ inFlight: NOTHING_IN_FLIGHT });
    return next;
  }

  /**
   * The server has these commands (inside `record`'s transaction): they leave the outbox and their
   * events show as provisional until sync brings the real ones. A provisional event is what the
   * domain's `decide` made of the command on this device (`OutboxRow.decided`), at the version the
   * server gave the event it recorded; this device never builds an event itself (decision 0019).
   * When the server decided otherwise (other event types, or none: a no-op on its state), nothing
   * provisional is written and sync alone brings the truth. Bulk requests for the whole batch.
   */
  private async acknowledge(accepted: readonly Acknowledged[]): Promise<void> {
    if (accepted.length === 0) return;
    const { db } = this.options;
    // A row that left the outbox while its request was out was dropped by an erasure notice
    // (decision 0029): its conversation is gone from this device, so it shows nothing.
    const still = await db.outbox.bulkGet(accepted.map(({ row }) => row.clientMessageId));
    const kept = accepted.filter((_, index) => still[index] !== undefined);
    await db.outbox.bulkDelete(kept.map(({ row }) => row.clientMessageId));
    const candidates = kept.flatMap(({ row, answer }): EventRow[] => {
      const decided = row.decided ?? [];
      const recorded = answer.events;
      if (recorded.length !== decided.length) return [];
      if (recorded.some((at, index) => at.type !== decided[index]!.type)) return [];
      const streamId = streamFor(StreamCategory.conversation, row.conversationId);
      return decided.flatMap((event, index): EventRow[] => {
        const at = recorded[index]!;
        return [
          {
            streamId,
            version: at.version,
            conversationId: row.conversationId,
            id: `provisional-${row.clientMessageId}-${index}`,
            ...event,
            metadata: {},
            recordedAt: this.clock(),
            cursor: at.cursor,
            provisional: true,
          },
        ];
      });
    });
    if (candidates.length === 0) return;
    // An event sync already brought is the truth: never overwrite it with a provisional one.
    const existing = await db.events.bulkGet(
      candidates.map((row): [string, number] => [row.streamId, row.version]),
    );
    const provisional = candidates.filter((_, i) => existing[i] === undefined);
    if (provisional.length === 0) return;
    await db.events.bulkPut(provisional);
    // The list rows show them too: without this, the waiting command that moved a conversation
    // between the list's filters is gone and sync has not brought its events, so it flicks back.
    const ids = [...new Set(provisional.map((row) => row.conversationId))];
    const rows = (await db.conversations.bulkGet(ids)).filter((row) => row !== undefined);
    await refoldDeviceEvents(db, rows);
  }

  /** A refusal for good (inside `record`'s transaction). */
  private async refuse(row: OutboxRow, refusal: Refusal): Promise<void> {
    const { db } = this.options;
    const { code, rule, message, hint } = refusal;
    const current = await db.outbox.get(row.clientMessageId);
    if (!current) return;
    const { sequence, ...rest } = current;
    await db.outbox.put({
      ...rest,
      ...(sequence === undefined ? {} : { refusedSequence: sequence }),
      refusal: { code, rule, message, hint, ...(current.queuedOffline && { queuedOffline: true }) },
    });
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

/** The rows one request carries, and the client id they are numbered under. */
interface Batch {
  readonly rows: readonly OutboxRow[];
  readonly clientId: string;
}

/** A row and what the server (or, for a request it can never take, this device) said about it. */
type Acknowledged = {
  readonly row: OutboxRow;
  readonly answer: Extract<CommandAnswer, { status: 'accepted' }>;
};

type BatchResult = {
  readonly row: OutboxRow;
  readonly answer: CommandAnswer | { readonly status: 'rejected'; readonly refusal: Refusal };
};

/**
 * Matches answers to the rows sent, in order. An answer that names another reply than the row at
 * its place (which a correct server never sends) ends the match: those rows stay and are resent.
 */
function pairAnswers(rows: readonly OutboxRow[], answers: readonly CommandAnswer[]): BatchResult[] {
  const results: BatchResult[] = [];
  for (const [index, answer] of answers.entries()) {
    const row = rows[index];
    if (!row || answer.sequence !== row.sequence) break;
    if (answer.status === 'accepted' && answer.conversationId !== row.conversationId) break;
    results.push({ row, answer });
    if (answer.status === 'out-of-order') break;
  }
  return results;
}

/** A rough size of a command (a reply's content), to keep one request's body bounded. */
function contentSize(row: OutboxRow): number {
  return JSON.stringify(row.command.type === 'QueueReply' ? row.command.content : row.command).length;
}

/** The domain's command as the request carries it (the wire's arrays are not `readonly`). */
function wireCommand(command: ClientCommand): CommandRequest['command'] {
  return command.type === 'AddNote' ? { ...command, mentions: [...command.mentions] } : command;
}
