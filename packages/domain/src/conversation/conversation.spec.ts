import { describe, expect, it } from 'vitest';
import {
  contact,
  DAY,
  HOUR,
  inbound,
  MINUTE,
  queued,
  received,
  started,
  T0,
  template,
  text,
} from '../testing/fixtures';
import { spec } from '../testing/spec';
import { checkReplyWindow, conversation } from './decider';
import type { ConversationCommand, ConversationEvent, QueueReply } from './types';

const given = (events: ConversationEvent[]) => spec(conversation).given(events);
const queueReply = (
  clientMessageId: string,
  now: number,
  extra: Partial<QueueReply['data']> = {},
): ConversationCommand => ({
  type: 'QueueReply',
  data: {
    clientMessageId,
    agentId: 'agent-1',
    content: text('on it'),
    tag: null,
    now,
    templates: [],
    ...extra,
  },
});
const status = (kind: 'open' | 'pending' | 'resolved', at: number): ConversationEvent => ({
  type: 'StatusChanged',
  data: { status: { kind }, reason: 'agent', at },
});

describe('a conversation that has not started', () => {
  it('[CV1] the first customer message starts it, open, in cycle 1', () => {
    const state = given([])
      .when(inbound('m1', T0))
      .then([
        {
          type: 'ConversationStarted',
          data: { conversationId: 'conv-1', inboxId: 'inbox-1', platform: 'whatsapp', contact, at: T0 },
        },
        { type: 'CycleStarted', data: { cycle: 1, at: T0 } },
        received('m1', T0),
      ]);
    expect(state).toMatchObject({
      status: { kind: 'open' },
      cycle: 1,
      platform: 'whatsapp',
      lastCustomerMessageAt: T0,
    });
  });

  it('[CV1] any other command is refused', () => {
    given([]).when(queueReply('r1', T0)).thenThrows('CONVERSATION_NOT_FOUND', 'CV1');
    given([])
      .when({ type: 'SetPriority', data: { priority: 'high', at: T0 } })
      .thenThrows('CONVERSATION_NOT_FOUND');
  });
});

describe('an open conversation', () => {
  it('[CV2] refuses a message from another platform', () => {
    given(started('whatsapp'))
      .when(inbound('m2', T0, 'telegram'))
      .thenThrows('PLATFORM_MISMATCH', 'CV2');
  });

  it('[CV3] ignores an inbound message it has already received', () => {
    given(started())
      .when(inbound('m1', T0 + MINUTE))
      .thenNothingHappens();
  });

  it('[CV4] records a new customer message and moves the window start forward, never back', () => {
    const state = given(started())
      .when(inbound('m2', T0 + HOUR))
      .then([received('m2', T0 + HOUR)]);
    expect(state?.lastCustomerMessageAt).toBe(T0 + HOUR);
    const late = given([...started(), received('m2', T0 + HOUR)])
      .when(inbound('m0', T0 - HOUR))
      .then([received('m0', T0 - HOUR)]);
    expect(late?.lastCustomerMessageAt).toBe(T0 + HOUR);
  });

  it('[CV5] queues a reply the platform allows', () => {
    const state = given(started())
      .when(queueReply('r1', T0 + HOUR))
      .then([queued('r1', T0 + HOUR)]);
    expect(state?.replies.get('r1')).toMatchObject({ status: 'queued', platformMessageId: null });
  });

  it('[CV5] refuses a reply the platform forbids, with the platform’s code, rule and hint', () => {
    const error = given(started())
      .when(queueReply('r1', T0 + DAY))
      .thenThrows('WINDOW_CLOSED', 'WA2');
    expect(error).toMatchObject({ details: { hint: 'send an approved template' } });
  });

  it('[CV5] sends a template outside the window when the catalogue approves it', () => {
    const content = template('follow_up', ['Ada']);
    const templates = [{ name: 'follow_up', language: 'en', approved: true, paramCount: 1 }];
    given(started())
      .when(queueReply('r1', T0 + 2 * DAY, { content, templates }))
      .then([queued('r1', T0 + 2 * DAY, content)]);
  });

  it('[CV5] ignores a reply whose client message id it already has (offline retry)', () => {
    given([...started(), queued('r1', T0 + HOUR)])
      .when(queueReply('r1', T0 + HOUR))
      .thenNothingHappens();
  });

  it('[PL3] a queued reply keeps the HUMAN_AGENT tag only where it means something', () => {
    const tagged = { tag: 'HUMAN_AGENT' as const };
    const replyQueued = (tag: 'HUMAN_AGENT' | null, queuedAt: number): ConversationEvent => ({
      type: 'ReplyQueued',
      data: { clientMessageId: 'r1', agentId: 'agent-1', content: text('on it'), tag, queuedAt },
    });
    given(started('whatsapp'))
      .when(queueReply('r1', T0 + HOUR, tagged))
      .then([replyQueued(null, T0 + HOUR)]);
    given(started('instagram'))
      .when(queueReply('r1', T0 + 2 * DAY, tagged))
      .then([replyQueued('HUMAN_AGENT', T0 + 2 * DAY)]);
  });

  it('[CV6] a reply queued inside the window fails with WINDOW_CLOSED when it is sent after the window closed', () => {
    const history = [...started(), queued('r1', T0 + DAY - MINUTE)];
    given(history)
      .when({ type: 'MarkReplySending', data: { clientMessageId: 'r1', now: T0 + DAY + MINUTE } })
      .then([
        {
          type: 'ReplyFailed',
          data: {
            clientMessageId: 'r1',
            reason: 'WINDOW_CLOSED',
            at: T0 + DAY + MINUTE,
            rule: 'WA2',
            hint: expect.stringMatching(/template/) as string,
          },
        },
      ]);
    given(history)
      .when({ type: 'MarkReplySending', data: { clientMessageId: 'r1', now: T0 + DAY - 1 } })
      .then([{ type: 'ReplySending', data: { clientMessageId: 'r1', at: T0 + DAY - 1 } }]);
  });

  it('[CV6] checkReplyWindow (behind MarkReplySending) tells whether a queued reply may still go out', () => {
    const state = given([...started(), queued('r1', T0 + HOUR)]).state();
    const reply = state?.replies.get('r1');
    if (!state || !reply) throw new Error('no reply');
    expect(checkReplyWindow(state, reply, T0 + 2 * HOUR)).toEqual({ ok: true });
    expect(checkReplyWindow(state, reply, T0 + DAY)).toMatchObject({
      ok: false,
      code: 'WINDOW_CLOSED',
      rule: 'WA2',
    });
  });

  it('[CV7] adds a private note with its mentions, once', () => {
    const note = { noteId: 'n1', agentId: 'agent-1', text: '@bob can you check?', at: T0 };
    const add: ConversationCommand = {
      type: 'AddNote',
      data: { ...note, mentions: ['bob', 'bob', 'carol'] },
    };
    const added: ConversationEvent = { type: 'NoteAdded', data: { ...note, mentions: ['bob', 'carol'] } };
    given(started()).when(add).then([added]);
    given([...started(), added])
      .when(add)
      .thenNothingHappens();
  });

  it('[CV7] refuses an empty note', () => {
    given(started())
      .when({ type: 'AddNote', data: { noteId: 'n1', agentId: 'agent-1', text: ' ', mentions: [], at: T0 } })
      .thenThrows('NOTE_EMPTY', 'CV7');
  });

  it('[CV8] adds and removes labels, trimmed, without duplicates', () => {
    const labelled = given(started())
      .when({ type: 'AddLabel', data: { label: ' vip ', at: T0 } })
      .then([{ type: 'LabelAdded', data: { label: 'vip', at: T0 } }]);
    expect(labelled?.labels).toEqual(['vip']);
    const withLabel: ConversationEvent[] = [
      ...started(),
      { type: 'LabelAdded', data: { label: 'vip', at: T0 } },
    ];
    given(withLabel)
      .when({ type: 'AddLabel', data: { label: 'vip', at: T0 } })
      .thenNothingHappens();
    given(withLabel)
      .when({ type: 'RemoveLabel', data: { label: 'vip', at: T0 } })
      .then([{ type: 'LabelRemoved', data: { label: 'vip', at: T0 } }]);
    given(started())
      .when({ type: 'RemoveLabel', data: { label: 'vip', at: T0 } })
      .thenNothingHappens();
    given(started())
      .when({ type: 'AddLabel', data: { label: '  ', at: T0 } })
      .thenThrows('LABEL_EMPTY', 'CV8');
  });

  it('[CV9] assigns and unassigns an agent; repeating either changes nothing', () => {
    const assigned: ConversationEvent = {
      type: 'ConversationAssigned',
      data: { agentId: 'agent-1', at: T0 },
    };
    given(started())
      .when({ type: 'AssignConversation', data: { agentId: 'agent-1', at: T0 } })
      .then([assigned]);
    given([...started(), assigned])
      .when({ type: 'AssignConversation', data: { agentId: 'agent-1', at: T0 } })
      .thenNothingHappens();
    given([...started(), assigned])
      .when({ type: 'AssignConversation', data: { agentId: 'agent-2', at: T0 } })
      .then([{ type: 'ConversationAssigned', data: { agentId: 'agent-2', at: T0 } }]);
    given([...started(), assigned])
      .when({ type: 'UnassignConversation', data: { at: T0 } })
      .then([{ type: 'ConversationUnassigned', data: { agentId: 'agent-1', at: T0 } }]);
    given(started())
      .when({ type: 'UnassignConversation', data: { at: T0 } })
      .thenNothingHappens();
  });

  it('[CV10] snoozes until a future time', () => {
    const state = given(started())
      .when({ type: 'SnoozeConversation', data: { until: T0 + DAY, now: T0 } })
      .then([
        {
          type: 'StatusChanged',
          data: { status: { kind: 'snoozed', until: T0 + DAY }, reason: 'agent', at: T0 },
        },
      ]);
    expect(state?.status).toEqual({ kind: 'snoozed', until: T0 + DAY });
  });

  it('[CV10] refuses to snooze until now or the past', () => {
    given(started())
      .when({ type: 'SnoozeConversation', data: { until: T0, now: T0 } })
      .thenThrows('SNOOZE_NOT_IN_FUTURE', 'CV10');
  });

  it('[CV11] changes status and priority; setting the current one changes nothing', () => {
    given(started())
      .when({ type: 'SetStatus', data: { status: 'pending', at: T0 } })
      .then([status('pending', T0)]);
    given(started())
      .when({ type: 'SetStatus', data: { status: 'open', at: T0 } })
      .thenNothingHappens();
    given(started())
      .when({ type: 'SetPriority', data: { priority: 'urgent', at: T0 } })
      .then([{ type: 'PriorityChanged', data: { priority: 'urgent', at: T0 } }]);
    given(started())
      .when({ type: 'SetPriority', data: { priority: 'none', at: T0 } })
      .thenNothingHappens();
  });
});

describe('a snoozed conversation', () => {
  const snoozed: ConversationEvent[] = [
    ...started(),
    {
      type: 'StatusChanged',
      data: { status: { kind: 'snoozed', until: T0 + DAY }, reason: 'agent', at: T0 },
    },
  ];
  const woke = (at: number, reason: 'snooze-ended' | 'customer-message'): ConversationEvent => ({
    type: 'StatusChanged',
    data: { status: { kind: 'open' }, reason, at },
  });

  it('[CV10] wakes up when asked at or after its time', () => {
    given(snoozed)
      .when({ type: 'WakeConversation', data: { now: T0 + DAY } })
      .then([woke(T0 + DAY, 'snooze-ended')]);
  });

  it('[CV10] stays asleep when asked too early', () => {
    given(snoozed)
      .when({ type: 'WakeConversation', data: { now: T0 + DAY - 1 } })
      .thenNothingHappens();
    given(started())
      .when({ type: 'WakeConversation', data: { now: T0 + DAY } })
      .thenNothingHappens();
  });

  it('[CV10] can be snoozed again to another time, not to the same one', () => {
    given(snoozed)
      .when({ type: 'SnoozeConversation', data: { until: T0 + DAY, now: T0 } })
      .thenNothingHappens();
    given(snoozed)
      .when({ type: 'SnoozeConversation', data: { until: T0 + 2 * DAY, now: T0 } })
      .then([
        {
          type: 'StatusChanged',
          data: { status: { kind: 'snoozed', until: T0 + 2 * DAY }, reason: 'agent', at: T0 },
        },
      ]);
  });

  it('[CV4] wakes up when the customer writes', () => {
    given(snoozed)
      .when(inbound('m2', T0 + HOUR))
      .then([woke(T0 + HOUR, 'customer-message'), received('m2', T0 + HOUR)]);
  });
});

describe('a pending conversation', () => {
  it('[CV4] opens when the customer writes', () => {
    given([...started(), status('pending', T0)])
      .when(inbound('m2', T0 + HOUR))
      .then([
        {
          type: 'StatusChanged',
          data: { status: { kind: 'open' }, reason: 'customer-message', at: T0 + HOUR },
        },
        received('m2', T0 + HOUR),
      ]);
  });
});

describe('awaiting the customer', () => {
  const failed = (clientMessageId: string, at: number): ConversationEvent => ({
    type: 'ReplyFailed',
    data: { clientMessageId, reason: 'PLATFORM_ERROR', at },
  });

  it('[CV12] starts with our first reply to the customer’s latest message', () => {
    const state = given([
      ...started(),
      queued('r1', T0 + 10 * MINUTE),
      queued('r2', T0 + 20 * MINUTE),
    ]).state();
    expect(state?.awaitingCustomerSince).toBe(T0 + 10 * MINUTE);
  });

  it('[CV12] ends when the customer writes again', () => {
    const state = given([...started(), queued('r1', T0 + MINUTE), received('m2', T0 + HOUR)]).state();
    expect(state?.awaitingCustomerSince).toBeNull();
  });

  it('[CV12] a failed reply is compensated: the next live reply counts, or nobody waits on the customer', () => {
    const history = [...started(), queued('r1', T0 + 10 * MINUTE), queued('r2', T0 + 20 * MINUTE)];
    expect(given([...history, failed('r1', T0 + HOUR)]).state()?.awaitingCustomerSince).toBe(
      T0 + 20 * MINUTE,
    );
    expect(
      given([...history, failed('r1', T0 + HOUR), failed('r2', T0 + HOUR)]).state()?.awaitingCustomerSince,
    ).toBeNull();
  });

  it('[CV12] a reply to an earlier customer message does not count once the customer wrote again', () => {
    const state = given([
      ...started(),
      queued('r1', T0 + MINUTE),
      received('m2', T0 + HOUR),
      failed('r1', T0 + 2 * HOUR),
    ]).state();
    expect(state?.awaitingCustomerSince).toBeNull();
  });
});
