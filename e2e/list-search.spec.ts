import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import {
  ADA,
  expectNoAxeViolations,
  listRow,
  signIn,
  signInApi,
  waitForServiceWorkerControl,
} from './support/app';
import { ApiSession, demoWhatsAppSecret, whatsAppCustomerWrites } from './support/webhooks';

// The inbox list's controls and search (#15 items 5 and 6): team, inbox and sort menus, bulk
// assign and resolve through the outbox, search of message words and phone numbers in any format,
// on the server and offline on the device; at desktop and phone sizes, light and dark.

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const SHOTS = process.env.PARLEY_SHOTS_DIR ?? 'test-results/list-search';
let secret = '';

test.beforeAll(async () => {
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  secret = await demoWhatsAppSecret(admin);
});

/** The server's view of one conversation's list row, found by the contact's name (as Ada). */
async function serverRow(request: APIRequestContext, name: string) {
  const input = encodeURIComponent(JSON.stringify({ filter: 'all', search: name, limit: 5 }));
  const response = await request.get(`/trpc/conversations.list?input=${input}`);
  expect(response.ok()).toBe(true);
  const body = (await response.json()) as {
    result: { data: { items: { contact: { name: string }; status: string; assigneeId: string | null }[] } };
  };
  return body.result.data.items.find((item) => item.contact.name === name);
}

/** The rendered list rows' times, top to bottom. */
async function rowTimes(page: Page): Promise<number[]> {
  return page
    .locator('[data-testid="conversation-list"] li time')
    .evaluateAll((times) => times.map((time) => Date.parse(time.getAttribute('datetime') ?? '')));
}

const sizes = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

for (const size of sizes) {
  test.describe(`on a ${size.name}`, () => {
    test.use({ viewport: size.viewport });

    test('filters, sorts, and bulk assigns and resolves through the outbox', async ({ page, request }) => {
      const tag = `${size.name}${Date.now().toString(36)}`;
      const names = ['A', 'B', 'C'].map((letter) => `Bulk ${tag} ${letter}`);
      for (const [i, name] of names.entries()) {
        await whatsAppCustomerWrites(BASE, secret, {
          name,
          waId: `4915100${Date.now() % 100_000}${i}`,
          text: `order ${tag}`,
        });
      }
      await signInApi(request, ADA);
      await page.goto('/');
      await signIn(page, ADA);
      const list = page.getByTestId('conversation-list');
      for (const name of names)
        await expect(list.getByRole('link', { name: new RegExp(name) })).toBeVisible();

      // Sort: newest first, then oldest first, by the rows' own times and by the three's order.
      const sort = page.getByRole('combobox', { name: 'Sort' });
      // On a phone status, team, inbox and sort wait behind one button that counts those changed.
      const filters = page.getByRole('button', { name: /^Filters/ });
      if (size.name === 'phone') {
        await expect(sort).toBeHidden();
        await expect(filters).toHaveText('Filters');
        await filters.click();
        await expect(filters).toHaveAttribute('aria-expanded', 'true');
      } else {
        await expect(filters).toBeHidden();
      }
      await expect.poll(() => order(page, names)).toEqual([names[2], names[1], names[0]]);
      const newest = await rowTimes(page);
      expect(newest).toEqual([...newest].sort((a, b) => b - a));
      await sort.selectOption({ label: 'Oldest' });
      await expect.poll(() => order(page, names)).toEqual([names[0], names[1], names[2]]);
      const oldest = await rowTimes(page);
      expect(oldest).toEqual([...oldest].sort((a, b) => a - b));
      // Priority: B made urgent (which is activity too) is last of the three by oldest activity,
      // and first by priority.
      const urgent = await request.post('/trpc/conversations.setPriority', {
        data: { conversationId: await idOf(page, names[1]!), priority: 'urgent' },
      });
      expect(urgent.ok()).toBe(true);
      await expect.poll(() => order(page, names)).toEqual([names[0], names[2], names[1]]);
      await sort.selectOption({ label: 'Priority' });
      await expect.poll(async () => (await order(page, names))[0]).toBe(names[1]);
      await sort.selectOption({ label: 'Newest' });

      // Inbox and team filters: the support inbox holds them; the Frontline team only those assigned to it.
      await page.getByRole('combobox', { name: 'Inbox' }).selectOption({ label: 'Support (WhatsApp)' });
      if (size.name === 'phone') await expect(filters).toHaveText('Filters (1)');
      await expect(list.getByRole('link', { name: new RegExp(names[2]!) })).toBeVisible();

      // Select two by pointer and one by keyboard, then assign them all to Ben.
      await page.getByRole('checkbox', { name: `Select ${names[0]}` }).check();
      await page.getByRole('checkbox', { name: `Select ${names[1]}` }).check();
      await page.getByRole('checkbox', { name: `Select ${names[2]}` }).focus();
      await page.keyboard.press('Space');
      const bar = page.getByRole('region', { name: 'Selected conversations' });
      await expect(bar).toContainText('3 selected');
      await expectNoAxeViolations(page, `the list with three selected (${size.name})`);
      await page.screenshot({ path: `${SHOTS}/bulk-${size.name}.png` });
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectNoAxeViolations(page, `the list with three selected, dark (${size.name})`);
      await page.screenshot({ path: `${SHOTS}/bulk-${size.name}-dark.png` });
      await page.emulateMedia({ colorScheme: 'light' });
      // The inbox's round robin may have given some to Ben already: those are "already so".
      const before = await Promise.all(names.map((n) => serverRow(request, n)));
      const bens = before.filter((row) => row?.assigneeId === 'ben').length;
      await bar.getByRole('combobox', { name: 'Assign selected to' }).selectOption({ label: 'Ben Agent' });
      await bar.getByRole('button', { name: 'Assign' }).click();
      await expect(page.locator('p.bulk-outcome')).toHaveText(
        `Assigned to Ben Agent: ${3 - bens} ${3 - bens === 1 ? 'conversation' : 'conversations'}${bens > 0 ? `; ${bens} already so` : ''}.`,
      );
      await expect
        .poll(async () =>
          (await Promise.all(names.map((n) => serverRow(request, n)))).map((r) => r?.assigneeId),
        )
        .toEqual(['ben', 'ben', 'ben']);
      await page.getByRole('combobox', { name: 'Team' }).selectOption({ label: 'Frontline' });
      for (const name of names)
        await expect(list.getByRole('link', { name: new RegExp(name) })).toBeVisible();

      // Add a label and resolve: each is one command per conversation; resolved ones leave the Open list.
      await bar.getByRole('textbox', { name: 'Label to add to the selected' }).fill('bulk');
      await bar.getByRole('button', { name: 'Add label' }).click();
      await expect(page.locator('p.bulk-outcome')).toHaveText(/^Label bulk added: 3 conversations/);
      await bar.getByRole('button', { name: 'Resolve' }).click();
      await expect(page.locator('p.bulk-outcome')).toHaveText(/^Resolved: 3 conversations/);
      for (const name of names)
        await expect(list.getByRole('link', { name: new RegExp(name) })).toHaveCount(0);
      await expect
        .poll(async () => (await Promise.all(names.map((n) => serverRow(request, n)))).map((r) => r?.status))
        .toEqual(['resolved', 'resolved', 'resolved']);
      // The resolved ones left the view, and the selection with them.
      await expect(page.getByRole('region', { name: 'Selected conversations' })).toHaveCount(0);
      // Select all covers every row the filters show, also those not scrolled into view.
      await page.getByRole('combobox', { name: 'Status' }).selectOption('resolved');
      if (size.name === 'phone') await expect(filters).toHaveText('Filters (3)');
      for (const name of names)
        await expect(list.getByRole('link', { name: new RegExp(name) })).toBeVisible();
      const all = page.getByRole('checkbox', { name: /^Select all \d+$/ });
      const label = page.locator('.select-all');
      const shown = Number((await label.textContent())!.match(/\d+/)![0]);
      await all.check();
      await expect(page.getByRole('region', { name: 'Selected conversations' })).toContainText(
        `${shown} selected`,
      );
      await page.getByRole('button', { name: 'Clear' }).click();
      await expect(page.getByRole('region', { name: 'Selected conversations' })).toHaveCount(0);
    });

    test('searches message words and phone numbers on the server, and offline on the device', async ({
      page,
      context,
    }) => {
      const stamp = Date.now();
      const word = `kumquat${stamp.toString(36)}`;
      // The name shares no word with the message: the message is what is found.
      const name = `Finder ${size.name} ${stamp}`;
      await whatsAppCustomerWrites(BASE, secret, {
        name,
        waId: `4915200${Date.now() % 100_000}`,
        text: `Hello, my ${word} delivery never came and I am still waiting for it`,
      });
      await page.goto('/');
      await signIn(page, ADA);
      await waitForServiceWorkerControl(page);
      await expect(page.getByRole('link', { name: new RegExp(name) })).toBeVisible();
      const search = page.getByRole('searchbox', { name: 'Search conversations' });
      const results = page.getByRole('list', { name: 'Search results' });

      // A word of the message, typed in part: the result marks the word.
      await search.fill(word.slice(0, -2).toUpperCase());
      await expect(results.getByRole('link', { name: new RegExp(name) })).toBeVisible();
      await expect(results.locator('mark')).toHaveText([word]);
      await expect(page.getByText(/^1 result$/)).toBeVisible();
      await page.screenshot({ path: `${SHOTS}/search-word-${size.name}.png` });

      // A phone number without spaces or country code finds +34 600 111 222.
      await search.fill('600111222');
      await expect(results.getByRole('link', { name: /Maria Lopez/ })).toBeVisible();
      await expect(results.locator('mark')).toHaveText(['+34 600 111 222']);
      await expectNoAxeViolations(page, `search results (${size.name})`);
      await page.screenshot({ path: `${SHOTS}/search-phone-${size.name}.png` });
      await page.emulateMedia({ colorScheme: 'dark' });
      await expectNoAxeViolations(page, `search results, dark (${size.name})`);
      await page.screenshot({ path: `${SHOTS}/search-phone-${size.name}-dark.png` });
      await page.emulateMedia({ colorScheme: 'light' });

      // Offline: the same searches over what the device holds.
      await context.setOffline(true);
      await search.fill('');
      await search.fill(word);
      await expect(page.getByText('1 result on this device (offline)')).toBeVisible();
      await expect(results.locator('mark')).toHaveText([word]);
      await search.fill('+34600111222');
      await expect(results.getByRole('link', { name: /Maria Lopez/ })).toBeVisible();
      await page.screenshot({ path: `${SHOTS}/search-offline-${size.name}.png` });
      await context.setOffline(false);
    });
  });
}

/** The given names in the order the list shows them (those rendered). */
async function order(page: Page, names: readonly string[]): Promise<string[]> {
  // The list draws only the rows on screen: read it all by scrolling, then put the scroll back.
  const list = page.getByTestId('conversation-list');
  const start = await list.evaluate((element) => element.scrollTop);
  const byIndex = new Map<number, string>();
  await list.evaluate((element) => element.scrollTo(0, 0));
  for (;;) {
    const rows = await list
      .locator('li[data-index]')
      .evaluateAll((items) =>
        items.map((item) => [Number(item.getAttribute('data-index')), item.textContent ?? ''] as const),
      );
    for (const [index, text] of rows) byIndex.set(index, text);
    const atEnd = await list.evaluate((element) => {
      const end = element.scrollTop + element.clientHeight >= element.scrollHeight - 1;
      element.scrollTop += element.clientHeight * 0.8;
      return end;
    });
    if (atEnd) break;
    await page.waitForTimeout(50);
  }
  await list.evaluate((element, top) => element.scrollTo(0, top), start);
  const texts = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
  return texts.flatMap((text) => names.filter((name) => text.includes(name)));
}

/** A conversation's id, from its row's link. */
async function idOf(page: Page, name: string): Promise<string> {
  const href = await (await listRow(page, name)).getAttribute('href');
  return href!.split('/').pop()!;
}
