import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MINUTE, queued, received, started, T0 } from '../testing/fixtures';
import { conversationTimeline, type TimelineEntry } from './timeline';
import type { ConversationEvent } from './types';

/** Fixed, so a failure replays; fast-check prints it with any counterexample. */
const SEED = 1305;

const note = (noteId: string, at: number): ConversationEvent => ({
  type: 'NoteAdded',
  data: { noteId, agentId: 'agent-1', text: `note ${noteId}`, mentions: [], at },
});

/** What a reader sees of an entry: which message it is. */
const idOf = (entry: TimelineEntry) =>
  entry.kind === 'customer'
    ? entry.externalMessageId
    : entry.kind === 'reply'
      ? entry.clientMessageId
      : entry.noteId;

describe('a conversation timeline', () => {
  it('[CV14] shows customer messages by their platform timestamp, not by the order they arrived in', () => {
    const timeline = conversationTimeline([
      ...started().slice(0, 2),
      received('m3', T0 + 3 * MINUTE),
      received('m1', T0 + MINUTE),
      received('m2', T0 + 2 * MINUTE),
    ]);
    expect(timeline.map(idOf)).toEqual(['m1', 'm2', 'm3']);
    expect(timeline.map((entry) => entry.position)).toEqual([3, 4, 2]);
  });

  it('[CV14] places replies and notes at their own time among the customer messages', () => {
    const timeline = conversationTimeline([
      received('m1', T0),
      queued('r1', T0 + 2 * MINUTE),
      note('n1', T0 + 3 * MINUTE),
      // Sent before the reply was queued, delivered after it.
      received('m2', T0 + MINUTE),
    ]);
    expect(timeline.map((entry) => [entry.kind, idOf(entry)])).toEqual([
      ['customer', 'm1'],
      ['customer', 'm2'],
      ['reply', 'r1'],
      ['note', 'n1'],
    ]);
  });

  it('[CV14] keeps equal times in the order the log holds them', () => {
    const timeline = conversationTimeline([received('b', T0), queued('r', T0), received('a', T0)]);
    expect(timeline.map(idOf)).toEqual(['b', 'r', 'a']);
  });

  it('[CV14] keeps an entry without a usable time where it arrived, and shows a reply once', () => {
    const timeless = received('x', Number.NaN);
    const timeline = conversationTimeline([
      received('m2', T0 + 2 * MINUTE),
      timeless,
      received('m1', T0 + MINUTE),
      queued('r1', T0 + 3 * MINUTE),
      queued('r1', T0 + 4 * MINUTE),
    ]);
    expect(timeline.map(idOf)).toEqual(['m1', 'm2', 'x', 'r1']);
    expect(timeline.at(-1)?.at).toBe(T0 + 3 * MINUTE);
  });

  it(`[CV14] any arrival order of the same messages gives the same timeline (fast-check seed ${SEED})`, () => {
    const kinds = fc.constantFrom('customer', 'reply', 'note');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 30 }).chain((times) =>
          fc.tuple(
            fc.constant(times),
            fc.array(kinds, { minLength: times.length, maxLength: times.length }),
            fc.shuffledSubarray(
              times.map((_, i) => i),
              { minLength: times.length, maxLength: times.length },
            ),
          ),
        ),
        ([times, kindOf, arrival]) => {
          const events = times.map((time, i): ConversationEvent => {
            const at = T0 + time * 1000;
            if (kindOf[i] === 'reply') return queued(`e${i}`, at);
            if (kindOf[i] === 'note') return note(`e${i}`, at);
            return received(`e${i}`, at);
          });
          const inOrder = conversationTimeline(events).map(idOf);
          const shuffled = conversationTimeline(arrival.map((i) => events[i]!)).map(idOf);
          expect(shuffled).toEqual(inOrder);
          const byTime = times.map((time, i) => ({ time, id: `e${i}` })).sort((a, b) => a.time - b.time);
          expect(inOrder).toEqual(byTime.map((entry) => entry.id));
        },
      ),
      { seed: SEED },
    );
  });
});
