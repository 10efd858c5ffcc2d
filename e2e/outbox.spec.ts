import { expect, test, type Page } from '@playwright/test';
import { setServerClockOffset } from './support/clock';
import { FaultProxy } from './support/proxy';
import {
  ANA,
  expectNoAxeViolations,
  openConversation,
  readByAna,
  sendReply,
  serverReplies,
  signIn,
  signInApi,
  waitForServiceWorkerControl,
} from './support/app';

/** Waits until this page's outbox is empty: nothing queued, nothing in flight, no refusal pending. */
async function outboxDrained(page: Page): Promise<void> {
  await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: /replies queued|reply queued/ })).toHaveCount(0);
}

test.beforeEach(async ({ request }) => {
  await signInApi(request);
});

test('offline, five replies, reload, close the tab, reopen, go online: five replies on the server, in order', async ({
  page,
  context,
  request,
}) => {
  const prefix = `five-${Date.now()}`;
  await page.goto('/');
  await signIn(page, ANA);
  await waitForServiceWorkerControl(page);
  await openConversation(page, 'Maria Lopez');
  await context.setOffline(true);
  for (let i = 1; i <= 5; i++) await sendReply(page, `${prefix} #${i}`);
  await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(5);
  // Opening the conversation marked it read, a command of its own (#14), which may not have gone yet.
  await expect(
    page.getByRole('status').filter({ hasText: /^Offline — 5 replies( and 1 change)? queued$/ }),
  ).toBeVisible();

  await page.reload();
  await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(5);
  await page.close();

  const reopened = await context.newPage();
  await reopened.goto('/c/demo-1');
  await expect(reopened.locator('.message.reply[data-state="queued"]')).toHaveCount(5);
  await context.setOffline(false);
  await outboxDrained(reopened);
  await expect
    .poll(() => serverReplies(request, 'demo-1', prefix))
    .toEqual([1, 2, 3, 4, 5].map((i) => `${prefix} #${i}`));
  await expect(reopened.locator('.message.reply', { hasText: prefix })).toHaveCount(5);
});

test('the page killed after the server committed a reply, before the answer: still exactly once', async ({
  browser,
  request,
}) => {
  const proxy = new FaultProxy(test.info().project.use.baseURL!);
  const origin = await proxy.start();
  const context = await browser.newContext({ baseURL: origin });
  try {
    const prefix = `killed-${Date.now()}`;
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, ANA);
    await openConversation(page, 'Tom Baker');
    // Opening a conversation marks it read, a command of its own (#14): let it go before the
    // reply, so the answer held below is the reply's.
    await expect.poll(() => readByAna(request, 'demo-2')).toBe(true);
    await expect(page.getByRole('status').filter({ hasText: /queued/ })).toHaveCount(0);
    const held = proxy.holdAnswer('/trpc/conversations.commandBatch');
    await sendReply(page, `${prefix} once`);
    const answer = await held;
    expect(answer.status).toBe(200); // the server committed it
    await page.close({ runBeforeUnload: false });
    answer.drop();

    const again = await context.newPage();
    await again.goto('/c/demo-2');
    await outboxDrained(again);
    await expect(again.locator('.message.reply', { hasText: prefix })).toHaveCount(1);
    await expect.poll(() => serverReplies(request, 'demo-2', prefix)).toEqual([`${prefix} once`]);
  } finally {
    await context.close();
    await proxy.stop();
  }
});

test('two tabs offline in the same conversation: one flusher, order kept, nothing lost', async ({
  page,
  context,
  request,
}) => {
  const prefix = `tabs-${Date.now()}`;
  await page.goto('/');
  await signIn(page, ANA);
  await waitForServiceWorkerControl(page);
  await openConversation(page, 'Yuki Tanaka');
  const other = await context.newPage();
  await other.goto('/c/demo-3');
  await expect(other.getByRole('heading', { level: 2, name: 'Yuki Tanaka' })).toBeVisible();

  await context.setOffline(true);
  const order: string[] = [];
  for (let i = 1; i <= 3; i++) {
    for (const [name, tab] of [
      ['A', page],
      ['B', other],
    ] as const) {
      const text = `${prefix} ${name}${i}`;
      await sendReply(tab, text);
      order.push(text);
    }
  }
  // Each tab sees the other's replies too: one outbox, shared through IndexedDB.
  await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(6);
  await expect(other.locator('.message.reply[data-state="queued"]')).toHaveCount(6);

  const senders = new Set<string>();
  page.on('request', (r) => r.url().includes('conversations.commandBatch') && senders.add('A'));
  other.on('request', (r) => r.url().includes('conversations.commandBatch') && senders.add('B'));
  await context.setOffline(false);
  await outboxDrained(page);
  await outboxDrained(other);
  await expect.poll(() => serverReplies(request, 'demo-3', prefix)).toEqual(order);
  expect(senders.size).toBe(1);
});

test('a reply queued offline whose window closes before the network returns ends with the template prompt', async ({
  page,
  context,
  request,
}) => {
  const dataDir = process.env.PARLEY_E2E_DATA_DIR!;
  const prefix = `late-${Date.now()}`;
  await page.goto('/');
  await signIn(page, ANA);
  await waitForServiceWorkerControl(page);
  await openConversation(page, 'Li Wei');
  await context.setOffline(true);
  await sendReply(page, `${prefix} sorry for the wait`);
  try {
    // A day passes on the server before the network comes back: WhatsApp's 24 h window closes.
    await setServerClockOffset(dataDir, 25 * 3_600_000);
    await context.setOffline(false);
    const refused = page.locator('.message.reply[data-state="refused"]', { hasText: prefix });
    await expect(refused).toContainText('The 24-hour window closed while you were offline');
    await expect(refused).toContainText('Not sent');
    await refused.getByRole('button', { name: 'Use a template' }).click();
    const picker = page.getByRole('form', { name: 'Send a template' });
    await expect(picker).toBeVisible();
    await expect(refused).toHaveCount(0);
    await expectNoAxeViolations(page, 'template prompt');
    await picker.getByLabel('Template').selectOption({ label: 'follow_up (en)' });
    await picker.getByLabel('Value 1').fill('Li');
    await picker.getByRole('button', { name: 'Send template' }).click();
    await outboxDrained(page);
    await expect
      .poll(() => serverReplies(request, 'demo-4', 'template:follow_up'))
      .toContain('template:follow_up');
    expect(await serverReplies(request, 'demo-4', prefix)).toEqual([]);
  } finally {
    await setServerClockOffset(dataDir, 0);
  }
});

test('a service-worker update while replies are queued loses nothing', async ({ browser, request }) => {
  const proxy = new FaultProxy(test.info().project.use.baseURL!);
  const origin = await proxy.start();
  const context = await browser.newContext({ baseURL: origin });
  try {
    const prefix = `update-${Date.now()}`;
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, ANA);
    await waitForServiceWorkerControl(page);
    await openConversation(page, 'Maria Lopez');
    await context.setOffline(true);
    await sendReply(page, `${prefix} 1`);
    await sendReply(page, `${prefix} 2`);
    await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(2);
    // Back online, but the server cannot take replies for now: they stay queued while the new
    // version (a changed sw.js, served by the proxy) is found.
    proxy.failPrefix = '/trpc/conversations.commandBatch';
    await context.setOffline(false);

    proxy.swVersion = '2';
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const prompt = page.getByRole('status').filter({ hasText: 'A new version is ready' });
    await expect(prompt).toBeVisible();
    await expectNoAxeViolations(page, 'update prompt');
    const reloaded = page.waitForEvent('load');
    await prompt.getByRole('button', { name: 'Reload' }).click();
    await reloaded;
    // The new worker took over and the queued replies are still on this device.
    await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(2);
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null),
    ).toBeNull();
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.state)).toBe('activated');

    // The server takes replies again; the flusher's next retry sends them.
    proxy.failPrefix = null;
    await outboxDrained(page);
    await expect.poll(() => serverReplies(request, 'demo-1', prefix)).toEqual([`${prefix} 1`, `${prefix} 2`]);
  } finally {
    await context.close();
    await proxy.stop();
  }
});
