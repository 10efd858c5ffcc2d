import { createHmac } from 'node:crypto';
import { expect, request as playwrightRequest, test, type Browser, type Page } from '@playwright/test';
import { ADA, ANA, openConversation, sendReply, signIn } from './support/app';

// The agent's inbox (#15 items 1-3): unread per agent, the author of a reply, rows that keep their
// time and badge inside the list at phone and desktop widths.

const BEN = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };
const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
/** The demo's WhatsApp app and number (server/src/channels/seed.ts). */
const WHATSAPP = { appId: 'demo-whatsapp', phoneNumberId: '100000000000001' };

let secret = '';
let customers = 0;

test.beforeAll(async () => {
  // The webhook secret is shown once, when rotated; the previous one stays accepted (IN2), so the
  // simulators' receipts still verify.
  const api = await playwrightRequest.newContext({ baseURL: BASE });
  expect((await api.post('/trpc/auth.signIn', { data: ADA })).ok()).toBe(true);
  const rotated = await api.post('/trpc/admin.channels.rotateSecret', { data: { appId: WHATSAPP.appId } });
  expect(rotated.ok()).toBe(true);
  secret = ((await rotated.json()) as { result: { data: { secret: string } } }).result.data.secret;
  await api.dispose();
});

/** A new customer writes in on the demo's WhatsApp number, through a signed webhook. */
async function customerWrites(name: string, text: string): Promise<void> {
  customers += 1;
  const stamp = Date.now();
  const waId = `1555777${String(stamp % 10_000).padStart(4, '0')}${customers}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WHATSAPP_BUSINESS_ACCOUNT_ID',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: WHATSAPP.phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.INBOX${stamp.toString(36)}${customers}`,
                  timestamp: String(Math.floor(stamp / 1000)),
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
  const response = await fetch(`${BASE}/webhooks/whatsapp/${WHATSAPP.appId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  });
  expect(response.ok).toBe(true);
}

/** A page of its own browser context, signed in as the account. */
async function agentPage(browser: Browser, account: typeof ANA): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto('/');
  await signIn(page, account);
  return page;
}

const row = (page: Page, name: string) => page.getByRole('link', { name: new RegExp(name) });

/** The number in the tab title, `(3) Parley`; 0 when there is none. */
async function titleCount(page: Page): Promise<number> {
  const title = await page.title();
  return Number(/^\((\d+)\) Parley$/.exec(title)?.[1] ?? 0);
}

test('[#15 item 1] opening a conversation clears its unread badge for that agent only, and the tab title counts it', async ({
  browser,
}) => {
  const name = `Una Unread ${Date.now()}`;
  const ana = await agentPage(browser, ANA);
  const ben = await agentPage(browser, BEN);
  await customerWrites(name, 'Is anyone there?');
  for (const page of [ana, ben]) await expect(row(page, name).locator('.badge')).toHaveText('1 unread');
  await expect.poll(() => titleCount(ana)).toBeGreaterThan(0);
  const before = await titleCount(ana);

  await openConversation(ana, name);
  await expect(ana.locator('.message.customer', { hasText: 'Is anyone there?' })).toBeVisible();
  await expect(row(ana, name).locator('.badge')).toHaveCount(0);
  await expect.poll(() => titleCount(ana)).toBe(before - 1);
  // The read mark is on the server: after a reload the badge stays gone for Ana...
  await ana.reload();
  await expect(row(ana, name)).toBeVisible();
  await expect(row(ana, name).locator('.badge')).toHaveCount(0);
  await expect.poll(() => titleCount(ana)).toBe(before - 1);
  // ...and Ben, who has not opened it, still has it unread, after a reload too.
  await ben.reload();
  await expect(row(ben, name).locator('.badge')).toHaveText('1 unread');
  await expect.poll(() => titleCount(ben)).toBeGreaterThan(0);
  await ana.context().close();
  await ben.context().close();
});

test("[#15 item 2] another agent's reply shows their name, not You, in the list and the timeline", async ({
  browser,
}) => {
  const name = `Rey Reply ${Date.now()}`;
  const text = `Ada answers ${Date.now()}`;
  const ada = await agentPage(browser, ADA);
  const ben = await agentPage(browser, BEN);
  await customerWrites(name, 'Where is my parcel?');
  await expect(row(ada, name)).toBeVisible();
  await openConversation(ada, name);
  await sendReply(ada, text);
  await expect(row(ada, name).locator('.preview')).toHaveText(`You: ${text}`);

  await expect(row(ben, name).locator('.preview')).toHaveText(`Ada Admin: ${text}`);
  await openConversation(ben, name);
  const bubble = ben.locator('.message.reply', { hasText: text });
  await expect(bubble).toHaveClass(/other-agent/);
  await expect(bubble.locator('.reply-author')).toHaveText('Ada Admin');
  await expect(bubble).not.toContainText('You:');
  await ada.context().close();
  await ben.context().close();
});

test('[#15 item 3] a long or Arabic preview never pushes the time or the badge out of the row, on a phone and a desktop', async ({
  page,
}) => {
  const stamp = Date.now();
  const long = `Long ${stamp}`;
  const arabic = `Arabic ${stamp}`;
  await page.goto('/');
  await signIn(page, ANA);
  await customerWrites(
    long,
    `${'This preview is far too long to fit on one line of the list '.repeat(4)}${'x'.repeat(120)}`,
  );
  await customerWrites(
    arabic,
    'مرحبا، لم يصل طلبي رقم ١٠٤٢ بعد، وقد مر أسبوعان على الموعد، هل يمكنكم إخباري أين هو الآن من فضلكم؟ شكرا جزيلا',
  );
  for (const [width, height] of [
    [390, 844],
    [1280, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    for (const name of [long, arabic]) {
      const link = row(page, name);
      await expect(link.locator('.badge')).toBeVisible();
      const boxes = await link.evaluate((element) => {
        const box = (selector: string) => {
          const found = selector === 'row' ? element : element.querySelector(selector);
          if (!found) throw new Error(`no ${selector}`);
          const { left, right, top, bottom } = found.getBoundingClientRect();
          return { left, right, top, bottom };
        };
        return {
          row: box('row'),
          time: box('time'),
          badge: box('.badge'),
          preview: box('.preview'),
          name: box('.contact-name'),
          overflows: element.scrollWidth > element.clientWidth,
          dirs: element.querySelectorAll('[dir="auto"]').length,
        };
      });
      const where = `${name} at ${width}x${height}`;
      for (const part of ['time', 'badge', 'preview', 'name'] as const) {
        expect(boxes[part].left, `${part} of ${where}`).toBeGreaterThanOrEqual(boxes.row.left);
        expect(boxes[part].right, `${part} of ${where}`).toBeLessThanOrEqual(boxes.row.right);
      }
      expect(boxes.preview.right, `preview before the badge, ${where}`).toBeLessThanOrEqual(boxes.badge.left);
      expect(boxes.name.right, `name before the time, ${where}`).toBeLessThanOrEqual(boxes.time.left);
      expect(boxes.overflows, where).toBe(false);
      // The name and the preview take their direction from their own text (item 10).
      expect(boxes.dirs, where).toBeGreaterThanOrEqual(2);
      // The time is whole ("now", "3 min"), not cut, with the exact time in its datetime.
      await expect(link.locator('time')).toHaveText(/^(now|\d+ min|\d+ h)$/);
      await expect(link.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T/);
    }
  }
});
