import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, media, MINUTE, queued, received, started, T0, template, text } from '../testing/fixtures';
import {
  applyToSummary,
  messagePreview,
  PREVIEW_LENGTH,
  previewAuthor,
  unreadConversations,
  unreadFor,
  type ConversationSummary,
} from './summary';
import { conversationTimeline } from './timeline';
import type { ConversationEvent } from './types';

/** ConversationStarted and CycleStarted, without the first message. */
const opening = started().slice(0, 2);

/** Folds a stream's events, numbered 1, 2, 3... as the store numbers them. */
function summarise(events: readonly ConversationEvent[]): ConversationSummary | undefined {
  return events.reduce<ConversationSummary | undefined>(
    (summary, event, index) => applyToSummary(summary, event, index + 1),
    undefined,
  );
}

describe('the conversation summary', () => {
  it('starts at ConversationStarted and has nothing before it', () => {
    expect(applyToSummary(undefined, received('m1', T0), 1)).toBeUndefined();
    expect(summarise(opening)).toMatchObject({
      status: 'open',
      cycle: 1,
      unreadCount: 0,
      lastMessage: null,
      version: 2,
    });
  });

  it('counts customer messages until a reply is queued, and previews the latest by its own time', () => {
    const summary = summarise([...opening, received('m1', T0 + 2), received('m2', T0 + 1)]);
    expect(summary).toMatchObject({ unreadCount: 2, lastMessage: { at: T0 + 2, from: 'customer' } });
    const answered = summarise([...opening, received('m1', T0 + 1), queued('r1', T0 + 2)]);
    expect(answered).toMatchObject({ unreadCount: 0, lastMessage: { at: T0 + 2, from: 'agent' } });
  });

  it("[CV18] counts unread per agent: an agent's read mark clears it for that agent only, until the next customer message", () => {
    const read = (agentId: string, upTo: number): ConversationEvent => ({
      type: 'ConversationRead',
      data: { agentId, upTo, at: upTo + 5 },
    });
    const two = [...opening, received('m1', T0 + 1), received('m2', T0 + 2)];
    const unread = summarise(two)!;
    expect([unreadFor(unread, 'ada'), unreadFor(unread, 'ben')]).toEqual([2, 2]);
    const adaRead = summarise([...two, read('ada', T0 + 2)])!;
    expect([unreadFor(adaRead, 'ada'), unreadFor(adaRead, 'ben')]).toEqual([0, 2]);
    // A mark up to the first message leaves the second unread; an older mark never moves it back.
    const partly = summarise([...two, read('ben', T0 + 1), read('ada', T0 + 2), read('ada', T0)])!;
    expect([unreadFor(partly, 'ada'), unreadFor(partly, 'ben')]).toEqual([0, 1]);
    // Not activity: order and preview stay.
    expect(partly.lastActivityAt).toBe(unread.lastActivityAt);
    expect(partly.lastMessage).toEqual(unread.lastMessage);
    const again = summarise([...two, read('ada', T0 + 2), received('m3', T0 + 3)])!;
    expect([unreadFor(again, 'ada'), unreadFor(again, 'ben')]).toEqual([1, 3]);
    // A queued reply clears it for everyone.
    const answered = summarise([...two, read('ada', T0 + 1), queued('r1', T0 + 4)])!;
    expect([unreadFor(answered, 'ada'), unreadFor(answered, 'ben')]).toEqual([0, 0]);
    expect(unreadConversations([unread, adaRead, answered, again], 'ada')).toBe(2);
    expect(unreadConversations([unread, adaRead, answered, again], 'ben')).toBe(3);
  });

  it('[CV19] names the author of the latest reply: You for the agent who queued it, the name for everyone else', () => {
    const summary = summarise([...opening, received('m1', T0 + 1), queued('r1', T0 + 2)])!;
    expect(summary.lastMessage).toMatchObject({ from: 'agent', agentId: 'agent-1' });
    const names = { 'agent-1': 'Ada', 'agent-2': 'Ben' };
    expect(previewAuthor(summary.lastMessage!, 'agent-1', names)).toBe('You');
    expect(previewAuthor(summary.lastMessage!, 'agent-2', names)).toBe('Ada');
    expect(previewAuthor(summary.lastMessage!, 'agent-2')).toBe('agent-1');
    const customer = summarise([...opening, received('m1', T0 + 1)])!;
    expect(previewAuthor(customer.lastMessage!, 'agent-1', names)).toBeNull();
  });

  it('[CV14] previews the latest message by platform time however the messages arrived, as the timeline ends', () => {
    // Ten messages of one contact, T0 + 1 min ... T0 + 10 min, delivered shuffled.
    const arrival = [7, 2, 10, 1, 9, 4, 3, 6, 8, 5];
    const messages = arrival.map((n) => received(`m${n}`, T0 + n * MINUTE, text(`message ${n}`)));
    const summary = summarise([...opening, ...messages]);
    expect(summary?.lastMessage).toEqual({ preview: 'message 10', at: T0 + 10 * MINUTE, from: 'customer' });
    const last = conversationTimeline([...opening, ...messages]).at(-1);
    expect(last?.kind === 'customer' && last.externalMessageId).toBe('m10');
    // A reply queued before the late message was sent stays behind it in the preview too.
    const late = summarise([...opening, queued('r1', T0 + 2 * MINUTE), received('m3', T0 + 3 * MINUTE)]);
    expect(late?.lastMessage).toMatchObject({ at: T0 + 3 * MINUTE, from: 'customer' });
  });

  it('keeps the WhatsApp window at the latest customer message, even when one arrives late', () => {
    const summary = summarise([...opening, received('m2', T0 + HOUR), received('m1', T0)]);
    expect(summary?.lastCustomerMessageAt).toBe(T0 + HOUR);
    expect(summary?.windowClosesAt).toBe(T0 + HOUR + DAY);
  });

  it('moves the version on for an event type this build does not know, changing nothing else', () => {
    const before = summarise([...opening, received('m1', T0)])!;
    const future = { type: 'ConversationTranslated', data: { at: T0 + 5 } } as unknown as ConversationEvent;
    const after = applyToSummary(before, future, before.version + 1)!;
    expect(after).toEqual({ ...before, version: before.version + 1, lastActivityAt: T0 + 5 });
    const timeless = { type: 'ConversationTranslated', data: {} } as unknown as ConversationEvent;
    expect(applyToSummary(after, timeless, after.version + 1)).toEqual({
      ...after,
      version: after.version + 1,
    });
  });

  it('ignores any event again at or below its version (redelivery changes nothing)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (gaps, repeats) => {
          const history = [...opening, ...gaps.map((gap, i) => received(`m${i}`, T0 + gap * HOUR))];
          const clean = summarise(history);
          // Deliver the same history with earlier events repeated at random points after they were seen.
          let summary: ConversationSummary | undefined;
          history.forEach((event, index) => {
            summary = applyToSummary(summary, event, index + 1);
            const again = repeats[index];
            if (again !== undefined)
              summary = applyToSummary(summary, history[again % (index + 1)]!, (again % (index + 1)) + 1);
          });
          expect(summary).toEqual(clean);
        },
      ),
    );
  });
});

describe('a message preview', () => {
  it('is one line, and a long one is cut to the preview length with an ellipsis, whole characters only', () => {
    expect(messagePreview({ type: 'text', text: 'two\n  lines ' })).toBe('two lines');
    const long = messagePreview({ type: 'text', text: '😀'.repeat(PREVIEW_LENGTH + 5) });
    expect([...long]).toHaveLength(PREVIEW_LENGTH);
    expect(long.endsWith('😀…')).toBe(true);
  });

  it('names media by kind with the caption, and templates by name', () => {
    const image = media('image', 'image/jpeg', 1);
    expect(messagePreview(image)).toBe('[image]');
    expect(messagePreview({ ...image, caption: 'my\ncat' } as typeof image)).toBe('[image] my cat');
    expect(messagePreview(template('order_update', ['42']))).toBe('order_update');
  });
});
