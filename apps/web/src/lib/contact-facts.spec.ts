import { describe, expect, it } from 'vitest';
import { contactFacts, contactReach, shortPage } from './contact-facts';

const visitor = { id: 'v-1', name: 'Visitor tTKX', handle: '' };

describe('what the contact panel says about a contact', () => {
  it('never leaves a web-chat visitor without a line: their e-mail, else the page, else "Web visitor"', () => {
    expect(contactReach('webchat', visitor)).toBe('Web visitor');
    expect(contactReach('webchat', { ...visitor, page: 'https://shop.example/pricing?x=1#top' })).toBe(
      'Web visitor on shop.example/pricing',
    );
    expect(
      contactReach('webchat', { ...visitor, email: 'vi@example.org', page: 'https://shop.example/' }),
    ).toBe('vi@example.org');
  });

  it('gives a WhatsApp contact’s number as a phone link, and a visitor’s e-mail and page as links', () => {
    expect(contactFacts('whatsapp', { id: '34600', name: 'Maria', handle: '+34 600 111 222' })).toEqual([
      { label: 'Phone', value: '+34 600 111 222', href: 'tel:+34600111222' },
    ]);
    expect(
      contactFacts('webchat', { ...visitor, email: 'vi@example.org', page: 'https://shop.example/pricing' }),
    ).toEqual([
      { label: 'E-mail', value: 'vi@example.org', href: 'mailto:vi@example.org' },
      { label: 'Page', value: 'shop.example/pricing', href: 'https://shop.example/pricing' },
    ]);
  });

  it('links only http(s) pages; another scheme is shown as text', () => {
    expect(contactFacts('webchat', { ...visitor, page: 'javascript:alert(1)' })).toContainEqual({
      label: 'Page',
      value: 'javascript:alert(1)',
    });
    expect(shortPage('not a url')).toBe('not a url');
  });
});
