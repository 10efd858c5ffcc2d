import {
  conversation as decider,
  describeRefusal,
  fold,
  isDomainError,
  streamFor,
  StreamCategory,
  toConversationCommand,
  type ClientCommand,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type MessageTemplate,
} from '@parley/domain';
import type {
  CommandAnswer,
  CommandBatchAnswer,
  CommandBatchRequest,
  CommandRequest,
} from '../lib/outbox/flusher';
import type { SyncEvent } from '../lib/sync/engine';

/** A transport failure as the flusher's classifier sees it in tests. */
export class FakeNetworkError extends Error {
  override readonly name = 'FakeNetworkError';
}

export class FakeUnauthorizedError extends Error {
  override readonly name = 'FakeUnauthorizedError';
}

export class FakeNotFoundError extends Error {
  override readonly name = 'FakeNotFoundError';
}

export class FakeSequenceReusedError extends Error {
  override readonly name = 'FakeSequenceReusedError';
}

/** The time the fake server decides at unless a test moves it. */
export const FAKE_NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

/**
 * The server's command path (`conversations.commandBatch`) in memory: per-client sequence numbers
 * shared by every command type, stored answers for resends (`duplicate: true`), "out of order" for
 * gaps, refusals that use the number, and batches that stop at the first out-of-order answer or
 * error (an error at the first command is thrown). Commands are decided by the domain, as the
 * real server does (`toConversationCommand` + `decide` on the conversation's log), so the log
 * (`events`) is the truth tests compare the device with.
 */
export class FakeReplyServer {
  /** Replies queued, in the order the server applied them. */
  readonly applied: { conversationId: string; clientMessageId: string; text: string }[] = [];
  /** Every command the server applied (accepted with events or not, refusals excluded), in order. */
  readonly commands: { conversationId: string; command: ClientCommand; agentId: string }[] = [];
  /** Every command the server was asked to apply, batch by batch, in order (with its client id). */
  readonly requests: (CommandRequest & { clientId: string; clientMessageId: string | null })[] = [];
  /** How many commands each request carried. */
  readonly batchSizes: number[] = [];
  /** The tenant's log, in global order: what catch-up delivers. */
  readonly log: SyncEvent[] = [];
  private readonly last = new Map<string, number>();
  /** `clientId/sequence` of the device commands applied that made no event (refused, or no-ops). */
  readonly eventless = new Set<string>();
  private readonly stored = new Map<string, { command: string; answer: CommandAnswer }>();
  private readonly streams = new Map<string, ConversationEvent[]>();
  /** Conversations that exist; others answer NOT_FOUND without applying anything. */
  conversations = new Set(['c1', 'c2']);
  /** Refuse replies whose text starts with this (a closed window, say). */
  refuseTextPrefix: string | null = null;
  /** The next n requests fail before reaching the server. */
  failBefore = 0;
  /** The next n requests are applied, then the answer is lost. */
  loseAnswer = 0;
  /** The next request is applied up to this many commands, then the connection drops. */
  dropAfter: number | null = null;
  /** Resolve to hold the next request before the server handles it. */
  gate: Promise<void> | null = null;
  /** The server's clock. */
  now = FAKE_NOW;
  templates: readonly MessageTemplate[] = [];
  /** The agent the session belongs to. */
  agentId = 'ana';

  constructor(options: { customerWroteAt?: number } = {}) {
    for (const conversationId of this.conversations) {
      this.receive(conversationId, 'hello?', options.customerWroteAt ?? FAKE_NOW - HOUR);
    }
  }

  /** The events of a conversation's stream, in version order. */
  eventsOf(conversationId: string): readonly ConversationEvent[] {
    return this.streams.get(conversationId) ?? [];
  }

  /** True when the server has decided this device command (applied, refused, or a no-op). */
  hasDecided(ref: { readonly clientId: string; readonly sequence: number }): boolean {
    return this.stored.has(`${ref.clientId}/${ref.sequence}`);
  }

  /** The conversation as the server's fold of its log. */
  stateOf(conversationId: string): ConversationState {
    return fold(decider, decider.initialState(), this.eventsOf(conversationId));
  }

  /** A customer writes (through the domain's `ReceiveInboundMessage`). */
  receive(conversationId: string, text: string, sentAt: number): void {
    this.decideAndRecord(conversationId, {
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `x-${this.log.length + 1}`,
        contact: { id: 'k1', name: 'Maria Lopez', handle: '+34 600' },
        content: { type: 'text', text },
        sentAt,
      },
    });
  }

  /** Another device (or agent) acts on a conversation directly; refusals change nothing. */
  act(conversationId: string, command: ClientCommand, agentId = 'ben'): boolean {
    try {
      const domain = toConversationCommand(command, { agentId, now: this.now, templates: this.templates });
      this.decideAndRecord(conversationId, domain);
      this.commands.push({ conversationId, command, agentId });
      return true;
    } catch (error) {
      if (isDomainError(error)) return false;
      throw error;
    }
  }

  /** The log after `cursor` (null: from the start), as `sync.catchUp` answers. */
  after(cursor: string | null): SyncEvent[] {
    const from = cursor === null ? 0 : Number(cursor.slice(2));
    return this.log.slice(from);
  }

  readonly send = async (batch: CommandBatchRequest): Promise<CommandBatchAnswer> => {
    const requests = batch.commands.map((request) => ({
      ...request,
      clientId: batch.clientId,
      clientMessageId: request.command.type === 'QueueReply' ? request.command.clientMessageId : null,
    }));
    this.requests.push(...requests);
    this.batchSizes.push(requests.length);
    if (this.gate) await this.gate;
    if (this.failBefore > 0) {
      this.failBefore -= 1;
      throw new FakeNetworkError('fetch failed');
    }
    const dropAfter = this.dropAfter;
    this.dropAfter = null;
    const answers: CommandAnswer[] = [];
    for (const request of requests) {
      if (answers.length === dropAfter) throw new FakeNetworkError('connection reset mid-batch');
      let answer: CommandAnswer;
      try {
        answer = this.handle(request);
      } catch (error) {
        if (answers.length === 0) throw error;
        break;
      }
      answers.push(answer);
      if (answer.status === 'out-of-order') break;
    }
    if (this.loseAnswer > 0) {
      this.loseAnswer -= 1;
      throw new FakeNetworkError('connection reset after commit');
    }
    return { answers };
  };

  private handle(request: CommandRequest & { clientId: string }): CommandAnswer {
    const last = this.last.get(request.clientId) ?? 0;
    const key = `${request.clientId}/${request.sequence}`;
    const fingerprint = JSON.stringify([request.conversationId, request.command]);
    if (request.sequence <= last) {
      const stored = this.stored.get(key)!;
      if (stored.command !== fingerprint) throw new FakeSequenceReusedError();
      return { ...stored.answer, duplicate: true } as CommandAnswer;
    }
    if (request.sequence > last + 1) {
      return { status: 'out-of-order', sequence: request.sequence, expected: last + 1 };
    }
    if (!this.conversations.has(request.conversationId)) throw new FakeNotFoundError();
    const { command, conversationId } = request;
    let answer: CommandAnswer;
    const text =
      command.type !== 'QueueReply'
        ? null
        : command.content.type === 'text'
          ? command.content.text
          : `[${command.content.type}]`;
    if (text !== null && this.refuseTextPrefix !== null && text.startsWith(this.refuseTextPrefix)) {
      answer = refused(
        request.sequence,
        conversationId,
        'WINDOW_CLOSED',
        'WA2',
        "WhatsApp's 24 h window is closed",
      );
    } else {
      try {
        const domain = toConversationCommand(command, {
          agentId: this.agentId,
          now: this.now,
          templates: this.templates,
        });
        // As the real server: each event names the device command that made it.
        const recorded = this.decideAndRecord(conversationId, domain, {
          command: { clientId: request.clientId, sequence: request.sequence },
        });
        this.commands.push({ conversationId, command, agentId: this.agentId });
        if (command.type === 'QueueReply' && recorded.length > 0) {
          this.applied.push({ conversationId, clientMessageId: command.clientMessageId, text: text! });
        }
        answer = {
          status: 'accepted',
          sequence: request.sequence,
          duplicate: false,
          conversationId,
          version: this.eventsOf(conversationId).length,
          events: recorded.map(({ type, version, cursor }) => ({ type, version, cursor })),
        };
      } catch (error) {
        if (!isDomainError(error)) throw error;
        answer = refused(
          request.sequence,
          conversationId,
          error.code,
          error.details.rule ?? null,
          error.message,
        );
      }
    }
    this.last.set(request.clientId, request.sequence);
    this.stored.set(key, { command: fingerprint, answer });
    if (answer.status !== 'accepted' || answer.events.length === 0) this.eventless.add(key);
    return answer;
  }

  /** Decides `command` on the conversation's log and appends what the decider answers. */
  private decideAndRecord(
    conversationId: string,
    command: ConversationCommand,
    metadata: SyncEvent['metadata'] = {},
  ): SyncEvent[] {
    const events = decider.decide(command, this.stateOf(conversationId));
    const stream = this.streams.get(conversationId) ?? [];
    this.streams.set(conversationId, stream);
    return events.map((event) => {
      stream.push(event);
      const record: SyncEvent = {
        id: `ev-${this.log.length + 1}`,
        streamId: streamFor(StreamCategory.conversation, conversationId),
        version: stream.length,
        type: event.type,
        data: event.data,
        metadata,
        recordedAt: this.now,
        cursor: `g.${this.log.length + 1}`,
      };
      this.log.push(record);
      return record;
    });
  }
}

function refused(
  sequence: number,
  conversationId: string,
  code: string,
  rule: string | null,
  message: string,
): CommandAnswer {
  const described = describeRefusal(code);
  return {
    status: 'refused',
    sequence,
    conversationId,
    duplicate: false,
    code,
    rule,
    message: described.message,
    nextStep: described.nextStep,
    detail: message,
    hint: null,
  };
}
