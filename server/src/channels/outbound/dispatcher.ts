import type { ConversationEvent, JsonObject, Platform } from '@parley/domain';
import type { Logger } from '../../logger';
import type { SqlQueryable } from '../../db/driver';
import { ChannelErrorCode } from '../errors';
import { WorkerLoop, type PassResult } from '../loop';
import type { ConversationPort } from '../ports';
import type { ChannelRepository } from '../repository';
import type { ChannelRecord } from '../types';
import { backoffMs } from './backoff';
import { CircuitBreakers, type BreakerOptions, type BreakerTransition } from './breaker';
import { channelKey, OutboxStore, type OutboxRow } from './outbox-store';
import { honoursIdempotencyKey, senderFor, type SendOutcome, type Senders } from './senders';

/** The dispatcher's limits; every one has a production default. */
export interface DispatcherOptions {
  /** Sends in flight at once (each to a different conversation). */
  readonly concurrency: number;
  /** How long a claimed row is ours before another process may take it over. */
  readonly leaseMs: number;
  /** Failed attempts (429s and open breakers excluded) before the reply is dead-lettered as failed. */
  readonly maxAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly breaker: BreakerOptions;
  /** Longest sleep when nothing is due. */
  readonly idleMs: number;
}

/** Defaults for production; tests shorten the times. */
export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  concurrency: 16,
  leaseMs: 60_000,
  maxAttempts: 8,
  backoff: { baseMs: 1_000, maxMs: 5 * 60_000 },
  breaker: { failureThreshold: 5, openMs: 10_000, maxOpenMs: 2 * 60_000 },
  idleMs: 1_000,
};

/** What the dispatcher works with. */
export interface DispatcherDeps {
  readonly sql: SqlQueryable;
  readonly grains: ConversationPort;
  readonly repo: ChannelRepository;
  readonly senders: Senders;
  /** The API base URL of a channel: its own, or a running simulator's; undefined when unavailable. */
  readonly baseUrlOf: (channel: ChannelRecord) => string | undefined;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** The lease owner its claims name (`LeaseOwner.id`). */
  readonly owner?: string;
}

/** Sends of replies whose earlier attempt was cut off mid-send by a crash (SD). */
export interface DispatcherStats {
  /** Resent with the same key to an API that honours it: delivered once. */
  inDoubtResent: number;
  /** Resent to an API that ignores the key: the customer may get the reply twice. */
  possibleDuplicates: number;
}

const ACTOR: JsonObject = { actor: { kind: 'system', id: 'dispatcher' } };
const HINTS: Readonly<Record<Platform, string>> = {
  whatsapp: 'send an approved template',
  instagram: 'tag the reply HUMAN_AGENT (within 7 days)',
  messenger: 'tag the reply HUMAN_AGENT (within 7 days)',
  telegram: 'retry',
  webchat: 'retry',
};

/**
 * Sends outbox rows to the platforms: per conversation in order, with backoff and jitter,
 * `Retry-After`, a breaker per channel and a dead letter after `maxAttempts`. Every step is a
 * conversation event (ReplySending, ReplySent, ReplyFailed) that the agent sees.
 */
export class Dispatcher {
  readonly breakers: CircuitBreakers;
  readonly stats: DispatcherStats = { inDoubtResent: 0, possibleDuplicates: 0 };
  private readonly outbox: OutboxStore;
  private readonly options: DispatcherOptions;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Conversations with a send in flight (`tenant/conversation`): their next row waits for it. */
  private readonly sending = new Map<string, number>();
  private readonly loop: WorkerLoop;

  constructor(
    private readonly deps: DispatcherDeps,
    options: Partial<DispatcherOptions> = {},
  ) {
    this.options = { ...DEFAULT_DISPATCHER_OPTIONS, ...options };
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.outbox = new OutboxStore(deps.sql, deps.owner ?? null);
    this.breakers = new CircuitBreakers(this.options.breaker, (t) => this.onBreaker(t));
    this.loop = new WorkerLoop(
      () => this.pass(),
      (error) => deps.logger.error({ err: error }, 'outbox dispatch pass failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Looks for work now: a reply was queued. A reply to a conversation with a send in flight cannot
   * go before that send ends, and its end wakes the loop anyway, so it does not cost a claim.
   */
  wake(queuedIn?: { readonly tenantId: string; readonly conversationId: string }): void {
    if (queuedIn && this.sending.has(conversationKey(queuedIn.tenantId, queuedIn.conversationId))) return;
    this.loop.wake();
  }

  /** Stops claiming and waits for the sends in flight. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all([...this.inFlight]);
  }

  /** One claim: as many due rows as there is room for, each sent in the background. */
  async pass(): Promise<PassResult> {
    const room = this.options.concurrency - this.inFlight.size;
    if (room <= 0) return { again: false, sleepMs: this.options.idleMs }; // a finished send wakes us
    const now = this.clock();
    const rows = await this.outbox.claim(room, now, this.options.leaseMs, this.breakers.blocked(now));
    for (const row of rows) {
      const conversation = conversationKey(row.tenantId, row.conversationId);
      this.sending.set(conversation, (this.sending.get(conversation) ?? 0) + 1);
      const sending: Promise<void> = this.deliver(row)
        .catch((error: unknown) => {
          // The row keeps its lease and is taken again when it runs out: nothing is lost.
          this.deps.logger.error(
            { err: error, outboxId: row.id },
            'reply dispatch failed; retried after the lease',
          );
        })
        .finally(() => {
          this.inFlight.delete(sending);
          const left = (this.sending.get(conversation) ?? 1) - 1;
          if (left > 0) this.sending.set(conversation, left);
          else this.sending.delete(conversation);
          this.loop.wake();
        });
      this.inFlight.add(sending);
    }
    if (rows.length === room) return { again: true };
    const due = await this.outbox.nextDueIn(now);
    const breaker = this.breakers.nextChangeIn(now);
    // A due row we could not claim waits on an earlier reply in flight, which wakes us when done.
    const candidates = [
      this.options.idleMs,
      breaker ?? Infinity,
      due !== undefined && due > 0 ? due : Infinity,
    ];
    return { again: false, sleepMs: Math.max(1, Math.min(...candidates)) };
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const now = this.clock();
    const channel = row.channelId ? await this.deps.repo.channel(row.tenantId, row.channelId) : undefined;
    if (!channel || !row.recipient) {
      await this.fail(
        row,
        ChannelErrorCode.NO_ROUTE,
        'failed',
        'the conversation has no channel to reply on',
      );
      return;
    }
    const key = channelKey(row.tenantId, channel.channelId);
    if (!this.breakers.tryAcquire(key, now)) {
      await this.outbox.release(row.id, now, null); // the breaker opened after the claim
      return;
    }
    const conversation = this.deps.grains.conversation(row.tenantId, row.conversationId);
    const metadata: JsonObject = { ...ACTOR, channelId: channel.channelId, attempt: row.attempts };
    const honoured = honoursIdempotencyKey(channel);
    if (row.inDoubt) {
      // SD: the last attempt's sender died mid-send. Platforms that honour the key deliver the
      // resend once; the others cannot be asked whether it went out, so the resend may duplicate.
      if (honoured) this.stats.inDoubtResent += 1;
      else this.stats.possibleDuplicates += 1;
      this.deps.logger.warn(
        { outboxId: row.id, channel: key, idempotencyKeyHonoured: honoured },
        honoured
          ? 'resending a reply cut off mid-send, with the same idempotency key'
          : 'resending a reply cut off mid-send: the customer may get it twice',
      );
    }
    // The decider alone decides whether the reply may still go (CV6): one queued offline whose
    // window closed meanwhile fails there, and its row ends failed in the same transaction.
    const marked = await conversation.ask(
      { type: 'MarkReplySending', data: { clientMessageId: row.clientMessageId, now } },
      {
        metadata,
        withinTransaction: async (tx, appended) => {
          const failed = appended.events.find((event) => event.type === 'ReplyFailed');
          if (failed) {
            const { reason } = failed.data as Extract<ConversationEvent, { type: 'ReplyFailed' }>['data'];
            await this.outbox.finish(row.id, 'failed', reason, tx);
          }
        },
      },
    );
    const reply = marked.state?.replies.get(row.clientMessageId);
    const status = reply?.status;
    switch (status) {
      case undefined:
        this.breakers.abandonTrial(key, now);
        await this.outbox.finish(row.id, 'dead', 'REPLY_NOT_FOUND: the conversation has no such reply');
        return;
      case 'failed':
        this.breakers.abandonTrial(key, now);
        // Failed just now: the row ended with the event. Failed before: it ends now.
        if (marked.events.length === 0) {
          await this.outbox.finish(row.id, 'failed', reply?.failureReason ?? 'failed');
        }
        return;
      case 'sent':
      case 'delivered':
      case 'read':
        // Recorded by an earlier attempt that stopped before it could update the row.
        this.breakers.abandonTrial(key, now);
        await this.outbox.sent(row.id, reply?.platformMessageId ?? '', now);
        return;
      case 'queued':
      case 'sending':
        break;
      default:
        status satisfies never;
    }
    const baseUrl = this.deps.baseUrlOf(channel);
    // SD: recorded before the request, so a crash from here on leaves the row marked in doubt.
    if (baseUrl) await this.outbox.attempting(row.id, this.clock());
    const outcome: SendOutcome = baseUrl
      ? await senderFor(this.deps.senders, channel.platform).send(
          {
            channel,
            recipient: row.recipient,
            content: row.reply.content,
            tag: row.reply.tag,
            idempotencyKey: `${row.tenantId}:${row.conversationId}:${row.clientMessageId}`,
          },
          baseUrl,
        )
      : { kind: 'transient', code: ChannelErrorCode.SIMULATOR_NOT_RUNNING, detail: channel.apiBaseUrl };
    await this.settle(row, key, outcome, row.inDoubt === true && !honoured);
  }

  private async settle(
    row: OutboxRow,
    key: string,
    outcome: SendOutcome,
    possibleDuplicate = false,
  ): Promise<void> {
    const now = this.clock();
    switch (outcome.kind) {
      case 'sent': {
        this.breakers.success(key, now);
        // The row's status commits with the `ReplySent` (one place for a reply's status); when the
        // reply had settled already (no event), the row is written on its own.
        const { events } = await this.deps.grains.conversation(row.tenantId, row.conversationId).ask(
          {
            type: 'MarkReplySent',
            data: {
              clientMessageId: row.clientMessageId,
              platformMessageId: outcome.platformMessageId,
              at: now,
            },
          },
          {
            // SD: the agent can see that the customer may have this reply twice.
            metadata: possibleDuplicate ? { ...ACTOR, possibleDuplicate: true } : ACTOR,
            withinTransaction: (tx) => this.outbox.sent(row.id, outcome.platformMessageId, now, tx),
          },
        );
        if (events.length === 0) await this.outbox.sent(row.id, outcome.platformMessageId, now);
        return;
      }
      case 'rate-limited': {
        const until =
          now + (outcome.retryAfterMs ?? backoffMs(row.attempts, this.options.backoff, this.random));
        this.breakers.pause(key, until);
        this.breakers.abandonTrial(key, now);
        this.deps.logger.warn(
          { channel: key, retryInMs: until - now },
          'platform rate limit: channel paused',
        );
        await this.outbox.release(row.id, until, `429: ${outcome.detail}`);
        return;
      }
      case 'transient':
        this.breakers.failure(key, now);
        if (row.attempts >= this.options.maxAttempts) {
          await this.fail(
            row,
            ChannelErrorCode.DELIVERY_FAILED,
            'dead',
            `${outcome.code}: ${outcome.detail}`,
          );
        } else {
          const delay = backoffMs(row.attempts, this.options.backoff, this.random);
          this.deps.logger.info(
            { outboxId: row.id, attempt: row.attempts, retryInMs: delay, code: outcome.code },
            'reply send failed; retrying',
          );
          await this.outbox.retryAt(row.id, now + delay, `${outcome.code}: ${outcome.detail}`);
        }
        return;
      case 'rejected':
        this.breakers.success(key, now); // the platform answered: it is up
        await this.fail(row, outcome.code, 'failed', outcome.detail);
        return;
      default:
        outcome satisfies never;
    }
  }

  /** Ends a reply failed: the domain compensates (CV12) and the agent sees the reason, with retry and edit. */
  private async fail(
    row: OutboxRow,
    reason: string,
    status: 'failed' | 'dead',
    detail: string,
  ): Promise<void> {
    const platform = row.channelId
      ? (await this.deps.repo.channel(row.tenantId, row.channelId))?.platform
      : undefined;
    const hint = reason === 'WINDOW_CLOSED' && platform ? HINTS[platform] : 'retry, or edit and send again';
    // The row ends with the `ReplyFailed`, in its transaction; alone when the reply had settled.
    const { events } = await this.deps.grains.conversation(row.tenantId, row.conversationId).ask(
      { type: 'MarkReplyFailed', data: { clientMessageId: row.clientMessageId, reason, at: this.clock() } },
      {
        metadata: { ...ACTOR, detail: detail.slice(0, 500), hint, actions: ['retry', 'edit'] },
        withinTransaction: (tx) => this.outbox.finish(row.id, status, `${reason}: ${detail}`, tx),
      },
    );
    if (events.length === 0) await this.outbox.finish(row.id, status, `${reason}: ${detail}`);
  }

  private onBreaker(transition: BreakerTransition): void {
    this.deps.logger.warn(
      { channel: transition.key, from: transition.from, to: transition.to },
      `circuit breaker ${transition.to === 'closed' ? 'closed' : transition.to === 'open' ? 'opened' : 'half-open'}`,
    );
  }
}

function conversationKey(tenantId: string, conversationId: string): string {
  return `${tenantId}/${conversationId}`;
}
