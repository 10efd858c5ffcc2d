import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, request as apiRequest, test } from '@playwright/test';
import { ANA, openConversation, readByAna, sendReply, serverReplies, signIn, signInApi } from './support/app';
import { FaultProxy } from './support/proxy';
import { OwnServer } from './support/server';

test('the server restarted in the middle of a flush: nothing lost, nothing twice', async ({ browser }) => {
  test.setTimeout(180_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-restart-'));
  const server = new OwnServer(Number(process.env.PARLEY_E2E_PORT ?? 3199) - 1, dataDir);
  const proxy = new FaultProxy(server.url);
  try {
    await server.start();
    const origin = await proxy.start();
    const context = await browser.newContext({ baseURL: origin });
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, ANA);
    await openConversation(page, 'Maria Lopez');
    // Opening it marks it read, a command of its own (#14): let it go first, so the batch held
    // below is the replies'.
    const api = await apiRequest.newContext({ baseURL: server.url });
    await signInApi(api);
    await expect.poll(() => readByAna(api, 'demo-1')).toBe(true);
    await context.setOffline(true);
    const texts = [1, 2, 3, 4, 5].map((i) => `restart #${i}`);
    for (const text of texts) await sendReply(page, text);

    // The five go in one batch, which commits; the server goes down before its answer leaves, and
    // comes back. The resent batch is answered from the stored answers.
    const batch = proxy.holdAnswer('/trpc/conversations.commandBatch');
    await context.setOffline(false);
    const answer = await batch;
    expect(answer.status).toBe(200);
    await server.stop();
    answer.drop();
    await expect(page.getByRole('status').filter({ hasText: /Reconnecting|Sending/ })).toBeVisible();
    await server.start();

    await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(0);
    await expect(page.getByRole('status').filter({ hasText: /queued/ })).toHaveCount(0);
    await expect.poll(() => serverReplies(api, 'demo-1', 'restart #')).toEqual(texts);
    await api.dispose();
    await context.close();
  } finally {
    await proxy.stop();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
