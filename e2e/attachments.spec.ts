import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  expect,
  request as playwrightRequest,
  test,
  type APIRequestContext,
  type Page,
} from '@playwright/test';
import {
  ADA,
  ANA,
  expectNoAxeViolations,
  openConversation,
  signIn,
  signInApi,
  waitForServiceWorkerControl,
} from './support/app';

// #15 item 9: files both ways, the `/` canned shortcut, the template preview, and a composer that
// keeps Send on screen with the window closed.

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const WHATSAPP = { appId: 'demo-whatsapp', phoneNumberId: '100000000000001' };
const SHOTS = process.env.PARLEY_SHOTS_DIR ?? 'test-results/attachments';
/** A 96x64 PNG; random bytes after its end make each test's file (and hash) its own. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAGAAAABACAIAAABqVuVZAAAAiUlEQVR42u3ZsQkAIAwEQJdwF3u3FyeycoTYpIkHqR9y3fNtjhXe2T28qjkNECBAgAABAgQIECBAgBKAfn7+JQcQIECAAAECBAgQIECAMoCUVW0eECBAgAABAgQIECBAdjFtHhAgQIAAAQIECBAgQHYxZRUQIECAAAECBAgQIECA7GLaPCBAxXIuQoyCLLP7gjwAAAAASUVORK5CYII=';

let secret = '';
let customers = 0;

test.beforeAll(async () => {
  const api = await playwrightRequest.newContext({ baseURL: BASE });
  expect((await api.post('/trpc/auth.signIn', { data: ADA })).ok()).toBe(true);
  const rotated = await api.post('/trpc/admin.channels.rotateSecret', { data: { appId: WHATSAPP.appId } });
  expect(rotated.ok()).toBe(true);
  secret = ((await rotated.json()) as { result: { data: { secret: string } } }).result.data.secret;
  await api.dispose();
});

test.beforeEach(async ({ request }) => {
  await signInApi(request);
});

function picture(): { name: string; mimeType: string; buffer: Buffer; sha256: string } {
  const buffer = Buffer.concat([Buffer.from(PNG_BASE64, 'base64'), randomBytes(8)]);
  return {
    name: `parcel-${buffer.subarray(-4).toString('hex')}.png`,
    mimeType: 'image/png',
    buffer,
    sha256: createHash('sha256').update(buffer).digest('hex'),
  };
}

/** A customer writes on the demo's WhatsApp number (signed webhook); `message` is the message's type and body. */
async function customerWrites(name: string, message: Record<string, unknown>, ageMs = 0): Promise<void> {
  customers += 1;
  const stamp = Date.now();
  const waId = `1555888${String(stamp % 10_000).padStart(4, '0')}${customers}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: WHATSAPP.phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.MEDIA${stamp.toString(36)}${customers}`,
                  timestamp: String(Math.floor((stamp - ageMs) / 1000)),
                  ...message,
                },
              ],
            },
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

/** The media replies the server queued in a conversation, by the file they name. */
async function serverMediaReplies(request: APIRequestContext, conversationId: string, sha256: string) {
  const input = encodeURIComponent(JSON.stringify({ conversationId, afterVersion: 0 }));
  const response = await request.get(`/trpc/conversations.get?input=${input}`);
  const events = (
    (await response.json()) as {
      result: {
        data: { events: { type: string; data: { content?: { type: string; media?: { url: string } } } }[] };
      };
    }
  ).result.data.events;
  return events.filter(
    (event) => event.type === 'ReplyQueued' && event.data.content?.media?.url === `attachment:${sha256}`,
  ).length;
}

async function attach(page: Page, file: ReturnType<typeof picture>): Promise<void> {
  await page.locator('input[type=file]:not([capture])').setInputFiles(file);
  await expect(page.getByRole('group', { name: 'Attached file' })).toContainText(file.name);
}

/** The loaded image of the timeline's last message of that kind. */
async function expectLoadedImage(page: Page, selector: string): Promise<void> {
  const image = page.locator(selector).last().locator('img');
  await expect(image).toBeVisible();
  await expect
    .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
    .toBe(true);
}

test('an image sent online shows in the timeline, is stored once and reaches WhatsApp', async ({
  page,
  request,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Maria Lopez');
  const file = picture();
  await attach(page, file);
  await page.getByRole('textbox', { name: 'Reply' }).fill('Your parcel label');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const reply = page.locator('.message.reply', { hasText: 'Your parcel label' });
  await expectLoadedImage(page, '.message.reply:has-text("Your parcel label")');
  // The simulator takes a media message only in WhatsApp's shape, after fetching its link.
  await expect(reply).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 30_000 });
  expect(await serverMediaReplies(request, 'demo-1', file.sha256)).toBe(1);
  const download = await request.get(`/api/attachments/${file.sha256}`);
  expect(download.status()).toBe(200);
  expect(Buffer.from(await download.body()).equals(file.buffer)).toBe(true);
  await page.screenshot({ path: `${SHOTS}/image-sent-desktop.png` });
  await expectNoAxeViolations(page, 'a conversation with an image reply');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAxeViolations(page, 'a conversation with an image reply (dark)');
});

test('an image queued offline waits on the device through a reload, then goes exactly once', async ({
  page,
  context,
  request,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await waitForServiceWorkerControl(page);
  await openConversation(page, 'Maria Lopez');
  await context.setOffline(true);
  const file = picture();
  await attach(page, file);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const queued = page.locator('.message.reply[data-state="queued"]');
  await expect(queued).toHaveCount(1);
  await expectLoadedImage(page, '.message.reply[data-state="queued"]');

  await page.reload();
  await expect(queued).toHaveCount(1);
  // Shown from the copy this device keeps: the server has never seen it.
  await expectLoadedImage(page, '.message.reply[data-state="queued"]');
  expect((await request.get(`/api/attachments/${file.sha256}`)).status()).toBe(404);

  await context.setOffline(false);
  await expect(queued).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(() => serverMediaReplies(request, 'demo-1', file.sha256)).toBe(1);
  expect((await request.get(`/api/attachments/${file.sha256}`)).status()).toBe(200);
  // Flushed once: another reload and flush change nothing.
  await page.reload();
  await openConversation(page, 'Maria Lopez').catch(() => undefined);
  await expectLoadedImage(page, '.message.reply');
  expect(await serverMediaReplies(request, 'demo-1', file.sha256)).toBe(1);
});

test("a customer's image shows inline; one the platform no longer has says where it was", async ({
  page,
}) => {
  const stamp = Date.now();
  const name = `Iris Image ${stamp}`;
  await customerWrites(name, {
    type: 'image',
    image: { id: `e2e-photo-${Date.now()}`, mime_type: 'image/jpeg', caption: 'The box arrived crushed' },
  });
  await customerWrites(`Bea Broken ${stamp}`, {
    type: 'image',
    image: { id: 'gone-404', mime_type: 'image/jpeg' },
  });
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, name);
  await expect(page.locator('.message.customer', { hasText: 'The box arrived crushed' })).toBeVisible();
  await expectLoadedImage(page, '.message.customer');
  await expect(
    page
      .locator('.message.customer')
      .last()
      .getByRole('link', { name: /Download/ }),
  ).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/inbound-image-desktop.png` });
  await expectNoAxeViolations(page, "a customer's image");
  await openConversation(page, `Bea Broken ${stamp}`);
  await expect(page.locator('.message.customer').last()).toContainText(
    'Image on WhatsApp: not downloaded to Parley',
  );
});

test('typing / opens the canned responses: filtered by shortcut, arrows move, Enter inserts', async ({
  page,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Tom Baker');
  const box = page.getByRole('textbox', { name: 'Reply' });
  await box.fill('');
  await box.pressSequentially('Hi! /');
  const menu = page.getByRole('listbox', { name: 'Canned responses' });
  await expect(menu.getByRole('option')).toHaveCount(2);
  await box.pressSequentially('th');
  await expect(menu.getByRole('option')).toHaveCount(1);
  await expect(menu.getByRole('option', { selected: true })).toContainText('/thanks');
  await box.press('Backspace');
  await box.press('Backspace');
  await box.press('ArrowDown');
  await expect(menu.getByRole('option', { selected: true })).toContainText('/thanks');
  await page.screenshot({ path: `${SHOTS}/canned-menu-desktop.png` });
  await expectNoAxeViolations(page, 'the canned responses menu');
  await box.press('Enter');
  await expect(menu).toHaveCount(0);
  await expect(box).toHaveValue('Hi! Thank you for your patience. Is there anything else I can do?');
  await box.fill('');
});

for (const viewport of [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
]) {
  test(`with the window closed a template is previewed as the customer gets it, Send on screen (${viewport.name})`, async ({
    page,
  }) => {
    await page.setViewportSize(viewport);
    const name = `Wendy Window ${viewport.name} ${Date.now()}`;
    await customerWrites(name, { type: 'text', text: { body: 'Any news on my order?' } }, 2 * 24 * 3_600_000);
    await page.goto('/');
    await signIn(page, ANA);
    await openConversation(page, name);
    await page.getByRole('button', { name: 'Choose a template' }).click();
    const form = page.getByRole('form', { name: 'Send a template' });
    await form.getByLabel('Template').selectOption({ label: 'order_update (en)' });
    const preview = form.locator('.template-preview p');
    await expect(preview).toHaveText('Hi {{1}}, your order {{2}} is on its way.');
    await form.getByLabel('Value 1').fill('Wendy');
    await expect(preview).toHaveText('Hi Wendy, your order {{2}} is on its way.');
    await form.getByLabel('Value 2').fill('#2048');
    await expect(preview).toHaveText('Hi Wendy, your order #2048 is on its way.');
    const send = form.getByRole('button', { name: 'Send template' });
    await expect(send).toBeInViewport({ ratio: 1 });
    await page.screenshot({ path: `${SHOTS}/template-preview-${viewport.name}.png` });
    await expectNoAxeViolations(page, `the template preview (${viewport.name})`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${SHOTS}/template-preview-${viewport.name}-dark.png` });
    await expectNoAxeViolations(page, `the template preview (${viewport.name}, dark)`);
    // The box is not there to push Send off screen: only the template goes.
    await expect(page.getByRole('textbox', { name: 'Reply' })).toBeHidden();
    await send.click();
    await expect(page.locator('.message.reply').last()).toContainText(
      'Hi Wendy, your order #2048 is on its way.',
    );
    await expect(page.locator('.timeline')).not.toContainText('Template order_update');
  });
}
