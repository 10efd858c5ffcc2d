import { expect, test, type Page } from '@playwright/test';
import { ADA, ANA, openConversation, sendReply, signIn, waitForServiceWorkerControl } from './support/app';

/**
 * Collects every Content-Security-Policy violation the page reports: `securitypolicyviolation`
 * events (through a binding, so they survive navigations) and the browser's console errors about
 * the policy. Playwright's init script runs outside the page's policy.
 */
async function watchPolicy(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeBinding('__reportCspViolation', (_source, text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const binding = window as unknown as { __reportCspViolation: (text: string) => void };
      binding.__reportCspViolation(
        `${location.pathname}: ${event.violatedDirective} blocked ${event.blockedURI} ${event.sample}`,
      );
    });
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && /content security policy|refused to/i.test(message.text())) {
      violations.push(`console: ${message.text()}`);
    }
  });
  return violations;
}

test('[S17] every screen runs under the Content-Security-Policy without a violation', async ({ page }) => {
  const violations = await watchPolicy(page);
  const response = await page.goto('/');
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("default-src 'self'");
  expect(policy).not.toContain('unsafe-inline');
  await expect(page.getByLabel('Workspace')).toBeVisible();

  await signIn(page, ADA);
  await waitForServiceWorkerControl(page);
  await openConversation(page, 'Maria Lopez');
  await expect(
    page.getByRole('list', { name: 'Messages' }).getByText('Hi! My order #1042 has not arrived yet.'),
  ).toBeVisible();

  await page.getByRole('link', { name: 'Boards' }).click();
  await page.getByRole('link', { name: 'Support' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Support' })).toBeVisible();
  await expect(page.locator('.board-status')).toHaveText('Live');

  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

  // Reloaded from the service worker's copy: the cached page keeps a policy its scripts pass.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

  // The sign-out question, and signing out with this device's copy erased (S18).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('dialog')).toContainText("Erase this device's copy");
  await page.getByRole('button', { name: 'Sign out and erase' }).click();
  await expect(page.getByLabel('Workspace')).toBeVisible();
  expect(violations).toEqual([]);
});

test('[S17] the web chat page and its widget run under their policy without a violation', async ({
  page,
}) => {
  const violations = await watchPolicy(page);
  const response = await page.goto('/webchat/demo-webchat');
  expect(response?.headers()['content-security-policy']).toContain('frame-ancestors *');
  const toggle = page.getByRole('button', { name: 'Chat with us' });
  await expect(toggle).toBeVisible();
  // The widget styles itself through the CSSOM, which the policy allows.
  await expect(toggle).toHaveCSS('background-color', 'rgb(45, 91, 255)');
  await expect(page.locator('body')).toHaveCSS('margin-top', '32px');
  await toggle.click();
  await page.getByRole('textbox', { name: 'Message' }).fill(`csp check ${Date.now()}`);
  const sent = page.waitForResponse(
    (answer) => answer.url().endsWith('/events') && answer.request().method() === 'POST',
  );
  await page.getByRole('button', { name: 'Send' }).click();
  expect((await sent).ok()).toBe(true);
  await expect(page.locator('li', { hasText: 'csp check' })).toHaveCSS('color', 'rgb(255, 255, 255)');
  expect(violations).toEqual([]);
});

const parleyDatabases = (page: Page, prefix: string) =>
  page.evaluate(
    async (start) =>
      (await indexedDB.databases()).map((each) => each.name ?? '').filter((name) => name.startsWith(start)),
    prefix,
  );

test("[S18] signing out can erase this device's copy: databases, board documents and media caches", async ({
  page,
}) => {
  await page.goto('/');
  await signIn(page, ADA);
  await waitForServiceWorkerControl(page);
  await page.getByRole('link', { name: 'Boards' }).click();
  await page.getByRole('link', { name: 'Support' }).click();
  await expect(page.locator('.board-status')).toHaveText('Live');
  await page.evaluate(async () => {
    await (await caches.open('parley-media')).put('/media/probe.png', new Response('probe'));
  });
  expect(await parleyDatabases(page, 'parley:demo:ada')).toEqual(
    expect.arrayContaining(['parley:demo:ada', expect.stringMatching(/^parley:demo:ada:board:/)]),
  );

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign out and erase' }).click();
  await expect(page.getByLabel('Workspace')).toBeVisible();
  await expect.poll(() => parleyDatabases(page, 'parley:demo:ada')).toEqual([]);
  expect(await page.evaluate(() => caches.has('parley-media'))).toBe(false);
  expect(await page.evaluate(() => localStorage.getItem('parley.boards:demo:ada'))).toBeNull();
  // The app shell stays cached: the next person can still open Parley offline.
  expect((await page.evaluate(() => caches.keys())).some((name) => name.startsWith('workbox-precache'))).toBe(
    true,
  );
});

test('[S18] signing out with replies still queued warns how many would be lost, and keeping the copy keeps them', async ({
  page,
  context,
}) => {
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Maria Lopez');
  await context.setOffline(true);
  await sendReply(page, `queued at sign-out ${Date.now()}`);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('alert')).toContainText('1 reply is still waiting to be sent');
  await expect(page.getByRole('button', { name: 'Erase anyway (1 lost)' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out, keep on this device' }).click();
  await expect(page.getByLabel('Workspace')).toBeVisible();
  const outbox = await page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('parley:demo:ana');
        open.onerror = () => reject(new Error(String(open.error)));
        open.onsuccess = () => {
          const count = open.result.transaction('outbox').objectStore('outbox').count();
          count.onsuccess = () => {
            open.result.close();
            resolve(count.result);
          };
        };
      }),
  );
  expect(outbox).toBe(1);
  await context.setOffline(false);
});
