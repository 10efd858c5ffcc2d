import { expect, test, type Page } from '@playwright/test';

/** Waits until a service worker controls the page, reloading once if it activated without claiming it. */
async function waitForServiceWorkerControl(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const controlled = () => navigator.serviceWorker.controller !== null;
  // clientsClaim() should hand this page to the new worker at once; a reload is the fallback.
  const claimed = await page.waitForFunction(controlled, undefined, { timeout: 5_000 }).then(
    () => true,
    () => false,
  );
  if (!claimed) {
    await page.reload();
    await page.waitForFunction(controlled);
  }
}

test('shows the app and the server health', async ({ page }) => {
  await page.goto('/');

  await expect(page).toHaveTitle('Parley');
  await expect(page.getByRole('heading', { level: 1, name: 'Parley' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText(
    /Connected to Parley \S+ · (PGlite|PostgreSQL) database · \d+ migrations? applied/,
  );
  await expect(page.getByText('Offline — showing the app from this device')).toBeHidden();
});

test('keeps working offline from the service worker cache', async ({ page, context }) => {
  await page.goto('/');
  await waitForServiceWorkerControl(page);

  await context.setOffline(true);
  const response = await page.reload();

  expect(response?.fromServiceWorker()).toBe(true);
  await expect(page.getByRole('heading', { level: 1, name: 'Parley' })).toBeVisible();
  await expect(page.getByText('Offline — showing the app from this device')).toBeVisible();
});
