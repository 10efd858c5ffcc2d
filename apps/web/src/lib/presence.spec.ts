import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useCollisionGuard } from '../components/Presence';
import type { Client } from './api/client';
import { PresenceClient, setActivePresence, type PresenceMessage } from './presence';

/** A client whose presence stream the test feeds, and whose presence changes it records. */
function fakeClient() {
  let feed: ((message: PresenceMessage) => void) | undefined;
  const sent: string[] = [];
  const client = {
    presence: {
      watch: {
        subscribe: (_input: unknown, handlers: { onData: (message: PresenceMessage) => void }) => {
          feed = handlers.onData;
          return { unsubscribe: () => (feed = undefined) };
        },
      },
      set: {
        mutate: (input: { conversationId: string; activity: string }) => {
          sent.push(`${input.activity} ${input.conversationId}`);
          return Promise.resolve({ shown: true });
        },
      },
    },
  } as unknown as Client;
  return { client, sent, feed: (message: PresenceMessage) => feed?.(message) };
}

const ben = (activity: 'viewing' | 'typing' | 'left', ttlMs: number, conversationId = 'c1') =>
  ({
    kind: 'presence',
    conversationId,
    inboxId: 'support',
    agentId: 'ben',
    name: 'Ben Agent',
    device: 'tab-ben-1',
    activity,
    ttlMs,
  }) as const;

describe('the tab’s presence', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds what it heard for the time the server gave, typing falling back to viewing', () => {
    const { client, feed } = fakeClient();
    const presence = new PresenceClient(client);
    presence.start();
    feed(ben('typing', 6_000));
    expect(presence.in('c1')).toEqual([
      { agentId: 'ben', name: 'Ben Agent', device: 'tab-ben-1', typing: true },
    ]);
    vi.advanceTimersByTime(6_000);
    expect(presence.in('c1').map((each) => each.typing)).toEqual([false]);
    vi.advanceTimersByTime(25_000);
    expect(presence.in('c1')).toEqual([]);
    presence.stop();
  });

  it('forgets a tab that left, and starts over from each snapshot (a reconnected stream)', () => {
    const { client, feed } = fakeClient();
    const presence = new PresenceClient(client);
    presence.start();
    feed(ben('viewing', 30_000));
    feed(ben('left', 0));
    expect(presence.in('c1')).toEqual([]);
    feed(ben('viewing', 30_000, 'c2'));
    feed({ kind: 'snapshot', presences: [{ ...ben('viewing', 30_000, 'c3') }] });
    expect(presence.in('c2')).toEqual([]);
    expect(presence.in('c3').map((each) => each.agentId)).toEqual(['ben']);
    presence.stop();
  });

  it('says typing at most every 3 s, viewing when the draft is gone, and left when the tab moves away', () => {
    const { client, sent } = fakeClient();
    const presence = new PresenceClient(client);
    presence.start();
    presence.view('c1');
    presence.typed('c1');
    presence.typed('c1');
    vi.advanceTimersByTime(3_000);
    presence.typed('c1');
    presence.stoppedTyping('c1');
    presence.view(null);
    expect(sent).toEqual(['viewing c1', 'typing c1', 'typing c1', 'viewing c1', 'left c1']);
    presence.stop();
  });
});

describe('the collision warning', () => {
  it('asks before sending a reply written while another agent typed, until the draft is sent or emptied', () => {
    const { client, feed } = fakeClient();
    const presence = new PresenceClient(client);
    presence.start();
    act(() => setActivePresence(presence));
    const { result, rerender } = renderHook(({ text }) => useCollisionGuard('c1', text), {
      initialProps: { text: 'Hello' },
    });
    // Nobody typed: the reply goes.
    expect(result.current.maySend()).toBe(true);
    act(() => feed(ben('typing', 6_000)));
    let allowed = true;
    act(() => {
      allowed = result.current.maySend();
    });
    expect(allowed).toBe(false);
    expect(result.current.warning).toEqual(['Ben Agent']);
    // Ben stopped typing, but he did type during this draft: still a warning until it is sent.
    act(() => feed(ben('viewing', 30_000)));
    expect(result.current.warning).toEqual(['Ben Agent']);
    rerender({ text: '' });
    expect(result.current.warning).toBeNull();
    rerender({ text: 'A new reply' });
    expect(result.current.maySend()).toBe(true);
    act(() => setActivePresence(null));
    presence.stop();
  });
});
