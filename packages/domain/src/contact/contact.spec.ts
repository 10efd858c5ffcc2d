import { describe, expect, it } from 'vitest';
import { contact } from './decider';

describe('a contact', () => {
  it('[CT1] an erasure names its reason; a blank one is refused with ERASURE_REASON_REQUIRED', () => {
    const erase = (reason: string) =>
      contact.decide(
        { type: 'EraseContact', data: { reason, erasedBy: 'agent-1', conversations: ['c1'], at: 5 } },
        contact.initialState(),
      );
    expect(() => erase('   ')).toThrow(expect.objectContaining({ code: 'ERASURE_REASON_REQUIRED' }));
    const events = erase(' GDPR art. 17 request ');
    expect(events).toEqual([
      {
        type: 'ContactErased',
        data: { reason: 'GDPR art. 17 request', erasedBy: 'agent-1', conversations: ['c1'], at: 5 },
      },
    ]);
    expect(events.reduce((state, event) => contact.evolve(state, event), contact.initialState())).toEqual({
      erasures: 1,
      lastErasedAt: 5,
    });
  });
});
