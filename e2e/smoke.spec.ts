import { expect, test } from '@playwright/test';
import {
  ADA,
  ANA,
  expectNoAxeViolations,
  listRow,
  openConversation,
  sendReply,
  signIn,
  waitForServiceWorkerControl,
} from './support/app';

interface Manifest {
  name: string;
  short_name: string;
  start_url: string;
  display: string;
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; purpose?: string }[];
}

test('meets the install criteria: a manifest with icons and an active service worker', async ({
  page,
  request,
}) => {
  await page.goto('/');
  await expect(page).toHaveTitle('Parley');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const manifest = (await (await request.get(href!)).json()) as Manifest;
  expect(manifest).toMatchObject({
    name: 'Parley',
    short_name: 'Parley',
    start_url: '/',
    display: 'standalone',
  });
  expect(manifest.theme_color).toMatch(/^#/);
  const icons = manifest.icons.map((icon) => `${icon.sizes}/${icon.purpose ?? 'any'}`);
  expect(icons).toEqual(expect.arrayContaining(['192x192/any', '512x512/any', '512x512/maskable']));
  for (const icon of manifest.icons) expect((await request.get(icon.src)).ok()).toBe(true);
  await waitForServiceWorkerControl(page);
  const state = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state);
  expect(state).toBe('activated');
  await expectNoAxeViolations(page, 'sign-in');
});

test('opens offline after one visit, with the inbox and conversations from this device', async ({
  page,
  context,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await waitForServiceWorkerControl(page);
  await expectNoAxeViolations(page, 'inbox');
  await openConversation(page, 'Maria Lopez');
  await expect(
    page.getByRole('list', { name: 'Messages' }).getByText('Hi! My order #1042 has not arrived yet.'),
  ).toBeVisible();
  await expectNoAxeViolations(page, 'conversation');

  await context.setOffline(true);
  const response = await page.reload();
  expect(response?.fromServiceWorker()).toBe(true);
  await expect(page.getByRole('status').filter({ hasText: 'Offline — nothing queued' })).toBeVisible();
  await expect(
    page.getByRole('list', { name: 'Messages' }).getByText('Hi! My order #1042 has not arrived yet.'),
  ).toBeVisible();
  await page.goto('/');
  await listRow(page, 'Li Wei');
  await expectNoAxeViolations(page, 'inbox offline');
  await context.setOffline(false);
});

test('the phone layout shows one pane at a time; search and filters narrow the list', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto('/');
  await signIn(page, ANA);
  await page.getByRole('searchbox', { name: 'Search conversations' }).fill('yuki');
  await expect(page.getByRole('link', { name: /Yuki Tanaka/ })).toBeVisible();
  await expect(page.getByRole('link', { name: /Maria Lopez/ })).toBeHidden();
  await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
  await page.getByRole('button', { name: 'Unassigned' }).click();
  await expect(page.getByText(/^\d+ conversations?$/)).toBeVisible();
  await page.getByRole('button', { name: 'All' }).click();
  await openConversation(page, 'Yuki Tanaka');
  await expect(page.getByRole('searchbox', { name: 'Search conversations' })).toBeHidden();
  await expectNoAxeViolations(page, 'conversation on a phone');
  await page.getByRole('button', { name: 'Back to inbox' }).click();
  await listRow(page, 'Maria Lopez');
});

test('admins get settings: inboxes with their policy, workflows, templates', async ({ page }) => {
  await page.goto('/');
  await signIn(page, ADA);
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Settings' }).getByText('Support (WhatsApp)')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Stages of Support' })).toContainText('Working on it');
  await expect(page.getByRole('region', { name: 'Settings' }).getByText('order_update')).toBeVisible();
  await expectNoAxeViolations(page, 'settings');
});

test('the contact panel: details, a label added and shown, on a wide screen and as a phone overlay', async ({
  page,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Tom Baker');
  const panel = page.getByRole('complementary', { name: 'Contact' });
  await expect(panel).toContainText('Reply window');
  const label = `vip-${Date.now()}`;
  await panel.getByLabel('New label').fill(label);
  await panel.getByRole('button', { name: 'Add' }).click();
  await expect(panel.getByRole('list', { name: 'Labels' })).toContainText(label);
  await expect(panel.getByRole('button', { name: `Remove label ${label}` })).toBeVisible();
  await expectNoAxeViolations(page, 'contact panel');

  await page.setViewportSize({ width: 390, height: 800 });
  await expect(panel).toBeHidden();
  await page.getByRole('button', { name: 'Contact details' }).click();
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('list', { name: 'Labels' })).toContainText(label);
  await expectNoAxeViolations(page, 'contact panel on a phone');
});

test('a reply to a demo conversation goes out on the simulated WhatsApp channel and is read', async ({
  page,
}) => {
  const text = `On its way ${Date.now()}`;
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Yuki Tanaka');
  await sendReply(page, text);
  // The simulator answers the send, then posts delivered and read receipts, as WhatsApp does.
  await expect(page.locator('.message.reply', { hasText: text })).toHaveAttribute('data-state', 'read', {
    timeout: 20_000,
  });
});
