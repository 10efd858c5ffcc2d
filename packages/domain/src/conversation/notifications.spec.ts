import { describe, expect, it } from 'vitest';
import { T0, received } from '../testing/fixtures';
import {
  DEFAULT_NOTIFICATION_PREFERENCES,
  notificationsDue,
  wantsNotification,
  type NotificationContext,
} from './notifications';
import type { ConversationEvent } from './types';

const context = (assigneeId: string | null, actorId: string | null = null): NotificationContext => ({
  assigneeId,
  actorId,
});
const assigned = (agentId: string): ConversationEvent => ({
  type: 'ConversationAssigned',
  data: { agentId, at: T0 },
});
const note = (agentId: string, mentions: string[]): ConversationEvent => ({
  type: 'NoteAdded',
  data: { noteId: 'n1', agentId, text: 'see', mentions, at: T0 },
});

describe('who is told about a conversation event', () => {
  it('[NT1] tells the agent a conversation is assigned to, unless they assigned it themselves', () => {
    expect(notificationsDue(assigned('ben'), context(null, 'ana'))).toEqual([
      { agentId: 'ben', trigger: 'assigned' },
    ]);
    expect(notificationsDue(assigned('ben'), context(null, null))).toEqual([
      { agentId: 'ben', trigger: 'assigned' },
    ]);
    expect(notificationsDue(assigned('ben'), context(null, 'ben'))).toEqual([]);
  });

  it('[NT2] tells the assignee when the customer writes, and nobody when it is unassigned', () => {
    expect(notificationsDue(received('m2', T0), context('ana'))).toEqual([
      { agentId: 'ana', trigger: 'customer_replied' },
    ]);
    expect(notificationsDue(received('m2', T0), context(null))).toEqual([]);
  });

  it('[NT3] tells each agent a note mentions, once, and never its author', () => {
    expect(notificationsDue(note('ana', ['ben', 'ana', 'ben', 'chloe']), context('ana', 'ana'))).toEqual([
      { agentId: 'ben', trigger: 'mentioned' },
      { agentId: 'chloe', trigger: 'mentioned' },
    ]);
    expect(notificationsDue(note('ana', []), context('ben', 'ana'))).toEqual([]);
  });

  it('[NT1] [NT2] [NT3] tells nobody about other events (replies, labels, read marks)', () => {
    const others: ConversationEvent[] = [
      { type: 'LabelAdded', data: { label: 'vip', at: T0 } },
      { type: 'ConversationRead', data: { agentId: 'ben', upTo: T0, at: T0 } },
      { type: 'ConversationUnassigned', data: { agentId: 'ben', at: T0 } },
    ];
    for (const event of others) expect(notificationsDue(event, context('ben'))).toEqual([]);
  });

  it('[NT4] an agent is told only of the triggers they keep on; all are on at first', () => {
    expect(wantsNotification(DEFAULT_NOTIFICATION_PREFERENCES, 'assigned')).toBe(true);
    expect(wantsNotification(DEFAULT_NOTIFICATION_PREFERENCES, 'customer_replied')).toBe(true);
    expect(wantsNotification(DEFAULT_NOTIFICATION_PREFERENCES, 'mentioned')).toBe(true);
    const quiet = { ...DEFAULT_NOTIFICATION_PREFERENCES, mentioned: false };
    expect(wantsNotification(quiet, 'mentioned')).toBe(false);
    expect(wantsNotification(quiet, 'assigned')).toBe(true);
  });
});
