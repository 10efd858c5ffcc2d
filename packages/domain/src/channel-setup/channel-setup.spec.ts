import { describe, expect, it } from 'vitest';
import {
  channelNameProblem,
  checkWidgetSettings,
  credentialProblems,
  decideConnectChannel,
  DEFAULT_WIDGET_SETTINGS,
  isOriginAllowed,
  normalizeOrigin,
} from './rules';

const WHATSAPP = {
  phoneNumberId: '100000000000009',
  accessToken: 'EAAG-long-lived-token',
  appSecret: 'a1b2c3d4e5f6a7b8c9d0',
};

describe('credentials', () => {
  it('[CS1] each platform needs its own fields: each missing one is named, a malformed one too', () => {
    expect(credentialProblems('whatsapp', WHATSAPP)).toEqual([]);
    expect(
      credentialProblems('whatsapp', { ...WHATSAPP, appSecret: ' ' }).map((p) => [p.code, p.field]),
    ).toEqual([['CREDENTIALS_MISSING', 'appSecret']]);
    expect(credentialProblems('messenger', {}).map((p) => p.field)).toEqual([
      'pageId',
      'accessToken',
      'appSecret',
    ]);
    expect(
      credentialProblems('instagram', { accountId: '12345', accessToken: 'tok-12345678', appSecret: 'x' }),
    ).toMatchObject([{ code: 'CREDENTIALS_MALFORMED', field: 'appSecret', rule: 'CS1' }]);
    expect(credentialProblems('telegram', { botToken: '123456:ABCdefGHIjkl_-' })).toEqual([]);
    expect(credentialProblems('telegram', { botToken: 'not a token' })[0]).toMatchObject({
      code: 'CREDENTIALS_MALFORMED',
      field: 'botToken',
    });
    expect(credentialProblems('webchat', {})).toEqual([]);
  });
});

describe('names', () => {
  it('[CS2] a name is 1 to 80 characters and unique in the tenant without regard to case', () => {
    expect(channelNameProblem('Support line', ['Sales'])).toBeNull();
    expect(channelNameProblem('  support LINE ', ['Support line'])).toMatchObject({
      code: 'CHANNEL_NAME_TAKEN',
    });
    expect(channelNameProblem('   ', [])).toMatchObject({ code: 'CHANNEL_NAME_INVALID' });
    expect(channelNameProblem('x'.repeat(81), [])).toMatchObject({ code: 'CHANNEL_NAME_INVALID' });
  });
});

describe('origins', () => {
  it('[CS3] an origin is scheme, host and port only, normalised; anything else is not one', () => {
    expect(normalizeOrigin('https://Shop.Example.com')).toBe('https://shop.example.com');
    expect(normalizeOrigin('https://shop.example.com:443/')).toBe('https://shop.example.com');
    expect(normalizeOrigin('http://localhost:8080')).toBe('http://localhost:8080');
    expect(normalizeOrigin('http://127.0.0.1:80')).toBe('http://127.0.0.1');
    for (const bad of [
      'shop.example.com',
      'https://shop.example.com/path',
      'https://shop.example.com?q=1',
      'ftp://shop.example.com',
      'https://*.example.com',
      'https://user@shop.example.com',
      'https://shop.example.com:99999',
      'javascript:alert(1)',
      '',
    ]) {
      expect(normalizeOrigin(bad), bad).toBeNull();
    }
  });

  it('[CS5] with a list, a post is taken from its origins and the server’s own pages only; without one, from any', () => {
    const allowed = ['https://shop.example.com'];
    expect(isOriginAllowed('https://elsewhere.example', [], null)).toBe(true);
    expect(isOriginAllowed('https://SHOP.example.com', allowed, null)).toBe(true);
    expect(isOriginAllowed('https://elsewhere.example', allowed, null)).toBe(false);
    expect(isOriginAllowed('null', allowed, null)).toBe(false);
    expect(isOriginAllowed('http://127.0.0.1:3000', allowed, 'http://127.0.0.1:3000')).toBe(true);
    expect(isOriginAllowed(undefined, allowed, null)).toBe(true);
  });
});

describe('widget settings', () => {
  it('[CS4] a colour is #rrggbb, a greeting at most 280 characters, origins at most 20 and each an origin', () => {
    const ok = checkWidgetSettings({
      ...DEFAULT_WIDGET_SETTINGS,
      colour: '#AA3366',
      greeting: '  Hello  ',
      allowedOrigins: ['https://Shop.example.com', 'https://shop.example.com:443'],
    });
    expect(ok).toEqual({
      ok: true,
      settings: {
        ...DEFAULT_WIDGET_SETTINGS,
        colour: '#aa3366',
        greeting: 'Hello',
        allowedOrigins: ['https://shop.example.com'],
      },
    });
    const bad = checkWidgetSettings({
      ...DEFAULT_WIDGET_SETTINGS,
      colour: 'red',
      greeting: 'x'.repeat(281),
      allowedOrigins: ['shop.example.com'],
    });
    expect(bad.ok ? [] : bad.problems.map((p) => [p.code, p.field])).toEqual([
      ['WIDGET_INVALID', 'colour'],
      ['WIDGET_INVALID', 'greeting'],
      ['ORIGIN_INVALID', 'allowedOrigins'],
    ]);
    const many = checkWidgetSettings({
      ...DEFAULT_WIDGET_SETTINGS,
      allowedOrigins: Array.from({ length: 21 }, (_, i) => `https://s${i}.example`),
    });
    expect(many.ok).toBe(false);
  });
});

describe('connecting a channel', () => {
  const command = {
    channelId: 'whatsapp-2',
    appId: 'app-2',
    platform: 'whatsapp' as const,
    name: ' Sales line ',
    inboxId: 'support',
    target: 'simulator' as const,
    credentials: WHATSAPP,
    by: 'ada',
    at: 1000,
  };

  it('[CS6] the event names the credential fields saved and never their values', () => {
    const decided = decideConnectChannel(command, ['Support']);
    expect(decided).toMatchObject({
      ok: true,
      event: {
        type: 'ChannelConnected',
        data: { name: 'Sales line', credentials: ['phoneNumberId', 'accessToken', 'appSecret'], by: 'ada' },
      },
    });
    const text = JSON.stringify(decided);
    for (const value of Object.values(WHATSAPP)) expect(text).not.toContain(value);
  });

  it('[CS6] a taken name and missing credentials are refused together, with no event', () => {
    const decided = decideConnectChannel({ ...command, credentials: {} }, ['sales LINE']);
    expect(decided.ok).toBe(false);
    expect(decided.ok ? [] : decided.problems.map((p) => p.code)).toEqual([
      'CHANNEL_NAME_TAKEN',
      'CREDENTIALS_MISSING',
      'CREDENTIALS_MISSING',
      'CREDENTIALS_MISSING',
    ]);
  });
});
