import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expect,
  request as apiRequest,
  test,
  type Browser,
  type BrowserContext,
  type Page,
} from '@playwright/test';
import { ADA, ANA, expectNoAxeViolations, signIn, signInApi } from './support/app';
import { OwnServer } from './support/server';

/** A browser of its own whose tabs can only meet through the server: no BroadcastChannel. */
async function agentContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  await context.addInitScript(() => {
    delete (window as { BroadcastChannel?: unknown }).BroadcastChannel;
  });
  return context;
}

async function openSupportBoard(page: Page, account: typeof ANA): Promise<void> {
  await page.goto('/');
  await signIn(page, account);
  await page.getByRole('link', { name: 'Boards' }).click();
  await page.getByRole('link', { name: 'Support' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Support' })).toBeVisible();
  await expect(status(page)).toHaveText('Live');
}

const status = (page: Page) => page.locator('.board-status');
const card = (page: Page, cardId: string) => page.locator(`[data-card-id="${cardId}"]`);
const cardIn = (page: Page, column: string, cardId: string) =>
  page.locator(`[data-column-id="${column}"] [data-card-id="${cardId}"]`);
const note = (page: Page) => page.getByRole('textbox', { name: 'Note' });

/** Puts the cursor at the end of the open card's note and types there, as a person would. */
async function typeAtEndOfNote(page: Page, text: string): Promise<void> {
  await note(page).focus();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}

test('two agents edit one board, one of them offline; both converge and a restart loses nothing', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-board-'));
  const server = new OwnServer(Number(process.env.PARLEY_E2E_PORT ?? 3199) - 2, dataDir);
  try {
    await server.start();
    const anaContext = await agentContext(browser, server.url);
    const adaContext = await agentContext(browser, server.url);
    const ana = await anaContext.newPage();
    const ada = await adaContext.newPage();
    await openSupportBoard(ana, ANA);
    await openSupportBoard(ada, ADA);

    // The board comes from the workflow: its stages as columns, the conversations as cards.
    for (const page of [ana, ada]) {
      await expect(page.getByRole('heading', { level: 3, name: /Working on it/ })).toBeVisible();
      await expect(cardIn(page, 'new', 'demo-1')).toBeVisible();
    }
    // Each sees the other on the board.
    await expect(ana.getByRole('list', { name: 'Looking at this board' })).toContainText('Ada Admin');
    await expect(ada.getByRole('list', { name: 'Looking at this board' })).toContainText('Ana Agent');
    await expectNoAxeViolations(ana, 'board');

    // A keyboard move, without a pointer: focus the card, Shift+ArrowRight.
    await card(ana, 'demo-1').focus();
    await ana.keyboard.press('Shift+ArrowRight');
    await expect(cardIn(ana, 'working', 'demo-1')).toBeVisible();
    await expect(ana.getByText(/Maria Lopez moved to Working on it/)).toBeAttached();
    await expect(cardIn(ada, 'working', 'demo-1')).toBeVisible();

    // A pointer drag by the other agent.
    const from = await card(ada, 'demo-4').boundingBox();
    const to = await ada.locator('[data-column-id="waiting"] .board-cards').boundingBox();
    await ada.mouse.move(from!.x + from!.width / 2, from!.y + from!.height / 2);
    await ada.mouse.down();
    await ada.mouse.move(from!.x + 20, from!.y + 10, { steps: 5 });
    await ada.mouse.move(to!.x + to!.width / 2, to!.y + to!.height / 2, { steps: 10 });
    await ada.mouse.up();
    await expect(cardIn(ada, 'waiting', 'demo-4')).toBeVisible();
    await expect(cardIn(ana, 'waiting', 'demo-4')).toBeVisible();

    // Both open the same card's note.
    await card(ana, 'demo-3').click();
    await card(ada, 'demo-3').click();
    await typeAtEndOfNote(ana, 'Ana: ships Monday.');
    await expect(note(ada)).toHaveValue('Ana: ships Monday.');

    // Ana loses her connection and keeps working.
    await anaContext.setOffline(true);
    await expect(status(ana)).toHaveText(/Offline/);
    await card(ana, 'demo-2').focus();
    await ana.keyboard.press('Shift+ArrowRight');
    await ana.keyboard.press('Shift+ArrowRight');
    await expect(cardIn(ana, 'waiting', 'demo-2')).toBeVisible();
    await typeAtEndOfNote(ana, ' Offline: tracking number sent.');
    await typeAtEndOfNote(ada, ' Ada: customer asked twice.');
    // Neither edit has crossed while Ana is offline.
    await expect(cardIn(ada, 'new', 'demo-2')).toBeVisible();
    await expect(note(ada)).not.toHaveValue(/Offline/);
    await expect(note(ana)).not.toHaveValue(/Ada:/);

    await anaContext.setOffline(false);
    await expect(status(ana)).toHaveText('Live');
    await expect(cardIn(ada, 'waiting', 'demo-2')).toBeVisible();
    for (const page of [ana, ada]) {
      await expect(note(page)).toHaveValue(/Offline: tracking number sent\./);
      await expect(note(page)).toHaveValue(/Ada: customer asked twice\./);
    }
    const converged = await note(ana).inputValue();
    await expect(note(ada)).toHaveValue(converged);

    // The server restarts; a device that never saw the board gets everything from the server.
    await server.stop();
    await expect(status(ada)).not.toHaveText('Live');
    await server.start();
    await expect(status(ada)).toHaveText('Live');
    const fresh = await agentContext(browser, server.url);
    const ben = await fresh.newPage();
    await openSupportBoard(ben, { ...ANA, email: 'ben@demo.parley.test' });
    await expect(cardIn(ben, 'working', 'demo-1')).toBeVisible();
    await expect(cardIn(ben, 'waiting', 'demo-2')).toBeVisible();
    await expect(cardIn(ben, 'waiting', 'demo-4')).toBeVisible();
    await card(ben, 'demo-3').click();
    await expect(note(ben)).toHaveValue(converged);
    await expectNoAxeViolations(ben, 'board with a card open');

    await fresh.close();
    await anaContext.close();
    await adaContext.close();
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a move the workflow forbids goes back, and the agent who made it is told why', async ({ browser }) => {
  test.setTimeout(120_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-board-rules-'));
  const server = new OwnServer(Number(process.env.PARLEY_E2E_PORT ?? 3199) - 4, dataDir);
  try {
    await server.start();
    // An admin declares the support workflow's transitions: New may only go to Waiting on customer.
    const admin = await apiRequest.newContext({ baseURL: server.url });
    await signInApi(admin, ADA);
    const listed = await admin.get('/trpc/boards.workflows');
    expect(listed.ok()).toBe(true);
    const workflows = ((await listed.json()) as { result: { data: Record<string, unknown>[] } }).result.data;
    const support = workflows.find((workflow) => workflow.workflowId === 'support')!;
    const { workflowId, name, stages } = support;
    const revised = await admin.post('/trpc/admin.workflows.revise', {
      data: {
        definition: {
          workflowId,
          name,
          stages,
          transitions: [
            { from: 'new', to: 'waiting' },
            { from: 'waiting', to: 'done' },
          ],
        },
      },
    });
    expect(revised.ok()).toBe(true);
    await admin.dispose();

    const anaContext = await agentContext(browser, server.url);
    const ana = await anaContext.newPage();
    await openSupportBoard(ana, ANA);
    await expect(cardIn(ana, 'new', 'demo-1')).toBeVisible();

    // New -> Working on it is not a declared transition: the server undoes it and says so.
    await card(ana, 'demo-1').focus();
    await ana.keyboard.press('Shift+ArrowRight');
    const refusal = ana.locator('.board-refused');
    await expect(refusal).toHaveAttribute('role', 'alert');
    await expect(refusal).toContainText('Maria Lopez went back to New');
    await expect(cardIn(ana, 'new', 'demo-1')).toBeVisible();
    await expect(cardIn(ana, 'working', 'demo-1')).toHaveCount(0);
    await expectNoAxeViolations(ana, 'board with a refused move');

    // The refusal is explained once; dismissing it leaves the board as the workflow allows.
    await refusal.getByRole('button', { name: 'Dismiss' }).click();
    await expect(refusal).toHaveCount(0);
    await expect(cardIn(ana, 'new', 'demo-1')).toBeVisible();
    await anaContext.close();
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
