import { expect, test, type Browser, type Page } from '@playwright/test';
import { ADA, ANA, axeLightAndDark, signIn } from './support/app';
import { ApiSession } from './support/webhooks';

// #16: an admin opens Reports (figures over a period, a table per agent) and the audit log (who
// changed what, filtered, a page at a time), on a desktop and a phone; an agent has neither and
// the API gives them nothing. The figures are checked against what demo activity produced.

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const SHOTS = process.env.PARLEY_STORY_SHOTS;
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
/** New on each worker: a worker started again after a failure runs `beforeAll` again. */
const RUN = Date.now().toString(36);
const LABEL = `e2e-audit-${RUN}`;

interface Overview {
  counters: { opened: number; messagesOut: number };
  firstResponse: { count: number };
}

async function signedIn(browser: Browser, account: typeof ADA, options: object): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto('/');
  await signIn(page, account);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

/** The value shown under one of the overview's headings. */
const figure = (page: Page, label: string) =>
  page.locator('.figure', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');

const admin = new ApiSession(BASE);

test.beforeAll(async () => {
  // Demo activity an admin's report and audit log must show: Ada labels a conversation back and
  // forth (a log longer than a page), then answers Tom (a first response), labels and
  // re-prioritises his conversation (the newest rows).
  await admin.signIn(ADA);
  for (let i = 0; i < 30; i++) {
    await admin.mutate('conversations.label', { conversationId: 'demo-4', label: 'churn', action: 'add' });
    await admin.mutate('conversations.label', { conversationId: 'demo-4', label: 'churn', action: 'remove' });
  }
  await admin.mutate('conversations.reply', {
    conversationId: 'demo-2',
    clientId: `e2e-reports-${RUN}`,
    sequence: 1,
    clientMessageId: `e2e-reports-${RUN}`,
    content: { type: 'text', text: 'We can change the size, yes.' },
  });
  await admin.mutate('conversations.label', { conversationId: 'demo-2', label: LABEL, action: 'add' });
  await admin.mutate('conversations.setPriority', { conversationId: 'demo-2', priority: 'urgent' });
  await admin.mutate('conversations.setPriority', { conversationId: 'demo-2', priority: 'high' });
});

test('an admin reads the figures of the last 7 days and the table per agent, on a desktop and a phone', async ({
  browser,
}) => {
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  // The analytics projection follows the log within a second: wait for Ada's reply to count.
  await expect
    .poll(
      async () =>
        (await admin.query<Overview>('reports.overview', { from: weekAgo, to: today })).data?.firstResponse
          .count ?? 0,
    )
    .toBeGreaterThan(0);
  const api = (await admin.query<Overview>('reports.overview', { from: weekAgo, to: today })).data!;
  expect(api.counters.opened).toBeGreaterThanOrEqual(4); // the demo's four conversations

  const page = await signedIn(browser, ADA, DESKTOP);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page).toHaveURL(/\/reports$/);
  await expect(page.getByRole('heading', { level: 2, name: 'Reports' })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Period' })).toHaveValue('7d');
  await expect(figure(page, 'Opened')).toContainText(String(api.counters.opened));
  await expect(figure(page, 'Messages out')).toContainText(String(api.counters.messagesOut));
  await expect(figure(page, 'First response')).toContainText(`${api.firstResponse.count} measured`);
  const table = page.getByRole('region', { name: 'Figures by agent' });
  await expect(table.getByRole('rowheader', { name: 'Ada Admin' })).toBeVisible();
  await page.getByRole('combobox', { name: 'Group by' }).selectOption('label');
  await expect(
    page.getByRole('region', { name: 'Figures by label' }).getByRole('rowheader', { name: LABEL }),
  ).toBeVisible();
  await shot(page, 'reports-desktop');
  await axeLightAndDark(page, '.reports-screen', 'reports');

  // A period with no activity says so, and a custom period the server would refuse is explained.
  await page.getByRole('combobox', { name: 'Period' }).selectOption('custom');
  await page.getByLabel('From', { exact: true }).fill('2020-01-01');
  await page.getByLabel('To', { exact: true }).fill('2020-01-07');
  await expect(page.getByText('Nothing happened in this period.')).toBeVisible();
  await expect(page.getByText('No label has data in this period.')).toBeVisible();
  await shot(page, 'reports-empty-desktop');
  await page.getByLabel('To', { exact: true }).fill('2019-12-31');
  await expect(page.getByText('The last day comes before the first.')).toBeVisible();
  await page.context().close();

  const phone = await signedIn(browser, ADA, PHONE);
  await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(figure(phone, 'Opened')).toContainText(String(api.counters.opened));
  await expect(phone.getByRole('region', { name: 'Figures by agent' })).toBeVisible();
  // Nothing is wider than the phone: the table scrolls inside its own box.
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(phone, 'reports-phone');
  await axeLightAndDark(phone, '.reports-screen', 'reports on a phone');
  await phone.context().close();
});

test('an admin reads who changed what in the audit log, filters it and pages back', async ({ browser }) => {
  const page = await signedIn(browser, ADA, DESKTOP);
  await page.goto('/reports/audit');
  const entries = page.getByRole('list', { name: 'Audit log entries' });
  const label = entries
    .getByRole('listitem')
    .filter({ hasText: `Label "${LABEL}" added` })
    .first();
  await expect(label).toContainText('Ada Admin');
  await expect(label).toContainText('conversation-demo-2');
  await expect(
    entries.getByRole('listitem').filter({ hasText: 'Priority set to high' }).first(),
  ).toBeVisible();
  // Sealed content stays out: the reply's text and the customers' names are nowhere in the log.
  await expect(entries).not.toContainText('We can change the size');
  await expect(entries).not.toContainText('Tom Baker');

  // 50 a page: older events come with the cursor.
  await expect(entries.getByRole('listitem')).toHaveCount(50);
  await page.getByRole('button', { name: 'Show older events' }).click();
  await expect.poll(() => entries.getByRole('listitem').count()).toBeGreaterThan(50);
  await shot(page, 'audit-desktop');
  await axeLightAndDark(page, '.reports-screen', 'the audit log');

  // Only one conversation's events, from a row's stream.
  await label.getByRole('button', { name: 'Show only conversation demo-2' }).click();
  await expect(page.getByLabel('Conversation or stream', { exact: true })).toHaveValue('demo-2');
  await expect(entries.getByRole('listitem').first()).toBeVisible();
  for (const stream of await entries.locator('.audit-stream').allTextContents()) {
    expect(['conversation-demo-2', 'card-demo-2']).toContain(stream);
  }
  // Only the customers' events: none of them names the customer.
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('combobox', { name: 'Who' }).selectOption({ label: 'Customers' });
  await expect(entries.getByRole('listitem').first()).toContainText('Customer');
  for (const who of await entries.locator('.audit-actor').allTextContents()) expect(who).toBe('Customer');
  await expect(entries.getByText('Customer message received (content sealed)').first()).toBeVisible();
  await expect(entries).not.toContainText('Maria Lopez');
  await expect(entries).not.toContainText('c-maria');
  await page.getByLabel('Conversation or stream', { exact: true }).fill('globex-1');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('No event matches this filter.')).toBeVisible();
  await page.context().close();

  const phone = await signedIn(browser, ADA, PHONE);
  await phone.goto('/reports/audit');
  await expect(
    phone.getByRole('list', { name: 'Audit log entries' }).getByRole('listitem').first(),
  ).toBeVisible();
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(phone, 'audit-phone');
  await phone.context().close();
});

test('an agent has no reports and no audit log, in the app or from the API', async ({ browser }) => {
  const page = await signedIn(browser, ANA, DESKTOP);
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Boards' }),
  ).toBeVisible();
  await expect(
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }),
  ).toHaveCount(0);
  await page.goto('/reports/audit');
  await expect(page.getByText('Reports are for your workspace’s admins and supervisors.')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Audit log entries' })).toHaveCount(0);
  await page.context().close();

  const ana = new ApiSession(BASE);
  await ana.signIn(ANA);
  const today = new Date().toISOString().slice(0, 10);
  expect((await ana.query('audit.log', {})).status).toBe(403);
  expect((await ana.query('reports.overview', { from: today, to: today })).status).toBe(403);
});
