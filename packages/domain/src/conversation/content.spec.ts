import { describe, expect, it } from 'vitest';
import type { InboundContent } from '../platforms/policy';
import { contact, inbound, started, T0 } from '../testing/fixtures';
import { spec } from '../testing/spec';
import { contentLine } from './content';
import { conversation } from './decider';
import type { ConversationCommand, ConversationEvent } from './types';

const given = (events: ConversationEvent[]) => spec(conversation).given(events);
const receive = (content: InboundContent, id = 'm2'): ConversationCommand => {
  const command = inbound(id, T0 + 1_000);
  return { ...command, data: { ...command.data, content } };
};

describe('a started conversation receiving every kind of customer message', () => {
  const kinds: InboundContent[] = [
    { type: 'location', latitude: 52.52, longitude: 13.405, name: 'Office', address: 'Berlin' },
    { type: 'reaction', emoji: '👍', messageId: 'wamid.OUR1' },
    { type: 'reaction', emoji: null, messageId: 'wamid.OUR1' },
    { type: 'unsupported', sourceType: 'sticker_pack' },
  ];
  for (const content of kinds) {
    it(`[CV13] stores a ${content.type} message as it is`, () => {
      given(started())
        .when(receive(content))
        .then([
          {
            type: 'InboundMessageReceived',
            data: { externalMessageId: 'm2', contact, content, sentAt: T0 + 1_000 },
          },
        ]);
    });
  }

  it('[CV13] a new conversation may start with an unsupported message', () => {
    const content: InboundContent = { type: 'unsupported', sourceType: 'order' };
    const events = conversation.decide(receive(content, 'm1'), null);
    expect(events.map((event) => event.type)).toEqual([
      'ConversationStarted',
      'CycleStarted',
      'InboundMessageReceived',
    ]);
  });

  const invalid: [string, InboundContent][] = [
    ['a latitude beyond 90', { type: 'location', latitude: 91, longitude: 0, name: null, address: null }],
    [
      'a longitude beyond 180',
      { type: 'location', latitude: 0, longitude: -180.5, name: null, address: null },
    ],
    [
      'a coordinate that is not a number',
      { type: 'location', latitude: Number.NaN, longitude: 0, name: null, address: null },
    ],
    ['a reaction to no message', { type: 'reaction', emoji: '👍', messageId: ' ' }],
    ['a reaction with an empty emoji', { type: 'reaction', emoji: '', messageId: 'wamid.1' }],
    ['an unsupported message without its type', { type: 'unsupported', sourceType: '' }],
  ];
  for (const [what, content] of invalid) {
    it(`[CV13] refuses ${what} with CONTENT_INVALID and records nothing`, () => {
      given(started()).when(receive(content)).thenThrows('CONTENT_INVALID', 'CV13');
    });
  }
});

describe('contentLine', () => {
  it('[CV13] shows each kind in one line, unsupported ones by their platform type', () => {
    expect(
      contentLine({ type: 'location', latitude: 1.5, longitude: -2, name: 'Shop', address: 'Main St 1' }),
    ).toBe('📍 Shop, Main St 1 (1.5, -2)');
    expect(contentLine({ type: 'location', latitude: 1, longitude: 2, name: null, address: null })).toBe(
      '📍 (1, 2)',
    );
    expect(contentLine({ type: 'reaction', emoji: '❤️', messageId: 'x' })).toBe('Reacted ❤️');
    expect(contentLine({ type: 'reaction', emoji: null, messageId: 'x' })).toBe('Removed a reaction');
    expect(contentLine({ type: 'unsupported', sourceType: 'contacts' })).toBe(
      'Unsupported message (contacts)',
    );
    expect(
      contentLine({ type: 'template', name: 'order_update', language: 'en', params: ['Ada', '#1'] }),
    ).toBe('Template order_update (Ada, #1)');
  });
});

describe('a message of a known type with a field of the wrong JSON type', () => {
  const content: InboundContent = { type: 'unsupported', sourceType: 'text', raw: '{"body":{"oops":1}}' };

  it('[TX2] is stored as unsupported with its raw value, never as other text', () => {
    given(started())
      .when(receive(content))
      .then([
        {
          type: 'InboundMessageReceived',
          data: { externalMessageId: 'm2', contact, content, sentAt: T0 + 1_000 },
        },
      ]);
  });

  it('[TX2] is shown with the raw value, so the agent sees what was sent', () => {
    expect(contentLine(content)).toBe('Unsupported message (text): {"body":{"oops":1}}');
  });
});
