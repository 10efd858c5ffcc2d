import type { Grains } from '../grains';

/** What the channels need of the grains: the conversation aggregate, one grain per conversation. */
export type ConversationPort = Pick<Grains, 'conversation'>;
