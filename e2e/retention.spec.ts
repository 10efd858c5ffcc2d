import { expect, test, type Browser, type Page } from '@playwright/test';
import { ADA, ANA, axeLightAndDark, signIn } from './support/app';
import { ApiSession } from './support/webhooks';

// #18, decision 0031: an admin sets how long message content stays readable in Settings › Data
// retention; agents see no such control, and their devices learn the value. Every spec shares one
// server, so the retention is put back to "Keep for ever" at the end, whatever happened.

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const SHOTS = process.env.PARLEY_STORY_SHOTS;
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const FOR_EVER = 'Message content is kept for ever.';
const THIRTY_DAYS =
  'Message text, replies and notes older than 30 days become unreadable; contact names and report counts stay.';

test.afterAll(async () => {
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  await admin.mutate('admin.settings.setRetention', { days: null });
});

async function signedIn(browser: Browser, account: typeof ADA, options: object): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto('/');
  await signIn(page, account);
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 2, name: 'Settings' })).toBeVisible();
  return page;
}

const section = (page: Page) => page.getByRole('region', { name: 'Data retention' });

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

/** The retention the agent's device keeps (meta row `retention`), read from IndexedDB. */
function deviceRetention(page: Page, database: string): Promise<unknown> {
  return page.evaluate(
    (name) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const get = open.result.transaction('meta').objectStore('meta').get('retention');
          get.onsuccess = () => {
            resolve((get.result as { value?: unknown } | undefined)?.value);
            open.result.close();
          };
          get.onerror = () => reject(new Error(String(get.error)));
        };
      }),
    database,
  );
}

test('an admin shortens retention to 30 days after a confirmation, it survives a reload, an agent’s device learns it and sees no control, and the admin puts it back to for ever', async ({
  browser,
}) => {
  const page = await signedIn(browser, ADA, DESKTOP);
  const retention = section(page);
  await retention.scrollIntoViewIfNeeded();
  await expect(retention.getByText(FOR_EVER)).toBeVisible();
  await expect(retention.getByRole('radio', { name: 'Keep for ever' })).toBeChecked();
  await axeLightAndDark(page, '.retention-settings', 'the retention section on a desktop');

  // A value the server cannot take is refused here, with a sentence, and nothing is sent.
  await retention.getByRole('radio', { name: 'For a number of days' }).check();
  const days = retention.getByLabel('Days (1–3650)');
  await days.fill('0');
  await retention.getByRole('button', { name: 'Save' }).click();
  await expect(retention.getByRole('alert')).toContainText('whole number of days from 1 to 3650');
  await expect(days).toHaveAttribute('aria-invalid', 'true');

  // From "for ever", any limit is shorter: the admin is asked first, and may step back.
  await days.fill('30');
  await retention.getByRole('button', { name: 'Save' }).click();
  const confirm = page.getByRole('dialog', { name: 'Shorten retention to 30 days?' });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText('At the next hourly sweep');
  await expect(confirm).toContainText('unreadable for good');
  await expect(confirm).toContainText('This cannot be undone');
  await axeLightAndDark(page, '.retention-dialog', 'the retention confirmation on a desktop');
  await shot(page, 'retention-confirm-desktop');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(retention.getByRole('button', { name: 'Save' })).toBeFocused();
  await expect(retention.getByText(FOR_EVER)).toBeVisible();

  // Confirmed from the keyboard: Save is focused, Enter opens the dialog, its button confirms.
  await page.keyboard.press('Enter');
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Shorten retention' }).click();
  await expect(retention.getByRole('status')).toContainText(`Saved. ${THIRTY_DAYS}`);
  await expect(retention.locator('.retention-current')).toHaveText(THIRTY_DAYS);
  await shot(page, 'retention-saved-desktop');

  await page.reload();
  await expect(section(page).locator('.retention-current')).toHaveText(THIRTY_DAYS);
  await expect(section(page).getByRole('radio', { name: 'For a number of days' })).toBeChecked();
  await expect(section(page).getByLabel('Days (1–3650)')).toHaveValue('30');

  // An agent has no such control, and their device keeps the value to honour it offline.
  const agent = await signedIn(browser, ANA, DESKTOP);
  await expect(agent.getByRole('heading', { name: 'Your profile' })).toBeVisible();
  await expect(section(agent)).toHaveCount(0);
  await expect(agent.getByRole('button', { name: 'Save' })).toHaveCount(0);
  await expect.poll(() => deviceRetention(agent, 'parley:demo:ana')).toBe(30);
  await agent.context().close();

  // Back to for ever: a longer limit is not confirmed.
  await section(page).getByRole('radio', { name: 'Keep for ever' }).check();
  await section(page).getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(section(page).getByRole('status')).toContainText(`Saved. ${FOR_EVER}`);
  await page.reload();
  await expect(section(page).locator('.retention-current')).toHaveText(FOR_EVER);
  await page.context().close();
});

test('on a phone the retention section and its confirmation fit the screen and pass axe, light and dark', async ({
  browser,
}) => {
  const page = await signedIn(browser, ADA, PHONE);
  const retention = section(page);
  await retention.scrollIntoViewIfNeeded();
  await expect(retention.getByText(FOR_EVER)).toBeVisible();
  const width = 390;
  for (const box of await retention.locator('*').evaluateAll((all) =>
    all.map((element) => {
      const rect = element.getBoundingClientRect();
      return { what: element.tagName, left: rect.left, right: rect.right, width: rect.width };
    }),
  ))
    if (box.width > 0) expect(box.right, `${box.what} sticks out`).toBeLessThanOrEqual(width + 1);
  await axeLightAndDark(page, '.retention-settings', 'the retention section on a phone');
  await retention.getByRole('radio', { name: 'For a number of days' }).check();
  await retention.getByLabel('Days (1–3650)').fill('7');
  await retention.getByRole('button', { name: 'Save' }).tap();
  const confirm = page.getByRole('dialog', { name: 'Shorten retention to 7 days?' });
  await expect(confirm).toBeInViewport({ ratio: 1 });
  await expect(confirm.getByRole('button', { name: 'Shorten retention' })).toBeInViewport({ ratio: 1 });
  await axeLightAndDark(page, '.retention-dialog', 'the retention confirmation on a phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'retention-confirm-phone-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await shot(page, 'retention-confirm-phone');
  // Escape steps back, as Cancel does: nothing changed.
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(retention.locator('.retention-current')).toHaveText(FOR_EVER);
  await shot(page, 'retention-phone');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'retention-phone-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.context().close();
});
