import { expect, test, type Page } from '@playwright/test';
import { ADA, openConversation, sendReply, serverReplies, signIn, signInApi } from './support/app';
import { ApiSession, demoWhatsAppSecret, whatsAppCustomerWrites } from './support/webhooks';

// Issue #18, decision 0029: an admin's erasure reaches every agent's device, offline ones included.

const BEN = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };
const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;

/** Which of these strings Ben's IndexedDB holds anywhere (every store, every row), read raw. */
async function deviceHolds(page: Page, secrets: readonly string[]): Promise<string[]> {
  return page.evaluate(async (secrets) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('parley:demo:ben');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB did not open'));
    });
    try {
      const names = Array.from(db.objectStoreNames);
      const tx = db.transaction(names, 'readonly');
      const stores = await Promise.all(
        names.map(
          (name) =>
            new Promise<unknown[]>((resolve, reject) => {
              const request = tx.objectStore(name).getAll();
              request.onsuccess = () => resolve(request.result as unknown[]);
              request.onerror = () => reject(request.error ?? new Error(`${name} did not read`));
            }),
        ),
      );
      const text = JSON.stringify(stores);
      return secrets.filter((secret) => text.includes(secret));
    } finally {
      db.close();
    }
  }, secrets);
}

test('an agent offline with a queued reply comes online after an admin erased the contact: the device holds nothing of them, and the agent is told the reply was discarded', async ({
  page,
  context,
  request,
}) => {
  const stamp = Date.now().toString(36);
  const name = `Erasable ${stamp}`;
  const waId = `1555777${String(Date.now() % 100_000).padStart(5, '0')}`;
  const text = `please forget me ${stamp}`;
  const reply = `unsent reply ${stamp}`;
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  // A conversation of its own: the demo's are other specs' to use.
  await whatsAppCustomerWrites(BASE, await demoWhatsAppSecret(admin), { name, waId, text });

  await page.goto('/');
  await signIn(page, BEN);
  await openConversation(page, name);
  await expect(page.locator('.message', { hasText: text })).toBeVisible();
  const conversationId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  await expect.poll(() => deviceHolds(page, [name, waId, text])).toEqual([name, waId, text]);

  await context.setOffline(true);
  await sendReply(page, reply);
  await expect(page.locator('.message.reply[data-state="queued"]', { hasText: reply })).toBeVisible();

  await admin.mutate('contacts.erase', { conversationId, reason: 'the customer asked to be forgotten' });

  await context.setOffline(false);
  const notice = page.getByRole('alert').filter({ hasText: 'erased by an admin' });
  await expect(notice).toContainText('your unsent reply was discarded');
  // The open conversation is left for the inbox, and its row is gone from the list.
  await expect(page).not.toHaveURL(/\/c\//);
  await expect(
    page.getByTestId('conversation-list').getByRole('link', { name: new RegExp(name) }),
  ).toHaveCount(0);
  await expect.poll(() => deviceHolds(page, [name, waId, text, reply])).toEqual([]);
  // The discarded reply never reached the server.
  await signInApi(request);
  expect(await serverReplies(request, conversationId, reply)).toEqual([]);

  // The notice stays until the agent closes it (a reload still shows it), then is gone for good.
  await page.reload();
  await expect(notice).toBeVisible();
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);
});
