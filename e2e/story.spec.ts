import { expect, test, type Browser, type Page } from '@playwright/test';
import { ADA, ANA, expectNoAxeViolations, openConversation, signIn } from './support/app';
import { ApiSession, demoWhatsAppSecret, whatsAppCustomerWrites } from './support/webhooks';

// #15 items 4, 11 and 13: activity lines in the timeline, board cards that show their
// conversation, and the contact panel (past conversations, notes), at desktop and phone sizes.

const BEN = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };
const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const SHOTS = process.env.PARLEY_STORY_SHOTS;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let secret = '';
let ben: ApiSession;
let customers = 0;

test.beforeAll(async () => {
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  secret = await demoWhatsAppSecret(admin);
  ben = new ApiSession(BASE);
  await ben.signIn(BEN);
});

/** A new customer writes in (a conversation of their own); returns their wa id. */
async function customerWrites(name: string, text: string, waId?: string): Promise<string> {
  customers += 1;
  const id = waId ?? `1555888${String(Date.now() % 10_000).padStart(4, '0')}${customers}`;
  await whatsAppCustomerWrites(BASE, secret, { name, waId: id, text });
  return id;
}

async function agentPage(browser: Browser, viewport = DESKTOP): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto('/');
  await signIn(page, ANA);
  return page;
}

/** Opens the contact's conversation and returns its id (from the address). */
async function openAndGetId(page: Page, name: string): Promise<string> {
  await expect(page.getByRole('link', { name: new RegExp(name) })).toBeVisible();
  await openConversation(page, name);
  await expect(page).toHaveURL(/\/c\//);
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Elements inside `selector` whose content is wider than their box (each an overflow). */
async function overflowing(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((cards) =>
    cards.flatMap((card) =>
      [card, ...Array.from(card.querySelectorAll<HTMLElement>('*'))]
        .filter((element) => element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 0)
        .filter((element) => getComputedStyle(element).textOverflow !== 'ellipsis')
        // Text for screen readers only is clipped on purpose.
        .filter((element) => !element.classList.contains('visually-hidden'))
        .map((element) => `${element.className || element.tagName}: ${element.textContent ?? ''}`),
    ),
  );
}

test('[AC1] activity lines appear live in the timeline when another agent acts, named', async ({
  browser,
}) => {
  const page = await agentPage(browser);
  await customerWrites('Avery Activity', 'My invoice is wrong');
  const conversationId = await openAndGetId(page, 'Avery Activity');
  const timeline = page.getByRole('list', { name: 'Messages' });
  // The engine assigned it by the inbox's policy as it came in (AC3).
  await expect(
    timeline.locator('.activity-line', {
      hasText: /Assigned to [A-Z][a-z]+ Agent by round robin|Assigned to You by round robin/,
    }),
  ).toBeVisible();

  await ben.mutate('conversations.label', { conversationId, label: 'billing', action: 'add' });
  await expect(timeline.getByText('Label billing added by Ben')).toBeVisible();
  await ben.mutate('conversations.setPriority', { conversationId, priority: 'high' });
  await expect(timeline.getByText('Priority set to high by Ben')).toBeVisible();
  await ben.mutate('boards.moveCard', {
    conversationId,
    toStageId: 'waiting',
    orderKey: 'a5',
    targetStageCount: 0,
  });
  await expect(timeline.getByText('Moved to Waiting on customer by Ben')).toBeVisible();
  await ben.mutate('conversations.resolve', { conversationId });
  await expect(timeline.getByText('Resolved by Ben')).toBeVisible();
  // Ana's own change says "You"; no agent id shows anywhere.
  await page.getByRole('button', { name: 'Reopen' }).click();
  await expect(timeline.getByText(/Reopened by You — new cycle \(2\)/)).toBeVisible();
  await expect(timeline.locator('.activity-line', { hasText: /\bben\b|\bana\b/ })).toHaveCount(0);
  await shot(page, 'activity-desktop');
  await expectNoAxeViolations(page, 'a conversation with activity lines');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAxeViolations(page, 'a conversation with activity lines, dark');
  await shot(page, 'activity-dark');
});

test('[AC1] activity lines on a phone stay inside the timeline', async ({ browser }) => {
  const page = await agentPage(browser, PHONE);
  await customerWrites('Piper Phone', 'Hello from my phone, about a very long order number 1234567890');
  const conversationId = await openAndGetId(page, 'Piper Phone');
  await ben.mutate('conversations.label', {
    conversationId,
    label: 'a-rather-long-label-name-for-a-phone',
    action: 'add',
  });
  const line = page.locator('.activity-line', { hasText: 'a-rather-long-label-name-for-a-phone' });
  await expect(line).toBeVisible();
  expect(await overflowing(page, '.activity-line')).toEqual([]);
  await shot(page, 'activity-phone');
});

test('board cards show assignee, labels, channel and preview, and nothing overflows a card', async ({
  browser,
}) => {
  await customerWrites('Casey Cards', 'A preview long enough to need an ellipsis on the board card, surely');
  const page = await agentPage(browser);
  const conversationId = await openAndGetId(page, 'Casey Cards');
  await ben.mutate('conversations.label', { conversationId, label: 'billing', action: 'add' });
  await ben.mutate('conversations.assign', { conversationId, agentId: 'ben' });

  await page.goto('/board/support');
  const card = page.locator('.board-card', { hasText: 'Casey Cards' });
  await expect(card).toBeVisible();
  await expect(card.locator('.chip', { hasText: 'billing' })).toBeVisible();
  await expect(card.locator('.card-assignee')).toHaveText(/Ben/);
  await expect(card.locator('.card-preview')).toContainText('A preview long enough');
  await expect(card.locator('.card-preview')).toHaveAttribute('dir', 'auto');
  await expect(card.getByRole('img', { name: 'WhatsApp' })).toBeVisible();

  // Every card whose conversation has an assignee names them (item 11: 11 of 17 showed none).
  const cards = page.locator('.board-card');
  const count = await cards.count();
  expect(count).toBeGreaterThan(4);
  const assignees = await page.locator('.card-assignee').allTextContents();
  expect(assignees.filter((text) => /^(ana|ben|ada|chloe)$/.test(text.trim()))).toEqual([]);
  expect(assignees.filter((text) => text.includes('Unassigned')).length).toBeLessThan(count);
  expect(await overflowing(page, '.board-card')).toEqual([]);
  await expectNoAxeViolations(page, 'the board');
  await shot(page, 'board-desktop');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAxeViolations(page, 'the board, dark');
  await shot(page, 'board-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // The card panel opens in view and leaves the Done column visible.
  await card.click();
  const panel = page.locator('.board-panel');
  await expect(panel).toBeVisible();
  const box = (await panel.boundingBox())!;
  expect(box.y).toBeLessThan(DESKTOP.height / 2);
  await expect(panel.getByText(/assigned to Ben/)).toBeVisible();
  const done = (await page.locator('[data-column-id="done"]').boundingBox())!;
  expect(done.x + done.width).toBeLessThanOrEqual(box.x + 1);
  await shot(page, 'board-panel-desktop');
  await expectNoAxeViolations(page, 'the board with a card open');
});

test('board cards on a phone: no overflow, and the card panel opens in view', async ({ browser }) => {
  const page = await agentPage(browser, PHONE);
  await page.goto('/board/support');
  const cards = page.locator('.board-card');
  await expect(cards.first()).toBeVisible();
  expect(await overflowing(page, '.board-card')).toEqual([]);
  await shot(page, 'board-phone');
  await cards.first().click();
  const box = (await page.locator('.board-panel').boundingBox())!;
  expect(box.y).toBeGreaterThanOrEqual(0);
  expect(box.y).toBeLessThan(PHONE.height);
  await shot(page, 'board-panel-phone');
  await expectNoAxeViolations(page, 'the board on a phone');
});

test('the contact panel shows past conversations and a note another agent added', async ({ browser }) => {
  const waId = await customerWrites('Morgan Memory', 'First question about my order');
  const page = await agentPage(browser);
  const conversationId = await openAndGetId(page, 'Morgan Memory');
  await ben.mutate('conversations.resolve', { conversationId });
  // The customer writes again: the resolved cycle is a past conversation now.
  await customerWrites('Morgan Memory', 'Back again with a second question', waId);
  await ben.mutate('contacts.addNote', {
    conversationId,
    noteId: `note-${Date.now()}`,
    text: 'Prefers to be called after 5 pm',
  });
  // Opened again after the note: the panel reads the contact's notes when it opens.
  await page.goto('/');
  await openConversation(page, 'Morgan Memory');
  const panel = page.locator('aside.contact-pane');
  await expect(panel.getByRole('heading', { name: 'Past conversations' })).toBeVisible();
  await expect(panel.locator('.past-conversations li')).toHaveCount(1);
  await expect(panel.locator('.past-conversations li')).toContainText('Resolved');
  const notes = panel.getByRole('list', { name: 'Contact notes' });
  await expect(notes.getByText('Prefers to be called after 5 pm')).toBeVisible();
  await expect(notes.getByText('Ben')).toBeVisible();
  await expect(panel.getByText(/WhatsApp · \+?1555888/)).toBeVisible();

  // Ana adds a note of her own.
  await panel.getByLabel('Add a note on this contact').fill('Spoke on the phone, all fine');
  await panel.getByRole('button', { name: 'Save note' }).click();
  await expect(notes.getByText('Spoke on the phone, all fine')).toBeVisible();
  await expect(notes.getByText('You')).toBeVisible();
  // Ben adds another while Ana's panel is open: it appears without a reload, a focus change or
  // the half-minute poll (the presence stream says the contact changed).
  await ben.mutate('contacts.addNote', {
    conversationId,
    noteId: `note-live-${Date.now()}`,
    text: 'Asked for the invoice by e-mail',
  });
  await expect(notes.getByText('Asked for the invoice by e-mail')).toBeVisible({ timeout: 10_000 });
  await panel.scrollIntoViewIfNeeded();
  await shot(page, 'contact-desktop');
  await expectNoAxeViolations(page, 'the conversation with its contact panel');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAxeViolations(page, 'the conversation with its contact panel, dark');
  await shot(page, 'contact-dark');
});

test('the contact drawer on a phone shows the notes and past conversations', async ({ browser }) => {
  const waId = await customerWrites('Robin Return', 'Hi, first time');
  const page = await agentPage(browser, PHONE);
  const conversationId = await openAndGetId(page, 'Robin Return');
  await ben.mutate('conversations.resolve', { conversationId });
  await customerWrites('Robin Return', 'Hi again', waId);
  await ben.mutate('contacts.addNote', {
    conversationId,
    noteId: `note-p-${Date.now()}`,
    text: 'Phone note',
  });
  await page.getByRole('button', { name: 'Contact details' }).click();
  const panel = page.locator('aside.contact-pane');
  await expect(panel.getByRole('list', { name: 'Contact notes' }).getByText('Phone note')).toBeVisible();
  await expect(panel.locator('.past-conversations li')).toHaveCount(1);
  expect(await overflowing(page, 'aside.contact-pane li')).toEqual([]);
  await shot(page, 'contact-phone');
  await expectNoAxeViolations(page, 'the contact drawer on a phone');
});
