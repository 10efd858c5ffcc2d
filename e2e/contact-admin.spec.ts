import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { ADA, ANA, expectNoAxeViolations, openConversation, signIn } from './support/app';
import { ApiSession, demoWhatsAppSecret, whatsAppCustomerWrites } from './support/webhooks';

// #18: an admin exports a contact's data as a ZIP and erases the contact from the contact panel
// (decisions 0022 and 0030); agents see neither. Each test writes in a customer of its own through
// the WhatsApp webhook, so no demo conversation other specs use is ever erased.

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const SHOTS = process.env.PARLEY_STORY_SHOTS;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let secret = '';
let customers = 0;

test.beforeAll(async () => {
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  secret = await demoWhatsAppSecret(admin);
});

/** A new customer writes in on WhatsApp; returns their name (unique to this run). */
async function customerWrites(first: string, text: string): Promise<string> {
  customers += 1;
  const stamp = `${Date.now() % 100_000}${customers}`;
  const name = `${first} ${stamp}`;
  await whatsAppCustomerWrites(BASE, secret, { name, waId: `1555777${stamp}`, text });
  return name;
}

async function signedIn(browser: Browser, account: typeof ADA, options: object = { viewport: DESKTOP }) {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto('/');
  await signIn(page, account);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

test('an admin exports a new contact’s data as a ZIP, then erases the contact with a reason', async ({
  browser,
}) => {
  const text = 'Please send me all my data';
  const name = await customerWrites('Xenia Export', text);
  const page = await signedIn(browser, ADA);
  await openConversation(page, name);
  const conversationId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  const panel = page.getByRole('complementary', { name: 'Contact' });
  const exportButton = panel.getByRole('button', { name: 'Export data' });
  await exportButton.scrollIntoViewIfNeeded();

  const [download] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
  expect(download.suggestedFilename()).toMatch(/^parley-demo-contact-\d{4}-\d{2}-\d{2}\.zip$/);
  const files = unzipSync(readFileSync(await download.path()));
  const manifest = JSON.parse(strFromU8(files['manifest.json']!)) as {
    tenant: string;
    contact: { name: string; conversations: string[] };
    exportedBy: string;
    counts: { conversations: number; events: number };
    files: { path: string; sha256: string }[];
  };
  expect(manifest).toMatchObject({
    tenant: 'demo',
    exportedBy: 'ada',
    contact: { name, conversations: [conversationId] },
    counts: { conversations: 1 },
  });
  expect(manifest.files.map((file) => file.path)).toContain(`conversations/${conversationId}.json`);
  expect(strFromU8(files[`conversations/${conversationId}.json`]!)).toContain(text);
  await expect(panel.getByRole('status')).toContainText('The export is recorded');
  await shot(page, 'contact-admin-desktop');

  // The erase dialog: says what it does, needs a reason, Esc closes it and focus comes back.
  const eraseButton = panel.getByRole('button', { name: 'Erase contact…' });
  await eraseButton.click();
  const dialog = page.getByRole('dialog', { name: `Erase ${name}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('This cannot be undone.');
  const reason = dialog.getByLabel('Reason (kept with the erasure)');
  await expect(reason).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(eraseButton).toBeFocused();
  // Esc from one of the dialog's buttons closes the dialog only: the conversation stays open.
  const opened = page.url();
  await eraseButton.click();
  await dialog.getByRole('button', { name: 'Cancel' }).focus();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(page.url()).toBe(opened);
  await expect(eraseButton).toBeVisible();

  await eraseButton.click();
  await dialog.getByRole('button', { name: 'Erase contact', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('Say why');
  await reason.fill('GDPR art. 17 request by e-mail');
  await shot(page, 'contact-admin-erase-dialog-desktop');
  await dialog.getByRole('button', { name: 'Erase contact', exact: true }).click();
  await expect(dialog).toBeHidden();
  // The panel says so; unless this device has already dropped the erased conversation (the sync
  // engine's part of #18), which then says so in its own words.
  await expect(
    panel
      .getByRole('status')
      .filter({ hasText: 'Contact erased: 1 conversation now reads “[erased]”' })
      .or(page.getByRole('alert').filter({ hasText: /erased/ })),
  ).toBeVisible();

  // The conversation as the server shows it to any device now: its events stay, their content is
  // "[erased]". (What a device that held it does is the sync engine's part of #18.)
  const input = encodeURIComponent(JSON.stringify({ conversationId, afterVersion: 0 }));
  const response = await page.request.get(`/trpc/conversations.get?input=${input}`);
  expect(response.ok()).toBe(true);
  const conversation = JSON.stringify(await response.json());
  expect(conversation).toContain('[erased]');
  expect(conversation).not.toContain(text);
  expect(conversation).not.toContain(name);
  await page.context().close();
});

test('on a phone the admin part is in the contact drawer; Esc closes the dialog, not the drawer', async ({
  browser,
}) => {
  const name = await customerWrites('Yusuf Phone', 'Hello from my phone');
  const page = await signedIn(browser, ADA, PHONE);
  await openConversation(page, name);
  await page.getByRole('button', { name: 'Contact details' }).click();
  const drawer = page.getByRole('complementary', { name: 'Contact' });
  await expect(drawer).toBeVisible();
  const eraseButton = drawer.getByRole('button', { name: 'Erase contact…' });
  await eraseButton.scrollIntoViewIfNeeded();
  await expect(drawer.getByRole('button', { name: 'Export data' })).toBeVisible();
  await shot(page, 'contact-admin-phone');
  await expectNoAxeViolations(page, 'the contact drawer of an admin on a phone');
  await eraseButton.click();
  const dialog = page.getByRole('dialog', { name: `Erase ${name}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeInViewport();
  await shot(page, 'contact-admin-erase-dialog-phone');
  await expectNoAxeViolations(page, 'the erase dialog on a phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'contact-admin-erase-dialog-phone-dark');
  await expectNoAxeViolations(page, 'the erase dialog on a phone, dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(drawer).toBeVisible();
  await expect(eraseButton).toBeFocused();
  await page.context().close();
});

test('an agent sees neither Export data nor Erase contact', async ({ browser }) => {
  const name = await customerWrites('Zoe Agent', 'Can an agent erase me?');
  const page = await signedIn(browser, ANA);
  await openConversation(page, name);
  const panel = page.getByRole('complementary', { name: 'Contact' });
  // The panel has drawn its last part for everyone (the notes) before the admin part would follow.
  await expect(panel.getByRole('heading', { name: 'Notes on this contact' })).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Export data' })).toHaveCount(0);
  await expect(panel.getByRole('button', { name: /Erase contact/ })).toHaveCount(0);
  await page.context().close();
});
