import type { Contact, Platform } from '@parley/domain';

/** One fact about a contact for the contact panel: a label, a value, and a link when it is one. */
export interface ContactFact {
  readonly label: string;
  readonly value: string;
  readonly href?: string;
}

const SAFE_LINK = /^https?:\/\//i;

/** A page address without its scheme, query or fragment: `shop.example/pricing`. */
export function shortPage(page: string): string {
  if (!SAFE_LINK.test(page)) return page;
  try {
    const url = new URL(page);
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return page;
  }
}

/**
 * How to reach a contact, in one line beside the channel: the phone number or handle, and for a
 * web-chat visitor (who has neither) their e-mail, else "Web visitor" and the page they wrote from.
 * Never empty.
 */
export function contactReach(platform: Platform, contact: Contact): string {
  const handle = contact.handle.trim();
  if (platform !== 'webchat') return handle || 'no handle given';
  if (contact.email) return contact.email;
  if (handle && handle !== 'Web visitor') return handle;
  return contact.page ? `Web visitor on ${shortPage(contact.page)}` : 'Web visitor';
}

/** What the contact panel lists about a contact beyond their name (#15 item 13). */
export function contactFacts(platform: Platform, contact: Contact): ContactFact[] {
  const facts: ContactFact[] = [];
  const handle = contact.handle.trim();
  if (platform === 'whatsapp' && handle)
    facts.push({ label: 'Phone', value: handle, href: `tel:${handle.replace(/[^\d+]/g, '')}` });
  else if (platform !== 'webchat' && handle) facts.push({ label: 'Handle', value: handle });
  if (contact.email) facts.push({ label: 'E-mail', value: contact.email, href: `mailto:${contact.email}` });
  if (contact.page) {
    const page = { label: 'Page', value: shortPage(contact.page) };
    facts.push(SAFE_LINK.test(contact.page) ? { ...page, href: contact.page } : page);
  }
  if (platform === 'webchat' && !contact.email)
    facts.push({ label: 'Visitor', value: 'Web visitor (no e-mail given)' });
  return facts;
}
