import { ConversationErrorCode, isDomainError, type JsonObject } from '@parley/domain';
import { filesNamedIn, recordFileOwners } from '../../attachments/owners';
import type { SqlQueryable } from '../../db/driver';
import type { Logger } from '../../logger';
import { context, inSpan, type Context } from '../../ops/tracing';
import { InvalidAppendError } from '../../store/errors';
import { conversationIdFor } from '../conversation-id';
import { ChannelError, ChannelErrorCode } from '../errors';
import { WorkerLoop, type PassResult } from '../loop';
import { backoffMs } from '../outbound/backoff';
import { OutboxStore } from '../outbound/outbox-store';
import { parseDelivery, type InboundItem, type InboundMessageItem, type ReceiptItem } from '../parse';
import type { ConversationPort } from '../ports';
import type { ChannelRepository } from '../repository';
import { routeReplies } from '../routes';
import type { ChannelRecord } from '../types';
import { InboxStore, type InboxRow } from './inbox-store';
import type { InboundMediaFetcher } from './media-fetch';

/**
 * How long finished rows may wait to be marked processed. Their events are already committed and
 * broadcast, so this delays nobody; a longer wait gathers more rows into the one UPDATE, and on
 * PGlite every statement runs on the event loop's thread, ahead of the next webhook's insert.
 * A crash before the flush only means an idempotent re-run after the lease (IN4).
 */
const FLUSH_MS = 250;

/** How often the rows that hold conversations' earlier messages are read again from the table. */
const WAITING_REFRESH_MS = 1_000;

/** The processor's limits. */
export interface ProcessorOptions {
  /** Deliveries claimed per pass. */
  readonly batchSize: number;
  /** Deliveries being processed at once. */
  readonly maxInFlight: number;
  readonly leaseMs: number;
  /** Attempts before a delivery that keeps failing becomes a dead letter. */
  readonly maxAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Longest sleep when nothing is due. */
  readonly idleMs: number;
}

export const DEFAULT_PROCESSOR_OPTIONS: ProcessorOptions = {
  batchSize: 64,
  maxInFlight: 512,
  leaseMs: 60_000,
  maxAttempts: 8,
  backoff: { baseMs: 1_000, maxMs: 5 * 60_000 },
  idleMs: 1_000,
};

/** What the processor works with. */
export interface ProcessorDeps {
  readonly sql: SqlQueryable;
  readonly grains: ConversationPort;
  readonly repo: ChannelRepository;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** The lease owner its claims name (`LeaseOwner.id`). */
  readonly owner?: string;
  /** Downloads a customer's file the platform only referenced (inbound/media-fetch.ts). */
  readonly fetchMedia?: InboundMediaFetcher;
}

/** One item of one delivery, routed to its conversation. */
interface Routed {
  readonly row: InboxRow;
  readonly item: InboundItem;
  readonly channel: ChannelRecord;
  readonly conversationId: string;
}

/**
 * Turns inbox rows into conversation commands. Items of one conversation run in delivery order,
 * conversations in parallel; every command is idempotent by the platform's ids, so a delivery
 * retried after a partial failure repeats nothing.
 */
export class InboundProcessor {
  private readonly inbox: InboxStore;
  private readonly outbox: OutboxStore;
  private readonly options: ProcessorOptions;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly loop: WorkerLoop;
  /** Conversations whose route row this process has written: writing it again is wasted work. */
  private readonly routed = new Set<string>();
  /** Each conversation's last queued item, resolving to whether it succeeded. */
  private readonly chains = new Map<string, Promise<boolean>>();
  private readonly rowsInFlight = new Set<Promise<void>>();
  private readonly completed: string[] = [];
  /** Receipt ids ignored per tenant since start (IN14). */
  private readonly unknownReceipts = new Map<string, number>();
  private readonly failed: { row: InboxRow; error: unknown }[] = [];
  private inFlight = 0;
  /** Deliveries recorded by this process, waiting for room. */
  private readonly handed: InboxRow[] = [];
  /** The trace context each handed delivery was recorded in (decision 0039). */
  private readonly traces = new WeakMap<InboxRow, Context>();
  /** -Infinity: the first pass claims whatever the clock says, so `recovering` always ends. */
  private lastClaimAt = -Infinity;
  private lastFlushAt = 0;
  /**
   * True until the table's due rows (a dead predecessor's, retries) have been claimed once: new
   * deliveries wait behind them, so a contact's earlier message goes first (SC).
   */
  private recovering = true;
  /** The conversations each running row's items were routed to. */
  private readonly conversationsOf = new Map<string, readonly string[]>();
  /**
   * Rows waiting for a retry (or leased elsewhere) by conversation: later rows of these
   * conversations wait too (SC). Read from the table with every claim, so rows another process
   * finished stop blocking and a restarted process knows its predecessor's.
   */
  private readonly waiting = new Map<string, Set<string>>();
  private readonly waitingRows = new Map<string, readonly string[]>();
  /** Rows begun here and not finished. */
  private readonly running = new Set<string>();
  private lastWaitingAt = -Infinity;
  /** Rows enter their conversations' chains in the order they began. */
  private routing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: ProcessorDeps,
    options: Partial<ProcessorOptions> = {},
  ) {
    this.options = { ...DEFAULT_PROCESSOR_OPTIONS, ...options };
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.inbox = new InboxStore(deps.sql, this.clock, this.options.leaseMs, deps.owner ?? null);
    this.outbox = new OutboxStore(deps.sql);
    this.loop = new WorkerLoop(
      () => this.pass(),
      (error) => deps.logger.error({ err: error }, 'webhook processing pass failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Looks for work now: a delivery was recorded. */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.drain();
  }

  /** Takes a delivery the webhook endpoint just recorded (already claimed by this process). */
  accept(row: InboxRow): void {
    this.handed.push(row);
    this.traces.set(row, context.active()); // the webhook's span, continued when the row runs
    this.loop.wake();
  }

  /**
   * Finishes what completed since the last pass, starts deliveries handed over by the endpoints,
   * and every `idleMs` claims what is due from the table (retries, replays, rows whose claimer
   * died). Started items join their conversation's chain at once, so one conversation's items run
   * in delivery order while others run alongside, and the event store's group commit gathers many
   * conversations' appends into one transaction.
   */
  async pass(): Promise<PassResult> {
    const now = this.clock();
    const room = this.options.maxInFlight - this.inFlight;
    let claimed = 0;
    // Rows from the table (retries, a dead predecessor's) before this pass's new deliveries: they
    // are older, and a contact's earlier message goes before its later one (SC).
    if (room > 0 && now - this.lastClaimAt >= this.options.idleMs) {
      if (now - this.lastWaitingAt >= WAITING_REFRESH_MS) {
        this.lastWaitingAt = now;
        const waiting = await this.inbox.waiting();
        this.waiting.clear();
        this.waitingRows.clear();
        for (const { id, conversationIds } of waiting)
          if (!this.running.has(id)) this.wait(id, conversationIds);
      }
      const limit = Math.min(room, this.options.batchSize);
      const rows = await this.inbox.claim(limit, now, this.options.leaseMs);
      for (const row of rows) this.begin(row);
      claimed = rows.length;
      // A full batch means more is waiting: claim again on the next pass.
      this.lastClaimAt = claimed === limit ? 0 : now;
      if (claimed < limit) this.recovering = false;
    }
    // New deliveries next: recording what finished can wait a statement, a customer should not.
    while (!this.recovering && this.handed.length > 0 && this.inFlight < this.options.maxInFlight)
      this.begin(this.handed.shift()!);
    // Finished rows are recorded together every FLUSH_MS: one statement for many under load.
    if (this.clock() - this.lastFlushAt >= FLUSH_MS || this.completed.length >= 512) await this.flush();
    if ((claimed > 0 && this.lastClaimAt === 0) || (this.recovering && this.handed.length > 0))
      return { again: true };
    const pending = this.completed.length > 0 || this.failed.length > 0;
    const untilClaim = Math.max(1, this.lastClaimAt + this.options.idleMs - this.clock());
    const untilFlush = Math.max(1, this.lastFlushAt + FLUSH_MS - this.clock());
    return { again: false, sleepMs: pending ? Math.min(untilFlush, untilClaim) : untilClaim };
  }

  /** Resolves once every claimed row has finished and been recorded (tests, shutdown). */
  async drain(): Promise<void> {
    while (
      this.inFlight > 0 ||
      this.handed.length > 0 ||
      this.completed.length > 0 ||
      this.failed.length > 0
    ) {
      while (this.handed.length > 0) this.begin(this.handed.shift()!);
      await Promise.all([...this.rowsInFlight]);
      await this.flush();
    }
  }

  private begin(row: InboxRow): void {
    this.inFlight += 1;
    this.running.add(row.id);
    this.unwait(row.id);
    const attributes = { 'parley.inbox.row': row.id, 'parley.channel.kind': row.kind };
    const done: Promise<void> = inSpan('inbox.process', attributes, () => this.process(row), {
      parent: this.traces.get(row),
    })
      .then(
        () => {
          this.conversationsOf.delete(row.id);
          this.completed.push(row.id);
        },
        (error: unknown) => {
          this.failed.push({ row, error });
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        this.running.delete(row.id);
        this.rowsInFlight.delete(done);
        this.loop.wake();
      });
    this.rowsInFlight.add(done);
  }

  /**
   * Routes a row's items and runs each after the earlier items of its conversation: those in
   * flight here (the chain) and those waiting for a retry (`waiting`).
   */
  private async process(row: InboxRow): Promise<void> {
    // Routed one row after another, so rows join their conversations' chains in the order begun.
    const routing = this.routing.then(() => this.route(row));
    this.routing = routing.catch(() => undefined);
    const items = await routing;
    this.conversationsOf.set(row.id, [...new Set(items.map((i) => i.conversationId))]);
    const results = items.map((routed) => {
      const previous = this.chains.get(routed.conversationId) ?? Promise.resolve(true);
      const next = previous.then(async (earlierOk) => {
        // A failed earlier item makes later ones wait for its retry, so messages keep their order.
        if (!earlierOk || this.waitsForEarlier(routed.conversationId, row.id))
          throw new ChannelError(
            ChannelErrorCode.TRANSIENT,
            'an earlier delivery of the conversation failed',
          );
        await this.apply(routed);
      });
      const settled = next.then(
        () => true,
        () => false,
      );
      this.chains.set(routed.conversationId, settled);
      void settled.then(() => {
        if (this.chains.get(routed.conversationId) === settled) this.chains.delete(routed.conversationId);
      });
      return next;
    });
    const outcomes = await Promise.allSettled(results);
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Records finished rows: processed in one statement, failures one by one (rare). */
  private async flush(): Promise<void> {
    this.lastFlushAt = this.clock();
    const completed = this.completed.splice(0);
    const failed = this.failed.splice(0);
    const now = this.clock();
    await this.inbox.processed(completed, now);
    for (const { row, error } of failed) await this.failedRow(row, error, now);
  }

  private async route(row: InboxRow): Promise<Routed[]> {
    const parsed = parseDelivery(row.kind, JSON.parse(row.body), {
      subject: row.subject,
      receivedAt: row.receivedAt,
    });
    const routed: Routed[] = [];
    for (const item of parsed.items) {
      const channel =
        item.channelExternalId === null
          ? await this.deps.repo.soleChannel(row.appId, item.platform)
          : await this.deps.repo.channelByExternalId(row.appId, item.platform, item.channelExternalId);
      if (!channel) {
        // IN10: an app may only speak for its own channels.
        throw new ChannelError(
          ChannelErrorCode.CHANNEL_NOT_FOUND,
          `app ${row.appId} has no ${item.platform} channel ${item.channelExternalId ?? '(its own)'}`,
          true,
        );
      }
      const contactId = item.kind === 'message' ? item.contact.id : item.contactId;
      const conversationId = conversationIdFor(
        channel.tenantId,
        channel.platform,
        channel.channelId,
        contactId,
      );
      routed.push({ row, item, channel, conversationId });
    }
    return routed;
  }

  private async apply(routed: Routed): Promise<void> {
    switch (routed.item.kind) {
      case 'message':
        return this.receive(routed, routed.item);
      case 'receipt':
        return this.receipt(routed, routed.item);
      default:
        routed.item satisfies never;
    }
  }

  private async receive(routed: Routed, item: InboundMessageItem): Promise<void> {
    const { channel, conversationId, row } = routed;
    const key = `${channel.tenantId}/${conversationId}`;
    const metadata: JsonObject = {
      actor: { kind: 'customer', id: item.contact.id },
      channelId: channel.channelId,
      webhookId: row.id,
      sourceType: item.sourceType,
      ...(item.unsupported ? { unsupported: true } : {}),
      // TX1: a NUL or lone surrogate was replaced by U+FFFD; the event keeps that fact.
      ...(item.sanitized ? { sanitized: true } : {}),
    };
    const content = this.deps.fetchMedia ? await this.deps.fetchMedia(channel, item.content) : item.content;
    // The reply route commits with the conversation's first events, so a reply never lacks one;
    // a downloaded file's owner row with the message that names it (decision 0022).
    const route = !this.routed.has(key);
    const names = filesNamedIn(content).length > 0;
    await this.deps.grains.conversation(channel.tenantId, conversationId).ask(
      {
        type: 'ReceiveInboundMessage',
        data: {
          conversationId,
          inboxId: channel.inboxId,
          platform: channel.platform,
          externalMessageId: item.externalMessageId,
          contact: item.contact,
          content,
          sentAt: item.sentAt,
        },
      },
      {
        idempotencyKey: `in:${item.externalMessageId}`,
        metadata,
        withinTransaction:
          route || names
            ? async (tx, appended) => {
                if (route)
                  await routeReplies(
                    tx,
                    channel.tenantId,
                    conversationId,
                    channel.channelId,
                    item.contact.id,
                  );
                // A file an erasure deleted meanwhile fails the message (transient): the retry stores it again.
                if (names)
                  await recordFileOwners(
                    tx,
                    appended,
                    () =>
                      new Error(
                        "a customer's file was deleted by an erasure before its message was recorded",
                      ),
                  );
              }
            : undefined,
      },
    );
    this.routed.add(key);
  }

  private async receipt(routed: Routed, item: ReceiptItem): Promise<void> {
    const { channel, conversationId } = routed;
    const tenantId = channel.tenantId;
    const ids =
      item.platformMessageIds.length > 0 || item.watermark === null
        ? item.platformMessageIds
        : await this.outbox.sentUpTo(tenantId, conversationId, item.watermark);
    if (item.status === 'sent') return; // the send's own answer already recorded it, with the same id
    // IN13: a receipt speaks only for our replies to its own contact on its own channel. Usually
    // they are in the recipient's conversation (in memory once active); the outbox is asked only
    // for the rest, and only among the rows sent to this contact on this channel.
    const known = (await this.deps.grains.conversation(tenantId, conversationId).read()).state
      ?.platformMessageIds;
    const owners = await this.outbox.conversationsOf(
      tenantId,
      ids.filter((id) => !known?.has(id)),
      channel.channelId,
      item.contactId,
    );
    const metadata: JsonObject = {
      actor: { kind: 'system', id: `${channel.platform}-webhook` },
      webhookId: routed.row.id,
    };
    const unmatched: string[] = [];
    for (const platformMessageId of ids) {
      const owner = known?.has(platformMessageId) ? conversationId : owners.get(platformMessageId);
      if (owner === undefined) {
        unmatched.push(platformMessageId);
        continue;
      }
      const grain = this.deps.grains.conversation(tenantId, owner);
      switch (item.status) {
        case 'delivered':
        case 'read':
          await asReceipt(() =>
            grain.ask(
              {
                type: 'RecordDeliveryStatus',
                data: { platformMessageId, status: item.status as 'delivered' | 'read', at: item.at },
              },
              { idempotencyKey: `receipt:${platformMessageId}:${item.status}`, metadata },
            ),
          );
          break;
        case 'failed': {
          const { state } = await grain.read();
          const clientMessageId = state?.platformMessageIds.get(platformMessageId);
          if (clientMessageId === undefined) {
            throw new ChannelError(
              ChannelErrorCode.RECEIPT_BEFORE_SEND,
              `no sent reply ${platformMessageId} yet`,
            );
          }
          const reason = failureReason(channel.platform, item.error?.code);
          await grain.ask(
            { type: 'MarkReplyFailed', data: { clientMessageId, reason, at: item.at } },
            { metadata: { ...metadata, detail: item.error?.title ?? '', actions: ['retry', 'edit'] } },
          );
          await this.outbox.failedAfterSend(
            tenantId,
            platformMessageId,
            `${reason}: ${item.error?.title ?? ''}`,
          );
          break;
        }
        default:
          item.status satisfies never;
      }
    }
    if (unmatched.length > 0) await this.unmatchedReceipt(routed, item, unmatched);
  }

  /**
   * IN14: a receipt for messages we never sent (sent from the phone app, before Parley, to another
   * contact) is counted and ignored. Only while a reply to this contact is being sent may it be
   * ours, not yet recorded (DS5): then it is retried, and ignored after the last attempt.
   */
  private async unmatchedReceipt(routed: Routed, item: ReceiptItem, ids: readonly string[]): Promise<void> {
    const { channel, row } = routed;
    if (
      row.attempts < this.options.maxAttempts &&
      (await this.outbox.sendingTo(channel.tenantId, channel.channelId, item.contactId))
    ) {
      throw new ChannelError(
        ChannelErrorCode.RECEIPT_BEFORE_SEND,
        `no sent reply ${ids.join(', ')} yet; a reply to ${item.contactId} is being sent`,
      );
    }
    this.unknownReceipts.set(channel.tenantId, this.ignoredReceipts(channel.tenantId) + ids.length);
    this.deps.logger.info(
      {
        webhookId: row.id,
        channelId: channel.channelId,
        status: item.status,
        ids: ids.slice(0, 10),
        count: ids.length,
      },
      'receipt for messages Parley did not send; ignored',
    );
  }

  /** Receipts this process ignored because they named no reply of theirs (IN14), for the admin overview. */
  ignoredReceipts(tenantId: string): number {
    return this.unknownReceipts.get(tenantId) ?? 0;
  }

  /** Whether an earlier row of this conversation waits for its retry. */
  private waitsForEarlier(conversationId: string, rowId: string): boolean {
    const rows = this.waiting.get(conversationId);
    if (!rows) return false;
    for (const id of rows) if (BigInt(id) < BigInt(rowId)) return true;
    return false;
  }

  private wait(rowId: string, conversationIds: readonly string[]): void {
    this.unwait(rowId);
    this.waitingRows.set(rowId, conversationIds);
    for (const id of conversationIds) {
      const rows = this.waiting.get(id) ?? new Set<string>();
      rows.add(rowId);
      this.waiting.set(id, rows);
    }
  }

  private unwait(rowId: string): void {
    for (const id of this.waitingRows.get(rowId) ?? []) {
      const rows = this.waiting.get(id);
      rows?.delete(rowId);
      if (rows?.size === 0) this.waiting.delete(id);
    }
    this.waitingRows.delete(rowId);
  }

  private async failedRow(row: InboxRow, error: unknown, now: number): Promise<void> {
    const { code, permanent, message } = classify(error);
    const conversationIds = this.conversationsOf.get(row.id) ?? [];
    this.conversationsOf.delete(row.id);
    if (permanent || row.attempts >= this.options.maxAttempts) {
      this.deps.logger.warn({ webhookId: row.id, code, err: error }, 'webhook delivery dead-lettered');
      await this.inbox.dead(row.id, code, message);
      return;
    }
    const delay = backoffMs(row.attempts, this.options.backoff, this.random);
    this.deps.logger.info(
      { webhookId: row.id, code, attempt: row.attempts, retryInMs: delay },
      'webhook processing failed; retrying',
    );
    await this.inbox.retryAt(row.id, now + delay, code, message, conversationIds);
    this.wait(row.id, conversationIds);
  }
}

/** A receipt that outruns our record of the send is retried, as platforms retry theirs (DS5). */
async function asReceipt(ask: () => Promise<unknown>): Promise<void> {
  try {
    await ask();
  } catch (error) {
    if (
      isDomainError(error) &&
      (error.code === ConversationErrorCode.REPLY_NOT_FOUND ||
        error.code === ConversationErrorCode.CONVERSATION_NOT_FOUND)
    ) {
      throw new ChannelError(ChannelErrorCode.RECEIPT_BEFORE_SEND, error.message, false, { cause: error });
    }
    throw error;
  }
}

/** The reason a platform's failure status gives a reply. */
function failureReason(platform: string, code: string | undefined): string {
  if (platform === 'whatsapp' && code === '131047') return 'WINDOW_CLOSED';
  return `${platform.toUpperCase()}_${code ?? 'FAILED'}`;
}

function classify(error: unknown): { code: string; permanent: boolean; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ChannelError) return { code: error.code, permanent: error.permanent, message };
  if (error instanceof SyntaxError)
    return { code: ChannelErrorCode.PAYLOAD_INVALID, permanent: true, message };
  // The store refused the events themselves (TX1's defence in depth): a retry cannot succeed.
  if (error instanceof InvalidAppendError) return { code: error.code, permanent: true, message };
  if (isDomainError(error))
    return { code: `${ChannelErrorCode.DOMAIN_REFUSED}:${error.code}`, permanent: true, message };
  return { code: ChannelErrorCode.TRANSIENT, permanent: false, message };
}
