// Test support (not exported by the package): drives the conversation decider with commands, as
// people, bots and customers would, and folds what it decides into the metrics.
import { conversation } from '../conversation/decider';
import type { ConversationCommand, Priority } from '../conversation/types';
import type { Actor } from '../shared/envelope';
import type { EpochMs } from '../shared/ids';
import type { BusinessSchedule } from './business-hours';
import { evolveMetrics, initialMetricsState, type MetricsEvent, type MetricsState } from './metrics';

const contact = { id: 'contact-1', name: 'Ada', handle: 'ada@example.com' };
const AGENT: Actor = { kind: 'agent', id: 'agent-1' };
const BOT: Actor = { kind: 'system', id: 'bot-greeter' };
const CUSTOMER: Actor = { kind: 'customer', id: contact.id };

/** A conversation's history built from commands: `scenario().customer('m1', t).reply('r1', t + 5 * MINUTE)...`. */
export function scenario(schedule: BusinessSchedule | null = null) {
  let state = conversation.initialState();
  let metrics = initialMetricsState(schedule);
  const log: { event: MetricsEvent; actor: Actor }[] = [];

  const run = (command: ConversationCommand, actor: Actor) => {
    for (const event of conversation.decide(command, state)) {
      state = conversation.evolve(state, event);
      metrics = evolveMetrics(metrics, event, actor);
      log.push({ event, actor });
    }
    return builder;
  };

  const builder = {
    customer(externalMessageId: string, sentAt: EpochMs) {
      return run(
        {
          type: 'ReceiveInboundMessage',
          data: {
            conversationId: 'conv-1',
            inboxId: 'inbox-1',
            platform: 'webchat',
            externalMessageId,
            contact,
            content: { type: 'text', text: 'hello' },
            sentAt,
          },
        },
        CUSTOMER,
      );
    },
    /** A person's reply (an agent actor). */
    reply(clientMessageId: string, now: EpochMs, agentId = AGENT.id) {
      const command: ConversationCommand = {
        type: 'QueueReply',
        data: {
          clientMessageId,
          agentId,
          content: { type: 'text', text: 'on it' },
          tag: null,
          now,
          templates: [],
        },
      };
      return run(command, { kind: 'agent', id: agentId });
    },
    /** A bot's or the system's reply (a system actor). */
    botReply(clientMessageId: string, now: EpochMs) {
      const command: ConversationCommand = {
        type: 'QueueReply',
        data: {
          clientMessageId,
          agentId: BOT.id,
          content: { type: 'text', text: 'hi!' },
          tag: null,
          now,
          templates: [],
        },
      };
      return run(command, BOT);
    },
    failReply(clientMessageId: string, at: EpochMs) {
      return run({ type: 'MarkReplyFailed', data: { clientMessageId, reason: 'PLATFORM_ERROR', at } }, BOT);
    },
    status(status: 'open' | 'pending' | 'resolved', at: EpochMs) {
      return run({ type: 'SetStatus', data: { status, at } }, AGENT);
    },
    snooze(until: EpochMs, now: EpochMs) {
      return run({ type: 'SnoozeConversation', data: { until, now } }, AGENT);
    },
    wake(now: EpochMs) {
      return run({ type: 'WakeConversation', data: { now } }, BOT);
    },
    assign(agentId: string, at: EpochMs) {
      return run({ type: 'AssignConversation', data: { agentId, at } }, AGENT);
    },
    note(noteId: string, at: EpochMs) {
      return run(
        { type: 'AddNote', data: { noteId, agentId: AGENT.id, text: 'looking', mentions: [], at } },
        AGENT,
      );
    },
    priority(priority: Priority, at: EpochMs) {
      return run({ type: 'SetPriority', data: { priority, at } }, AGENT);
    },
    label(label: string, at: EpochMs) {
      return run({ type: 'AddLabel', data: { label, at } }, AGENT);
    },
    /** Folds an event that is not a conversation command's (an `SlaBreached` the server appended). */
    append(event: MetricsEvent) {
      metrics = evolveMetrics(metrics, event, BOT);
      log.push({ event, actor: BOT });
      return builder;
    },
    metrics: (): MetricsState => metrics,
    log: () => log,
  };
  return builder;
}
