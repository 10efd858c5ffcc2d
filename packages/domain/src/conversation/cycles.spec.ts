import { describe, it } from 'vitest';
import { HOUR, inbound, received, started, T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { conversation } from './decider';
import type { ConversationEvent } from './types';

const given = (events: ConversationEvent[]) => spec(conversation).given(events);
const resolvedAt = T0 + HOUR;
const resolved: ConversationEvent[] = [
  ...started(),
  { type: 'StatusChanged', data: { status: { kind: 'resolved' }, reason: 'agent', at: resolvedAt } },
  { type: 'CycleEnded', data: { cycle: 1, at: resolvedAt } },
];

describe('cycles', () => {
  it('[CY1] the first customer message starts cycle 1', () => {
    given([])
      .when(inbound('m1', T0))
      .then([...started()]);
  });

  it('[CY2] resolving ends the current cycle', () => {
    given(started())
      .when({ type: 'SetStatus', data: { status: 'resolved', at: resolvedAt } })
      .then(resolved.slice(3));
  });

  it('[CY3] a customer message after resolution reopens the conversation in the next cycle', () => {
    const at = T0 + 2 * HOUR;
    given(resolved)
      .when(inbound('m2', at))
      .then([
        { type: 'StatusChanged', data: { status: { kind: 'open' }, reason: 'customer-message', at } },
        { type: 'CycleStarted', data: { cycle: 2, at } },
        received('m2', at),
      ]);
  });

  it('[CY3] an agent reopening, marking pending or snoozing a resolved conversation starts the next cycle', () => {
    const at = T0 + 2 * HOUR;
    given(resolved)
      .when({ type: 'SetStatus', data: { status: 'pending', at } })
      .then([
        { type: 'StatusChanged', data: { status: { kind: 'pending' }, reason: 'agent', at } },
        { type: 'CycleStarted', data: { cycle: 2, at } },
      ]);
    given(resolved)
      .when({ type: 'SnoozeConversation', data: { until: at + HOUR, now: at } })
      .then([
        {
          type: 'StatusChanged',
          data: { status: { kind: 'snoozed', until: at + HOUR }, reason: 'agent', at },
        },
        { type: 'CycleStarted', data: { cycle: 2, at } },
      ]);
  });

  it('[CY4] a duplicate of an old message does not reopen a resolved conversation', () => {
    given(resolved).when(inbound('m1', T0)).thenNothingHappens();
  });

  it('[CY4] status changes within a cycle leave the cycle alone', () => {
    given(started())
      .when({ type: 'SetStatus', data: { status: 'pending', at: T0 } })
      .then([{ type: 'StatusChanged', data: { status: { kind: 'pending' }, reason: 'agent', at: T0 } }]);
  });

  it('[CY3] cycles count up across several resolutions', () => {
    const at = T0 + 3 * HOUR;
    given([
      ...resolved,
      { type: 'StatusChanged', data: { status: { kind: 'open' }, reason: 'agent', at } },
      { type: 'CycleStarted', data: { cycle: 2, at } },
    ])
      .when({ type: 'SetStatus', data: { status: 'resolved', at } })
      .then([
        { type: 'StatusChanged', data: { status: { kind: 'resolved' }, reason: 'agent', at } },
        { type: 'CycleEnded', data: { cycle: 2, at } },
      ]);
  });
});
