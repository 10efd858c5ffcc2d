import { expect, test } from '@playwright/test';
import { ADA, expectNoAxeViolations, sendReply, signIn } from './support/app';

test('the fault panel: an outage makes a reply retry visibly; cleared, it is delivered', async ({ page }) => {
  const text = `through the outage ${Date.now()}`;
  await page.goto('/');
  await signIn(page, ADA);
  await page.getByRole('link', { name: 'Settings' }).click();
  const panel = page.getByRole('region', { name: 'Inject fault (developer)' });
  await expect(panel).toBeVisible();
  await expectNoAxeViolations(page, 'settings with the fault panel');

  // An outage on the WhatsApp simulator, for this workspace's WhatsApp channel.
  await panel.getByLabel('Simulator').selectOption('whatsapp');
  await panel.getByLabel('Outage (every call answers 503)').check();
  await panel.getByRole('button', { name: 'Apply faults' }).click();
  const whatsapp = panel.locator('tr[data-channel="whatsapp"]');
  await expect(whatsapp).toContainText('outage (503)');

  // A customer writes in on WhatsApp; the agent answers.
  await panel.getByLabel('Channel').selectOption({ label: 'WhatsApp +1 555 000 1234' });
  await panel.getByRole('button', { name: 'A customer writes in' }).click();
  await panel.getByRole('link', { name: 'Open the conversation' }).click();
  await expect(page.getByRole('textbox', { name: 'Reply' })).toBeVisible();
  await sendReply(page, text);
  const reply = page.locator('.message.reply', { hasText: text });
  await expect(reply).toHaveAttribute('data-state', 'sending');

  // The panel shows it retrying after the platform's 503s.
  await page.getByRole('link', { name: 'Settings' }).click();
  const row = panel.locator('table.outbox-state tbody tr').first();
  await expect(row).toContainText(/retrying in \d+ s/);
  await expect(row).toContainText('503');
  await expectNoAxeViolations(page, 'the fault panel while a reply retries');

  // Cleared: the next attempt goes through, and the agent sees it delivered.
  await panel.getByRole('button', { name: 'Clear all faults' }).click();
  await expect(whatsapp).toContainText('no faults');
  await expect(row).toHaveAttribute('data-status', 'sent', { timeout: 30_000 });
  await expect(whatsapp.locator('td[data-breaker]')).toHaveText(/^closed/);
  await row.getByRole('link').click();
  await expect(reply).toHaveAttribute('data-state', /sent|delivered|read/);
});
