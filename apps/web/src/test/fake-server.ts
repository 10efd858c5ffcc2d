import type { ReplyAnswer, ReplyBatchAnswer, ReplyBatchRequest, ReplyRequest } from '../lib/outbox/flusher';

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

/**
 * The server's reply path (server/src/sync/replies.ts) in memory: per-client sequence numbers,
 * stored answers for resends, "out of order" for gaps, refusals that advance the number, a
 * clientMessageId queued once per conversation, and batches that stop at the first out-of-order
 * answer or error (an error at the first reply is thrown).
 */
export class FakeReplyServer {
  /** Replies queued, in the order the server applied them. */
  readonly applied: { conversationId: string; clientMessageId: string; text: string }[] = [];
  /** Every reply the server was asked to apply, batch by batch, in order. */
  readonly requests: ReplyRequest[] = [];
  /** How many replies each request carried. */
  readonly batchSizes: number[] = [];
  private readonly last = new Map<string, number>();
  private readonly stored = new Map<string, { clientMessageId: string; answer: ReplyAnswer }>();
  private versions = new Map<string, number>();
  /** Conversations that exist; others answer NOT_FOUND without applying anything. */
  conversations = new Set(['c1', 'c2']);
  /** Refuse replies whose text starts with this (a closed window, say). */
  refuseTextPrefix: string | null = null;
  /** The next n requests fail before reaching the server. */
  failBefore = 0;
  /** The next n requests are applied, then the answer is lost. */
  loseAnswer = 0;
  /** The next request is applied up to this many replies, then the connection drops. */
  dropAfter: number | null = null;
  /** Resolve to hold the next request before the server handles it. */
  gate: Promise<void> | null = null;

  readonly send = async (batch: ReplyBatchRequest): Promise<ReplyBatchAnswer> => {
    const requests = batch.replies.map((reply) => ({ ...reply, clientId: batch.clientId }));
    this.requests.push(...requests);
    this.batchSizes.push(requests.length);
    if (this.gate) await this.gate;
    if (this.failBefore > 0) {
      this.failBefore -= 1;
      throw new FakeNetworkError('fetch failed');
    }
    const dropAfter = this.dropAfter;
    this.dropAfter = null;
    const answers: ReplyAnswer[] = [];
    for (const request of requests) {
      if (answers.length === dropAfter) throw new FakeNetworkError('connection reset mid-batch');
      let answer: ReplyAnswer;
      try {
        answer = this.handle(request);
      } catch (error) {
        if (answers.length === 0) throw error;
        break;
      }
      answers.push(answer);
      if (answer.kind === 'out-of-order') break;
    }
    if (this.loseAnswer > 0) {
      this.loseAnswer -= 1;
      throw new FakeNetworkError('connection reset after commit');
    }
    return { answers };
  };

  private handle(request: ReplyRequest): ReplyAnswer {
    const last = this.last.get(request.clientId) ?? 0;
    const key = `${request.clientId}/${request.sequence}`;
    if (request.sequence <= last) {
      const stored = this.stored.get(key)!;
      if (stored.clientMessageId !== request.clientMessageId) throw new FakeSequenceReusedError();
      return { ...stored.answer, duplicate: true } as ReplyAnswer;
    }
    if (request.sequence > last + 1) {
      return { kind: 'out-of-order', sequence: request.sequence, expectedSequence: last + 1 };
    }
    if (!this.conversations.has(request.conversationId)) throw new FakeNotFoundError();
    const base = {
      sequence: request.sequence,
      clientMessageId: request.clientMessageId,
      conversationId: request.conversationId,
      duplicate: false,
    };
    const text = request.content.type === 'text' ? request.content.text : `[${request.content.type}]`;
    let answer: ReplyAnswer;
    if (this.refuseTextPrefix !== null && text.startsWith(this.refuseTextPrefix)) {
      answer = {
        kind: 'refused',
        ...base,
        code: 'WINDOW_CLOSED',
        rule: 'WA2',
        message: "WhatsApp's 24 h window is closed",
        hint: 'send an approved template',
      };
    } else if (this.applied.some((reply) => reply.clientMessageId === request.clientMessageId)) {
      answer = {
        kind: 'accepted',
        ...base,
        version: this.versions.get(request.conversationId)!,
        cursor: null,
      };
    } else {
      const version = (this.versions.get(request.conversationId) ?? 3) + 1;
      this.versions.set(request.conversationId, version);
      this.applied.push({
        conversationId: request.conversationId,
        clientMessageId: request.clientMessageId,
        text,
      });
      answer = { kind: 'accepted', ...base, version, cursor: `e.${version}` };
    }
    this.last.set(request.clientId, request.sequence);
    this.stored.set(key, { clientMessageId: request.clientMessageId, answer });
    return answer;
  }
}
