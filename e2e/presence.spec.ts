import { mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  ANA,
  listRow as findRow,
  openConversation,
  signIn,
  waitForServiceWorkerControl,
} from './support/app';

// Collisions and notifications (#15 items 7 and 8, decision 0026): presence in a conversation, the
// warning before a colliding reply, the unread total in the tab title and the app badge, and a push
// delivered to the service worker through the DevTools protocol.

const BEN = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };
const SHOTS = process.env.PARLEY_SHOTS_DIR ?? 'test-results/presence-shots';

/** A page of its own browser context, signed in; `setAppBadge` calls are recorded in `__badges`. */
async function agentPage(browser: Browser, account: typeof ANA): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const calls: unknown[] = [];
    Object.assign(window, { __badges: calls });
    Object.defineProperty(Navigator.prototype, 'setAppBadge', {
      configurable: true,
      value: (count?: number) => {
        calls.push(count);
        return Promise.resolve();
      },
    });
  });
  const page = await context.newPage();
  await page.goto('/');
  await signIn(page, account);
  return page;
}

/** What the tests use of the service worker's global scope (the e2e project has no WebWorker types). */
interface WorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<unknown[]>;
  };
  readonly NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
  dispatchEvent(event: Event): boolean;
}

/** axe-core (WCAG 2.1 A/AA) on this work's own parts of the screen: other screens have tests of their own. */
async function expectAccessible(page: Page, selectors: readonly string[], screen: string): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  for (const selector of selectors) builder = builder.include(selector);
  const results = await builder.analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary, `axe violations on ${screen}`).toEqual([]);
}

const banner = (page: Page) => page.getByTestId('presence-banner');
const listRow = (page: Page, name: string) => page.getByRole('link', { name: new RegExp(name) });

/** Conversations with an unread badge, counted over the whole list: it draws only the rows on screen. */
async function unreadRows(page: Page): Promise<number> {
  const list = page.getByTestId('conversation-list');
  const seen = new Set<string>();
  await list.evaluate((element) => element.scrollTo(0, 0));
  for (;;) {
    const hrefs = await list
      .locator('a:has(.badge)')
      .evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
    for (const href of hrefs) seen.add(href);
    const atEnd = await list.evaluate((element) => {
      const end = element.scrollTop + element.clientHeight >= element.scrollHeight - 1;
      element.scrollTop += element.clientHeight * 0.8;
      return end;
    });
    if (atEnd) return seen.size;
    await page.waitForTimeout(100);
  }
}

test('[#15 item 7] Ben sees Ana viewing and typing; Ana is warned before a reply that collides with Ben’s', async ({
  browser,
}) => {
  const ana = await agentPage(browser, ANA);
  const ben = await agentPage(browser, BEN);
  await openConversation(ben, 'Tom Baker');
  await openConversation(ana, 'Tom Baker');
  await expect(banner(ben)).toHaveText('Ana Agent is viewing');
  await expect(banner(ana)).toHaveText('Ben Agent is viewing');
  // The list marks the conversation others are in.
  await expect(listRow(ana, 'Tom Baker').locator('.presence-marker')).toContainText('Ben');

  // The reply's words are this run's own, so a rerun against the same server finds only its own.
  const words = `Hi Tom, the new size ${Date.now().toString(36)}`;
  await ana.getByRole('textbox', { name: 'Reply' }).pressSequentially(words);
  await expect(banner(ben)).toHaveText('Ana Agent is typing…');
  await expect(listRow(ben, 'Tom Baker').locator('.presence-marker')).toHaveAttribute('data-typing', 'true');
  await ben.getByRole('textbox', { name: 'Reply' }).pressSequentially('Hello Tom');
  await expect(banner(ana)).toHaveText('Ben Agent is typing…');
  mkdirSync(SHOTS, { recursive: true });
  await ben.screenshot({ path: `${SHOTS}/ben-sees-ana-typing.png` });

  // Ben typed while Ana's reply was open: her Send asks first.
  await ana.getByRole('button', { name: 'Send', exact: true }).click();
  const warning = ana.getByRole('alertdialog');
  await expect(warning).toHaveText(/Ben is replying too — send anyway\?/);
  await ana.screenshot({ path: `${SHOTS}/ana-warned.png` });
  await expectAccessible(
    ana,
    ['.collision-warning', '.presence-banner', '.presence-marker'],
    'the collision warning',
  );
  await expect(ana.locator('.message.reply', { hasText: words })).toHaveCount(0);
  await warning.getByRole('button', { name: 'Send anyway' }).click();
  await expect(ana.locator('.message.reply', { hasText: words })).toBeVisible();
  await expect(warning).toHaveCount(0);

  // Ben closes his tab: his presence goes with it.
  await ben.context().close();
  await expect(banner(ana)).toHaveText('');
  await ana.context().close();
});

test('[#15 item 1] the tab title and the installed app’s badge show the number of unread conversations', async ({
  browser,
}) => {
  const ben = await agentPage(browser, BEN);
  // The total counts every conversation of Ben's with unread messages, whatever its status.
  await ben.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Any status' });
  await expect(ben.getByTestId('conversation-list').locator('a:has(.badge)').first()).toBeVisible();
  const unread = await unreadRows(ben);
  expect(unread).toBeGreaterThan(0);
  await expect(ben).toHaveTitle(`(${unread}) Parley`);
  await expect
    .poll(() => ben.evaluate(() => (window as unknown as { __badges: unknown[] }).__badges.at(-1)))
    .toBe(unread);
  await ben.context().close();
});

test('[#15 item 8] a push delivered to the service worker shows a notification; tapping it opens the conversation', async ({
  browser,
  baseURL,
}) => {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: baseURL });
  const page = await context.newPage();
  await page.goto('/');
  await signIn(page, BEN);
  await waitForServiceWorkerControl(page);
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));

  // The DevTools protocol hands a push message to the registration, as a push service would.
  const cdp = await context.newCDPSession(page);
  const registrationId = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((each) => each.scopeURL === `${baseURL}/` && !each.isDeleted);
      if (ours) resolve(ours.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  // Parley is closed (an open, visible app tells the agent itself and the worker stays quiet).
  await page.goto('about:blank');
  // The worker stays quiet while it sees a visible, focused Parley window: wait until it sees none
  // (the navigation away has reached it), or the push would rightly show nothing.
  await expect
    .poll(() =>
      worker.evaluate(async () => {
        const windows = (await (self as unknown as WorkerScope).clients.matchAll({
          type: 'window',
          includeUncontrolled: true,
        })) as { visibilityState: string; focused: boolean }[];
        return windows.filter((client) => client.visibilityState === 'visible' && client.focused).length;
      }),
    )
    .toBe(0);
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: baseURL!,
    registrationId: await registrationId,
    data: JSON.stringify({
      trigger: 'customer_replied',
      conversationId: 'demo-3',
      title: 'Yuki Tanaka',
      body: 'Is it shipped yet?',
      url: '/c/demo-3',
      tag: 'conversation:demo-3',
    }),
  });
  const shown = () =>
    worker.evaluate(async () =>
      (await (self as unknown as WorkerScope).registration.getNotifications()).map((n: Notification) => ({
        title: n.title,
        body: n.body,
        tag: n.tag,
        data: n.data as unknown,
      })),
    );
  await expect.poll(shown).toEqual([
    {
      title: 'Yuki Tanaka',
      body: 'Is it shipped yet?',
      tag: 'conversation:demo-3',
      data: { url: '/c/demo-3' },
    },
  ]);

  // Parley open again on its inbox. A real tap is the browser's to make; the worker gets the same
  // event here, for the notification it showed.
  await page.goto('/');
  await findRow(page, 'Maria Lopez');
  await worker.evaluate(async () => {
    const scope = self as unknown as WorkerScope;
    const [notification] = await scope.registration.getNotifications();
    scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: notification! }));
  });
  await expect(page).toHaveURL(`${baseURL}/c/demo-3`);
  await expect(page.getByRole('heading', { level: 2, name: 'Yuki Tanaka' })).toBeVisible();
  await expect.poll(shown).toEqual([]);
  await context.close();
});

test('[#15 item 8] the notification settings are accessible, light and dark, desktop and phone', async ({
  browser,
}) => {
  mkdirSync(SHOTS, { recursive: true });
  for (const [viewport, colorScheme] of [
    [{ width: 1280, height: 800 }, 'light'],
    [{ width: 1280, height: 800 }, 'dark'],
    [{ width: 390, height: 844 }, 'light'],
    [{ width: 390, height: 844 }, 'dark'],
  ] as const) {
    const context = await browser.newContext({ viewport, colorScheme, hasTouch: viewport.width < 500 });
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, BEN);
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Notifications' });
    await expect(section.getByRole('checkbox', { name: 'A conversation is assigned to me' })).toBeChecked();
    await section.scrollIntoViewIfNeeded();
    await section.screenshot({ path: `${SHOTS}/settings-${viewport.width}-${colorScheme}.png` });
    await expectAccessible(
      page,
      ['.notification-settings'],
      `notification settings ${viewport.width} ${colorScheme}`,
    );
    if (viewport.width === 1280 && colorScheme === 'light') {
      // A choice is the agent's on every device: it is kept on the server.
      await section.getByRole('checkbox', { name: 'Someone mentions me in a private note' }).uncheck();
      await page.reload();
      await expect(
        page
          .getByRole('region', { name: 'Notifications' })
          .getByRole('checkbox', { name: 'Someone mentions me in a private note' }),
      ).not.toBeChecked();
      await page
        .getByRole('region', { name: 'Notifications' })
        .getByRole('checkbox', { name: 'Someone mentions me in a private note' })
        .check();
    }
    await context.close();
  }
});
