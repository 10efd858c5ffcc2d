import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { ADA, axeLightAndDark, signIn } from './support/app';

// #17, decision 0038: an admin connects a WhatsApp channel to the simulator in Settings › Channels,
// sees what to paste into the platform, sends a test message that lands in the inbox, and sets up
// the web-chat widget whose preview page carries a customer's message to the inbox too.

const SHOTS = process.env.PARLEY_STORY_SHOTS;
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const PHONE_ID = `1000000${String(Date.now()).slice(-8)}`;
const TEST_TEXT = 'Test message from Parley: this channel works.';

async function settings(browser: Browser, options: object): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto('/');
  await signIn(page, ADA);
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 2, name: 'Settings' })).toBeVisible();
  return page;
}

const section = (page: Page) => page.getByRole('region', { name: 'Channels' });
const card = (page: Page, name: string) =>
  section(page)
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { level: 4, name, exact: true }) });

async function shot(target: Page | Locator, name: string): Promise<void> {
  if (SHOTS) await target.screenshot({ path: `${SHOTS}/${name}.png` });
}

async function connect(page: Page, platform: string, name: string, credentials: Record<string, string>) {
  const channels = section(page);
  await channels.getByRole('button', { name: 'Connect a channel' }).click();
  const form = channels.getByRole('form', { name: 'Connect a channel' });
  await form.getByLabel('Platform').selectOption({ label: platform });
  await form.getByLabel('Name', { exact: true }).fill(name);
  for (const [label, value] of Object.entries(credentials))
    await form.getByLabel(label, { exact: true }).fill(value);
  await form.getByRole('button', { name: 'Connect' }).click();
  return form;
}

test('an admin connects WhatsApp to the simulator, sees the webhook URL and verify token, and a test message arrives in the inbox', async ({
  browser,
}) => {
  const page = await settings(browser, DESKTOP);
  await section(page).scrollIntoViewIfNeeded();
  await connect(page, 'WhatsApp Cloud', 'Shop WhatsApp', {
    'Phone number ID': PHONE_ID,
    'Access token': 'EAAG-e2e-access-token',
    'App secret': 'e2eappsecret0123456789',
  });
  const whatsapp = card(page, 'Shop WhatsApp');
  await expect(whatsapp.getByRole('status')).toContainText('Paste the webhook URL and verify token');
  await expect(whatsapp.getByLabel('Webhook URL', { exact: true })).toHaveValue(
    /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/whatsapp\/whatsapp-[0-9a-f]{16}$/,
  );
  await expect(whatsapp.getByLabel('Verify token', { exact: true })).toHaveValue(/^[0-9a-f]{32}$/);
  await expect(whatsapp.getByText('App secret saved')).toBeVisible();
  // The credentials are never shown again, nor anywhere on the page.
  await expect(page.locator('body')).not.toContainText('e2eappsecret0123456789');
  await expect(whatsapp.getByText('None received yet.')).toBeVisible();

  // The same name again is refused with a sentence, and nothing is added.
  const again = await connect(page, 'WhatsApp Cloud', 'shop whatsapp', {
    'Phone number ID': '100000000009999',
    'Access token': 'EAAG-e2e-access-token',
    'App secret': 'e2eappsecret0123456789',
  });
  await expect(again.getByRole('alert')).toContainText('exists already');
  await expect(card(page, 'shop whatsapp')).toHaveCount(0);
  await section(page).getByRole('button', { name: 'Close' }).click();

  await whatsapp.getByRole('button', { name: 'Send a test message' }).click();
  await expect(whatsapp.getByRole('status').filter({ hasText: 'it is in the inbox now' })).toBeVisible();
  await expect(whatsapp.getByText(/processed\./)).toBeVisible();
  await axeLightAndDark(page, '.channel-setup', 'the channels section on a desktop');
  await shot(whatsapp, 'channels-whatsapp-desktop');

  await page.goto('/');
  await expect(page.getByTestId('conversation-list').getByText(TEST_TEXT).first()).toBeVisible();
});

test('an admin sets up the web-chat widget, a bad origin is named, and a customer’s message through the preview page arrives', async ({
  browser,
}) => {
  const page = await settings(browser, DESKTOP);
  await connect(page, 'Web chat', 'Shop website', {});
  const webchat = card(page, 'Shop website');
  await expect(webchat.getByRole('textbox', { name: /Embed snippet/ })).toHaveValue(
    /^<script src="http:\/\/127\.0\.0\.1:\d+\/webchat\/widget\.js" data-app="webchat-[0-9a-f]{16}" async><\/script>$/,
  );

  const form = webchat.getByRole('form', { name: 'Widget settings' });
  await form.getByLabel('Colour').fill('#aa3366');
  await form.getByLabel('Greeting').fill('Welcome to the shop!');
  await form.getByLabel('Name', { exact: true }).check();
  await form.getByLabel('E-mail').check();
  const origins = form.getByLabel(/Allowed origins/);
  await origins.fill('shop.example.com/path');
  await expect(form.getByText('Not an origin: shop.example.com/path')).toBeVisible();
  await expect(form.getByRole('button', { name: 'Save widget' })).toBeDisabled();
  await origins.fill('https://Shop.example.com');
  await form.getByRole('button', { name: 'Save widget' }).click();
  await expect(form.getByRole('status')).toContainText('Saved');
  await expect(origins).toHaveValue('https://shop.example.com');
  await shot(webchat, 'channels-widget-desktop');

  // Another site's page is refused with a clear 403; the allowed one is not.
  const snippet = await webchat.getByRole('textbox', { name: /Embed snippet/ }).inputValue();
  const app = /data-app="([^"]+)"/.exec(snippet)![1]!;
  const refused = await page.request.post(`/webchat/${app}/session`, {
    headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
    data: {},
  });
  expect(refused.status()).toBe(403);
  expect(await refused.json()).toMatchObject({ error: 'ORIGIN_NOT_ALLOWED' });
  const allowed = await page.request.post(`/webchat/${app}/session`, {
    headers: { origin: 'https://shop.example.com', 'content-type': 'application/json' },
    data: {},
  });
  expect(allowed.status()).toBe(200);

  // The preview, on a phone: greeting, colour and pre-chat form as saved.
  const phone = await (await browser.newContext(PHONE)).newPage();
  await phone.goto(
    (await webchat.getByRole('link', { name: 'Open the preview page' }).getAttribute('href')) ?? '',
  );
  await phone.getByRole('button', { name: 'Chat with us' }).click();
  await expect(phone.getByText('Welcome to the shop!')).toBeVisible();
  await expect(phone.getByRole('button', { name: 'Chat with us' })).toHaveCSS(
    'background-color',
    'rgb(170, 51, 102)',
  );
  await phone.getByLabel('Your name').fill('Vera Visitor');
  await phone.getByLabel('Your e-mail').fill('vera@example.com');
  await phone.getByRole('button', { name: 'Start chat' }).click();
  await phone.getByLabel('Message').fill('Do you ship to Lisbon?');
  await phone.getByRole('button', { name: 'Send' }).click();
  await expect(phone.getByText('Do you ship to Lisbon?')).toBeVisible();
  await shot(phone, 'channels-preview-phone');

  await page.goto('/');
  await expect(
    page.getByTestId('conversation-list').getByText('Do you ship to Lisbon?').first(),
  ).toBeVisible();
  await expect(page.getByTestId('conversation-list').getByText('Vera Visitor').first()).toBeVisible();
});

test('Settings › Channels fits a phone', async ({ browser }) => {
  const page = await settings(browser, PHONE);
  const channels = section(page);
  await channels.scrollIntoViewIfNeeded();
  await expect(channels.getByRole('button', { name: 'Connect a channel' })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await channels.getByRole('button', { name: 'Connect a channel' }).click();
  await shot(page, 'channels-connect-phone');
  await card(page, 'Shop WhatsApp').scrollIntoViewIfNeeded();
  await shot(page, 'channels-card-phone');
  await axeLightAndDark(page, '.channel-setup', 'the channels section on a phone');
});
