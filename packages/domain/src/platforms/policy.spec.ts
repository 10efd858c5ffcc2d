import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, media, MINUTE, replyContext, T0, template, text } from '../testing/fixtures';
import { instagram } from './instagram';
import { messenger } from './messenger';
import { platformPolicies, policyFor } from './policies';
import {
  checkWindow,
  effectiveTag,
  humanAgentDeadline,
  validateReply,
  type Platform,
  type PlatformPolicy,
} from './policy';
import { telegram } from './telegram';
import { whatsapp } from './whatsapp';

const platforms = Object.keys(platformPolicies) as Platform[];

describe('every platform', () => {
  it.each(platforms)('[PL1] a blank reply is refused on %s', (platform) => {
    for (const blank of ['', '  \n\t']) {
      expect(validateReply(policyFor(platform), replyContext(text(blank)))).toMatchObject({
        code: 'TEXT_EMPTY',
        rule: 'PL1',
      });
    }
  });

  it('[PL2] template support is checked before the window, and the window before the content', () => {
    const late = { now: T0 + 30 * DAY };
    expect(validateReply(instagram, replyContext(template('t', []), late))).toMatchObject({
      code: 'TEMPLATE_NOT_SUPPORTED',
    });
    expect(validateReply(whatsapp, replyContext(text('a'.repeat(5000)), late))).toMatchObject({
      code: 'WINDOW_CLOSED',
    });
    expect(validateReply(whatsapp, replyContext(media('image', 'image/gif', 1), late))).toMatchObject({
      code: 'WINDOW_CLOSED',
    });
  });

  it('[PL2] every refusal names a rule, a message and a hint', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...platforms),
        fc.string({ maxLength: 20 }),
        fc.option(fc.integer({ min: 0, max: 10 * DAY })),
        fc.constantFrom('HUMAN_AGENT' as const, null),
        (platform, body, age, tag) => {
          const check = validateReply(
            policyFor(platform),
            replyContext(text(body), { tag, lastCustomerMessageAt: age === null ? null : T0 - age, now: T0 }),
          );
          if (!check.ok)
            expect([check.rule, check.message, check.hint].every((s) => s.length > 0)).toBe(true);
        },
      ),
    );
  });

  it('[PL3] the HUMAN_AGENT tag is dropped where the platform has no human-agent window', () => {
    expect(effectiveTag(whatsapp, 'HUMAN_AGENT')).toBeNull();
    expect(effectiveTag(telegram, 'HUMAN_AGENT')).toBeNull();
    expect(effectiveTag(instagram, 'HUMAN_AGENT')).toBe('HUMAN_AGENT');
    expect(
      validateReply(whatsapp, replyContext(text('hi'), { tag: 'HUMAN_AGENT', now: T0 + 2 * DAY })),
    ).toMatchObject({
      code: 'WINDOW_CLOSED',
    });
  });

  it('[PL4] MIME types match case-insensitively and without parameters', () => {
    expect(validateReply(whatsapp, replyContext(media('audio', 'Audio/OGG; codecs=opus', 1)))).toEqual({
      ok: true,
    });
  });

  it('[PL4] spaces around the MIME type and before its parameters are ignored', () => {
    for (const mime of ['audio/ogg ; codecs=opus', ' image/png', 'image/PNG ']) {
      const kind = mime.includes('audio') ? 'audio' : 'image';
      expect(validateReply(whatsapp, replyContext(media(kind, mime, 1))), mime).toEqual({ ok: true });
    }
  });

  it('[PL3] a platform without a human-agent window has no human-agent deadline, nor one before the customer wrote', () => {
    expect(humanAgentDeadline(whatsapp, T0)).toBeNull();
    expect(humanAgentDeadline(telegram, T0)).toBeNull();
    expect(humanAgentDeadline(instagram, null)).toBeNull();
  });
});

describe('what a refusal tells the agent', () => {
  it('[PL2] a closed window says how long ago the customer wrote, in hours below 2 days, then in days', () => {
    expect(validateReply(whatsapp, replyContext(text('hi'), { now: T0 + 30 * HOUR }))).toMatchObject({
      message: "WhatsApp's 24 h window is closed: the customer last wrote 30 h ago",
    });
    expect(
      validateReply(instagram, replyContext(text('hi'), { now: T0 + 48 * HOUR - MINUTE })),
    ).toMatchObject({
      message: "Instagram's 24 h window is closed: the customer last wrote 47 h ago",
      hint: "tag the reply HUMAN_AGENT: a human agent may answer up to 7 days after the customer's last message",
    });
    expect(validateReply(instagram, replyContext(text('hi'), { now: T0 + 48 * HOUR }))).toMatchObject({
      message: "Instagram's 24 h window is closed: the customer last wrote 2 days ago",
    });
    expect(
      validateReply(messenger, replyContext(text('hi'), { now: T0 + 9 * DAY - MINUTE, tag: 'HUMAN_AGENT' })),
    ).toMatchObject({
      message:
        "Messenger allows no reply, even from a human agent, more than 7 days after the customer's last message: the customer last wrote 8 days ago",
    });
  });

  it('[PL2] a closed window before the customer ever wrote says so instead of a time', () => {
    expect(validateReply(whatsapp, replyContext(text('hi'), { lastCustomerMessageAt: null }))).toMatchObject({
      message: "WhatsApp's 24 h window is closed: the customer has not written yet",
    });
  });

  it('[PL2] with a window but neither templates nor a human-agent tag, the agent is told to wait; spans under an hour read in minutes, an hour as 1 h', () => {
    // Policies are data: a platform shaped like this must not be told to send a template.
    const pager: PlatformPolicy = { ...telegram, name: 'Pager', window: { ms: 30 * MINUTE, rule: 'TG1' } };
    expect(validateReply(pager, replyContext(text('hi'), { now: T0 + 45 * MINUTE }))).toMatchObject({
      code: 'WINDOW_CLOSED',
      message: "Pager's 30 min window is closed: the customer last wrote 45 min ago",
      hint: 'wait for the customer to write again',
    });
    expect(validateReply(pager, replyContext(text('hi'), { now: T0 + HOUR }))).toMatchObject({
      message: "Pager's 30 min window is closed: the customer last wrote 1 h ago",
    });
  });

  it('[PL2] a template on a platform without templates points to a text or media reply', () => {
    expect(validateReply(instagram, replyContext(template('order_update', [])))).toMatchObject({
      message: 'Instagram has no message templates',
      hint: 'send a text or media reply instead',
    });
  });
});

describe('a reply queued earlier, re-checked when it is sent', () => {
  const queued = { content: text('hi'), tag: null, lastCustomerMessageAt: T0 } as const;

  it('[CV6] checkWindow passes while the window is open and refuses from the moment it closes', () => {
    expect(checkWindow(whatsapp, { ...queued, now: T0 + DAY - 1 })).toEqual({ ok: true });
    expect(checkWindow(whatsapp, { ...queued, now: T0 + DAY })).toMatchObject({
      ok: false,
      code: 'WINDOW_CLOSED',
      rule: 'WA2',
      hint: 'send an approved template',
    });
  });

  it('[CV6] checkWindow looks only at the window: content checked when queued is not judged again', () => {
    expect(checkWindow(whatsapp, { ...queued, content: text('a'.repeat(5000)), now: T0 + HOUR })).toEqual({
      ok: true,
    });
  });
});
