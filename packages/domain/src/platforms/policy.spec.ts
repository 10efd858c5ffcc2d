import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY, media, replyContext, T0, template, text } from '../testing/fixtures';
import { instagram } from './instagram';
import { platformPolicies, policyFor } from './policies';
import { effectiveTag, validateReply, type Platform } from './policy';
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
});
