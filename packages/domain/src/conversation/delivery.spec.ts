import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../shared/envelope';
import { HOUR, queued, sent, started, T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { conversation } from './decider';
import type { ConversationCommand, ConversationEvent, DeliveryStatus } from './types';

const given = (events: ConversationEvent[]) => spec(conversation).given(events);
const at = T0 + HOUR;
const wasQueued = [...started(), queued('r1', at)];
const wasSent = [...wasQueued, sent('r1', at)];
const receipt = (status: 'delivered' | 'read', platformMessageId = 'wamid.r1'): ConversationCommand => ({
  type: 'RecordDeliveryStatus',
  data: { platformMessageId, status, at },
});
const delivered: ConversationEvent = { type: 'ReplyDelivered', data: { clientMessageId: 'r1', at } };
const read: ConversationEvent = { type: 'ReplyRead', data: { clientMessageId: 'r1', at } };
const failed: ConversationEvent = {
  type: 'ReplyFailed',
  data: { clientMessageId: 'r1', reason: '131026', at },
};
const markSent: ConversationCommand = {
  type: 'MarkReplySent',
  data: { clientMessageId: 'r1', platformMessageId: 'wamid.r1', at },
};
const markFailed: ConversationCommand = {
  type: 'MarkReplyFailed',
  data: { clientMessageId: 'r1', reason: '131026', at },
};

describe('a queued reply', () => {
  it('[DS1] moves to sending, then to sent with the platform message id', () => {
    given(wasQueued)
      .when({ type: 'MarkReplySending', data: { clientMessageId: 'r1', now: at } })
      .then([{ type: 'ReplySending', data: { clientMessageId: 'r1', at } }]);
    const state = given([...wasQueued, { type: 'ReplySending', data: { clientMessageId: 'r1', at } }])
      .when(markSent)
      .then([sent('r1', at)]);
    expect(state?.replies.get('r1')).toMatchObject({ status: 'sent', platformMessageId: 'wamid.r1' });
  });

  it('[DS4] may be marked sent without passing through sending', () => {
    given(wasQueued)
      .when(markSent)
      .then([sent('r1', at)]);
  });

  it('[DS3] may fail, with a reason code', () => {
    const state = given(wasQueued).when(markFailed).then([failed]);
    expect(state?.replies.get('r1')).toMatchObject({ status: 'failed', failureReason: '131026' });
  });

  it('[DS5] updates for an unknown reply are refused', () => {
    given(wasQueued)
      .when({ type: 'MarkReplySending', data: { clientMessageId: 'nope', now: at } })
      .thenThrows('REPLY_NOT_FOUND', 'DS5');
    given(wasQueued).when(receipt('delivered')).thenThrows('REPLY_NOT_FOUND', 'DS5');
  });
});

describe('a sent reply', () => {
  it('[DS1] is delivered, then read', () => {
    given(wasSent).when(receipt('delivered')).then([delivered]);
    const state = given([...wasSent, delivered])
      .when(receipt('read'))
      .then([read]);
    expect(state?.replies.get('r1')?.status).toBe('read');
  });

  it('[DS1] ignores a repeated or late status', () => {
    given([...wasSent, delivered])
      .when(receipt('delivered'))
      .thenNothingHappens();
    given([...wasSent, delivered, read])
      .when(receipt('delivered'))
      .thenNothingHappens();
    given([...wasSent, delivered, read])
      .when(receipt('read'))
      .thenNothingHappens();
    given(wasSent).when(markSent).thenNothingHappens();
    given(wasSent)
      .when({ type: 'MarkReplySending', data: { clientMessageId: 'r1', now: at } })
      .thenNothingHappens();
  });

  it('[DS2] read without delivered records both', () => {
    given(wasSent).when(receipt('read')).then([delivered, read]);
  });

  it('[DS3] may still fail until it is delivered', () => {
    given(wasSent).when(markFailed).then([failed]);
    given([...wasSent, delivered])
      .when(markFailed)
      .thenNothingHappens();
  });

  it('[DS3] once failed, stays failed', () => {
    given([...wasSent, failed])
      .when(receipt('read'))
      .thenNothingHappens();
    given([...wasQueued, failed])
      .when(markSent)
      .thenNothingHappens();
    given([...wasQueued, failed])
      .when(markFailed)
      .thenNothingHappens();
  });

  it('[DS1] delivery status is monotonic under any order of updates', () => {
    const rank: Record<DeliveryStatus, number> = {
      queued: 0,
      sending: 1,
      sent: 2,
      delivered: 3,
      read: 4,
      failed: -1,
    };
    const sending: ConversationCommand = {
      type: 'MarkReplySending',
      data: { clientMessageId: 'r1', now: at },
    };
    const updates = fc.array(fc.constantFrom(sending, markSent, receipt('delivered'), receipt('read')), {
      maxLength: 12,
    });
    fc.assert(
      fc.property(updates, (commands) => {
        let state = fold(conversation, null, wasQueued);
        let highest = rank.queued;
        for (const command of commands) {
          let events: ConversationEvent[] = [];
          try {
            events = conversation.decide(command, state);
          } catch (error) {
            // A receipt that outruns ReplySent is refused; the platform will retry it.
            expect(error).toMatchObject({ code: 'REPLY_NOT_FOUND' });
          }
          state = fold(conversation, state, events);
          const status = state?.replies.get('r1')?.status ?? 'failed';
          expect(rank[status]).toBeGreaterThanOrEqual(highest);
          highest = rank[status];
          if (command.type === 'RecordDeliveryStatus' && events.length > 0) {
            expect(rank[status]).toBe(Math.max(rank[command.data.status], highest));
          }
        }
      }),
    );
  });
});
