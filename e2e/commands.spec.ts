import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import {
  ANA,
  expectNoAxeViolations,
  openConversation,
  sendReply,
  signIn,
  signInApi,
  waitForServiceWorkerControl,
} from './support/app';

const BEN = { tenantId: 'demo', email: 'ben@demo.parley.test', password: 'parley-demo-agent' };

interface ServerEvent {
  readonly version: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** The server's log of one conversation (through the admin's API session). */
async function serverEvents(request: APIRequestContext, conversationId: string): Promise<ServerEvent[]> {
  const events: ServerEvent[] = [];
  for (;;) {
    const input = encodeURIComponent(
      JSON.stringify({ conversationId, afterVersion: events.at(-1)?.version ?? 0 }),
    );
    const response = await request.get(`/trpc/conversations.get?input=${input}`);
    expect(response.ok()).toBe(true);
    const body = (await response.json()) as { result: { data: { events: ServerEvent[] } } };
    events.push(...body.result.data.events);
    if (body.result.data.events.length < 500) return events;
  }
}

/** What one agent command left in the log, in a form that is easy to compare. */
function summary(event: ServerEvent): string | null {
  const data = event.data;
  switch (event.type) {
    case 'ReplyQueued':
      return `reply ${(data.content as { text?: string }).text}`;
    case 'NoteAdded':
      return `note ${String(data.text)} @${(data.mentions as string[]).join(',')}`;
    case 'LabelAdded':
      return `+label ${String(data.label)}`;
    case 'LabelRemoved':
      return `-label ${String(data.label)}`;
    case 'PriorityChanged':
      return `priority ${String(data.priority)}`;
    case 'ConversationAssigned':
      return `assign ${String(data.agentId)}`;
    case 'ConversationUnassigned':
      return `unassign ${String(data.agentId)}`;
    case 'StatusChanged':
      return `status ${(data.status as { kind: string }).kind}`;
    default:
      return null;
  }
}

/** Waits until nothing of this page's outbox waits: no queued reply, no pending change. */
async function drained(page: Page): Promise<void> {
  await expect(page.locator('.message.reply[data-state="queued"]')).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: /queued/ })).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Waiting to sync' })).toHaveCount(0);
}

test.beforeEach(async ({ request }) => {
  await signInApi(request);
});

test('every command type queued offline, the page reloaded offline, then online: applied once, in order, on the server and on the other agent’s screen', async ({
  browser,
  request,
}) => {
  const prefix = `cmd-${Date.now()}`;
  const ana = await browser.newContext();
  const ben = await browser.newContext();
  try {
    const page = await ana.newPage();
    await page.goto('/');
    await signIn(page, ANA);
    await waitForServiceWorkerControl(page);
    await openConversation(page, 'Li Wei');
    const panel = page.getByRole('complementary', { name: 'Contact' });
    // The catalogue (agents for the assignee list) is on the device before going offline.
    await expect(panel.getByLabel('Assignee').locator('option', { hasText: 'Ben Agent' })).toHaveCount(1);
    // Opening it marked it read for Ana: a command like the others, sent at once while online.
    await expect
      .poll(async () =>
        (await serverEvents(request, 'demo-4')).some(
          (event) => event.type === 'ConversationRead' && event.data.agentId === 'ana',
        ),
      )
      .toBe(true);
    await drained(page);
    const before = (await serverEvents(request, 'demo-4')).at(-1)!.version;

    const other = await ben.newPage();
    await other.goto('/');
    await signIn(other, BEN);
    await openConversation(other, 'Li Wei');
    const otherPanel = other.getByRole('complementary', { name: 'Contact' });

    await ana.setOffline(true);
    // Every control works offline; none is disabled for want of a connection.
    await expect(page.getByText('needs a connection')).toHaveCount(0);
    await sendReply(page, `${prefix} reply`);
    await page.getByRole('button', { name: 'Private note' }).click();
    await page.getByRole('textbox', { name: 'Private note' }).fill(`${prefix} note for @ben`);
    await page.getByRole('button', { name: 'Add note' }).click();
    await expect(page.locator('.message.note', { hasText: `${prefix} note` })).toContainText('Pending');
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    for (const label of [`${prefix}-a`, `${prefix}-b`]) {
      await panel.getByLabel('New label').fill(label);
      await panel.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(panel.getByRole('list', { name: 'Labels' })).toContainText(label);
    }
    await panel.getByRole('button', { name: `Remove label ${prefix}-a` }).click();
    await panel.getByLabel('Priority').selectOption('urgent');
    const assignee = (await panel.getByLabel('Assignee').inputValue()) === 'ben' ? 'ana' : 'ben';
    await panel.getByLabel('Assignee').selectOption(assignee);
    await panel.getByRole('button', { name: 'Mark pending' }).click();
    await panel.getByRole('button', { name: 'In 1 hour' }).click();
    await expect(panel.getByTestId('conversation-status')).toContainText('snoozed until');
    await panel.getByRole('button', { name: 'Resolve' }).click();
    await panel.getByRole('button', { name: 'Reopen' }).click();
    await panel.getByRole('button', { name: 'Resolve' }).click();
    // Shown at once, marked pending.
    await expect(panel.getByTestId('conversation-status')).toHaveText('resolved');
    const waiting = panel.getByRole('region', { name: 'Waiting to sync' });
    await expect(waiting.locator('li[data-state="pending"]')).toHaveCount(10);
    await expectNoAxeViolations(page, 'contact panel with pending commands');

    await page.reload();
    await expect(page.getByRole('heading', { level: 2, name: 'Li Wei' })).toBeVisible();
    await expect(page.locator('.message.reply[data-state="queued"]', { hasText: prefix })).toHaveCount(1);
    await expect(page.locator('.message.note', { hasText: `${prefix} note` })).toContainText('Pending');
    await expect(waiting.locator('li[data-state="pending"]')).toHaveCount(10);
    await expect(panel.getByTestId('conversation-status')).toHaveText('resolved');
    await expect(panel.getByRole('list', { name: 'Labels' })).not.toContainText(`${prefix}-a`);

    await ana.setOffline(false);
    await drained(page);
    const expected = [
      `reply ${prefix} reply`,
      `note ${prefix} note for @ben @ben`,
      `+label ${prefix}-a`,
      `+label ${prefix}-b`,
      `-label ${prefix}-a`,
      'priority urgent',
      `assign ${assignee}`,
      'status pending',
      'status snoozed',
      'status resolved',
      'status open',
      'status resolved',
    ];
    await expect
      .poll(async () =>
        (await serverEvents(request, 'demo-4'))
          .filter((event) => event.version > before)
          .flatMap((event) => summary(event) ?? [])
          // The server's own rules (auto-assignment) may act after them: only ours are compared.
          .slice(0, expected.length),
      )
      .toEqual(expected);
    const ours = (await serverEvents(request, 'demo-4')).flatMap(
      (event) => summary(event)?.includes(prefix) ?? [],
    );
    expect(ours.filter(Boolean)).toHaveLength(5); // reply, note, two labels added, one removed: once each

    // Ben's screen shows all of it, through sync.
    await expect(otherPanel.getByTestId('conversation-status')).toHaveText('resolved');
    await expect(otherPanel.getByRole('list', { name: 'Labels' })).toContainText(`${prefix}-b`);
    await expect(otherPanel.getByRole('list', { name: 'Labels' })).not.toContainText(`${prefix}-a`);
    await expect(otherPanel.getByLabel('Priority')).toHaveValue('urgent');
    await expect(other.locator('.message.reply', { hasText: `${prefix} reply` })).toHaveCount(1);
    await expect(other.locator('.message.note', { hasText: `${prefix} note` })).toHaveCount(1);
    // And Ana's, once the server's events replaced the pending ones.
    await expect(page.locator('.message.note', { hasText: `${prefix} note` })).not.toContainText('Pending');

    // Leave the demo conversation open and unassigned for the other tests.
    await panel.getByRole('button', { name: 'Reopen' }).click();
    await panel.getByLabel('Assignee').selectOption('');
    await drained(page);
  } finally {
    await ana.close();
    await ben.close();
  }
});

test('a label left empty says what to do, and the message goes once a name is typed', async ({ page }) => {
  await page.goto('/');
  await signIn(page, ANA);
  await openConversation(page, 'Tom Baker');
  const panel = page.getByRole('complementary', { name: 'Contact' });
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(panel.getByText('Type a label name.')).toBeVisible();
  await panel.getByLabel('New label').fill('x');
  await expect(panel.getByText('Type a label name.')).toHaveCount(0);
});
