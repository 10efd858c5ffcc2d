import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';

export const ANA = { tenantId: 'demo', email: 'ana@demo.parley.test', password: 'parley-demo-agent' };
export const ADA = { tenantId: 'demo', email: 'ada@demo.parley.test', password: 'parley-demo-admin' };

/** Signs in through the form and waits for the inbox to list the demo conversations. */
export async function signIn(page: Page, account = ANA): Promise<void> {
  await page.getByLabel('Workspace').fill(account.tenantId);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await listRow(page, 'Maria Lopez');
  await page.getByTestId('conversation-list').evaluate((list) => list.scrollTo(0, 0));
}

/** Waits until a service worker controls the page, reloading once if it activated without claiming it. */
export async function waitForServiceWorkerControl(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = () => navigator.serviceWorker.controller !== null;
  const claimed = await page.waitForFunction(controlled, undefined, { timeout: 5_000 }).then(
    () => true,
    () => false,
  );
  if (!claimed) {
    await page.reload();
    await page.waitForFunction(controlled);
  }
}

/** Fails with the list of violations if axe-core finds any WCAG 2.1 A/AA problem on the page. */
export async function expectNoAxeViolations(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary, `axe violations on ${screen}`).toEqual([]);
}

/** Axe's WCAG 2.1 A/AA checks on one part of the page, in the light and the dark scheme. */
export async function axeLightAndDark(page: Page, selector: string, what: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page })
      .include(selector)
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const summary = results.violations.map(
      (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
    expect(summary, `axe violations on ${what} (${colorScheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * A conversation's row in the list, scrolled into view as an agent would scroll to it: the list
 * draws only the rows on screen, and the browser suites share one server whose list keeps growing.
 */
export async function listRow(page: Page, contact: string): Promise<Locator> {
  const scroller = page.getByTestId('conversation-list');
  const link = scroller.getByRole('link', { name: new RegExp(contact) }).first();
  await expect(async () => {
    if ((await link.count()) === 0) {
      await scroller.evaluate((list) => {
        const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 1;
        list.scrollTop = atEnd ? 0 : list.scrollTop + list.clientHeight * 0.8;
      });
    }
    await expect(link).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  return link;
}

/** Opens a conversation from the list. */
export async function openConversation(page: Page, contact: string): Promise<void> {
  await (await listRow(page, contact)).click();
  await expect(page.getByRole('heading', { level: 2, name: contact })).toBeVisible();
}

/** Types a reply and sends it; it shows at once. */
export async function sendReply(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Reply' }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.locator('.message.reply', { hasText: text })).toBeVisible();
}

/** The server's view: reply texts queued in a conversation, in the order it queued them. */
export async function serverReplies(
  request: APIRequestContext,
  conversationId: string,
  prefix: string,
): Promise<string[]> {
  const texts: string[] = [];
  let afterVersion = 0;
  for (;;) {
    const input = encodeURIComponent(JSON.stringify({ conversationId, afterVersion }));
    const response = await request.get(`/trpc/conversations.get?input=${input}`);
    expect(response.ok()).toBe(true);
    const body = (await response.json()) as {
      result: {
        data: {
          events: {
            version: number;
            type: string;
            data: { content?: { type: string; text?: string; name?: string } };
          }[];
        };
      };
    };
    const events = body.result.data.events;
    for (const event of events) {
      if (event.type !== 'ReplyQueued') continue;
      const content = event.data.content;
      const text = content?.type === 'text' ? content.text : `template:${content?.name}`;
      if (text?.startsWith(prefix)) texts.push(text);
    }
    if (events.length < 500) return texts;
    afterVersion = events.at(-1)!.version;
  }
}

/** Signs an API client in (for checking the server's side). */
export async function signInApi(request: APIRequestContext, account = ADA): Promise<void> {
  const response = await request.post('/trpc/auth.signIn', { data: account });
  expect(response.ok()).toBe(true);
}

/** The number of replies waiting in this page's outbox. */
export async function queuedCount(page: Page): Promise<number> {
  return page.locator('.message.reply[data-state="queued"]').count();
}

/** Whether the server records Ana as having read the conversation up to its latest customer message. */
export async function readByAna(request: APIRequestContext, conversationId: string): Promise<boolean> {
  const input = encodeURIComponent(JSON.stringify({ conversationId, afterVersion: 0 }));
  const response = await request.get(`/trpc/conversations.get?input=${input}`);
  const body = (await response.json()) as {
    result: {
      data: { events: { type: string; data: { sentAt?: number; agentId?: string; upTo?: number } }[] };
    };
  };
  const events = body.result.data.events;
  const latest = Math.max(
    ...events
      .filter((event) => event.type === 'InboundMessageReceived')
      .map((event) => event.data.sentAt ?? 0),
  );
  return events.some(
    (event) =>
      event.type === 'ConversationRead' && event.data.agentId === 'ana' && (event.data.upTo ?? 0) >= latest,
  );
}
