import type { ConversationEvent, ReceiveInboundMessage } from '../conversation/types';
import type { WorkflowDefinition } from '../workflow/types';
import type { InboundContent, MediaRef, Platform, ReplyContent, ReplyContext } from '../platforms/policy';

export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const contact = { id: 'contact-1', name: 'Ada', handle: '+4915112345678' };

export function text(value: string): ReplyContent & InboundContent {
  return { type: 'text', text: value };
}

export function media(kind: MediaRef['kind'], mime: string, size: number): ReplyContent {
  return { type: 'media', media: { kind, url: `https://cdn.example/${kind}`, mime, size }, caption: null };
}

export function template(name: string, params: string[], language = 'en'): ReplyContent {
  return { type: 'template', name, language, params };
}

/** A reply one hour after the customer's message, with an empty catalogue unless given. */
export function replyContext(content: ReplyContent, overrides: Partial<ReplyContext> = {}): ReplyContext {
  return { content, tag: null, lastCustomerMessageAt: T0, now: T0 + HOUR, templates: [], ...overrides };
}

export function inbound(
  externalMessageId: string,
  sentAt: number,
  platform: Platform = 'whatsapp',
): ReceiveInboundMessage {
  return {
    type: 'ReceiveInboundMessage',
    data: {
      conversationId: 'conv-1',
      inboxId: 'inbox-1',
      platform,
      externalMessageId,
      contact,
      content: text('hello'),
      sentAt,
    },
  };
}

/** The events of a conversation started by one customer message `m1` at `at`. */
export function started(platform: Platform = 'whatsapp', at = T0): ConversationEvent[] {
  return [
    {
      type: 'ConversationStarted',
      data: { conversationId: 'conv-1', inboxId: 'inbox-1', platform, contact, at },
    },
    { type: 'CycleStarted', data: { cycle: 1, at } },
    received('m1', at),
  ];
}

export function received(
  externalMessageId: string,
  sentAt: number,
  content: InboundContent = text('hello'),
): ConversationEvent {
  return {
    type: 'InboundMessageReceived',
    data: { externalMessageId, contact, content, sentAt },
  };
}

export function queued(
  clientMessageId: string,
  queuedAt: number,
  content: ReplyContent = text('on it'),
): ConversationEvent {
  return { type: 'ReplyQueued', data: { clientMessageId, agentId: 'agent-1', content, tag: null, queuedAt } };
}

export function sent(clientMessageId: string, at: number): ConversationEvent {
  return { type: 'ReplySent', data: { clientMessageId, platformMessageId: `wamid.${clientMessageId}`, at } };
}

/** New -> Triage -> Doing (WIP 2, assigns) -> Done (resolves); Done may go back to Triage. */
export const board: WorkflowDefinition = {
  workflowId: 'wf-1',
  name: 'Support',
  stages: [
    { id: 'new', name: 'New', wipLimit: null, entryActions: [{ type: 'add-label', label: 'untriaged' }] },
    { id: 'triage', name: 'Triage', wipLimit: null, entryActions: [] },
    { id: 'doing', name: 'Doing', wipLimit: 2, entryActions: [{ type: 'assign' }] },
    { id: 'done', name: 'Done', wipLimit: null, entryActions: [{ type: 'set-status', status: 'resolved' }] },
  ],
  transitions: [
    { from: 'new', to: 'triage' },
    { from: 'triage', to: 'doing' },
    { from: 'doing', to: 'done' },
    { from: 'done', to: 'triage' },
  ],
};
