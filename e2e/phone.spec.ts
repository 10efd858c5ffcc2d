import { expect, test, type Page } from '@playwright/test';
import { ADA, ANA, expectNoAxeViolations, listRow, openConversation, signIn } from './support/app';
import { ApiSession, webchatVisitorWrites } from './support/webhooks';

// #15 items 10 and 12: the phone layout an agent would choose (one pane at a time, bottom
// navigation, one-line header, closable drawers, 44 px targets, the composer above the keyboard,
// right-to-left text) and the dead ends (an agent's settings, the next person on a shared phone,
// a reply held up by a platform outage).

const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const ARABIC = { name: 'سارة أحمد', text: 'مرحبا، طلبي لم يصل بعد. هل يمكنكم مساعدتي من فضلكم؟' };

/** Visible elements that stick out of the screen sideways (outside anything meant to scroll or cut). */
async function sticksOut(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    if (document.documentElement.scrollWidth > width + 1) {
      found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    }
    const exempt = (element: Element) => {
      for (let at = element.parentElement; at && at !== document.body; at = at.parentElement) {
        const style = getComputedStyle(at);
        // A region that scrolls sideways on purpose, or a line that ends in an ellipsis.
        if (/auto|scroll/.test(style.overflowX) || style.textOverflow === 'ellipsis') return true;
        if (at.classList.contains('visually-hidden')) return true;
      }
      return false;
    };
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || exempt(element)) continue;
      if (box.left < -1 || box.right > width + 1) {
        found.push(
          `${element.tagName.toLowerCase()}.${Array.from(element.classList).join('.')} ${box.left}..${box.right}`,
        );
      }
    }
    return found;
  });
}

/** Rows of the conversation list whose content is wider than the row. */
async function overflowingRows(page: Page): Promise<string[]> {
  return page
    .getByTestId('conversation-list')
    .locator('a')
    .evaluateAll((links) =>
      links.filter((link) => link.scrollWidth > link.clientWidth + 1).map((link) => link.textContent ?? ''),
    );
}

/** Visible controls smaller than 44 x 44 px (a checkbox counts with its label). */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const selector =
      'button, select, textarea, input:not([type="hidden"]), .main-nav a, [role="button"], [role="tab"]';
    const found: string[] = [];
    for (const control of Array.from(document.querySelectorAll(selector))) {
      const target = control.matches('input[type="checkbox"], input[type="radio"]')
        ? (control.closest('label') ?? control)
        : control;
      const box = target.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || getComputedStyle(target).visibility === 'hidden') continue;
      if (target.closest('.visually-hidden')) continue;
      if (box.width < 43.5 || box.height < 43.5) {
        const name = (control.getAttribute('aria-label') ?? control.textContent ?? '').trim().slice(0, 30);
        found.push(
          `${control.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`,
        );
      }
    }
    return found;
  });
}

async function height(page: Page, selector: string): Promise<number> {
  return (await page.locator(selector).boundingBox())?.height ?? Infinity;
}

async function direction(page: Page, locator: ReturnType<Page['locator']>): Promise<string> {
  return locator.evaluate((element) => getComputedStyle(element).direction);
}

/** Axe in both colour schemes. */
async function axeLightAndDark(page: Page, screen: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await expectNoAxeViolations(page, `${screen} (light)`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAxeViolations(page, `${screen} (dark)`);
  await page.emulateMedia({ colorScheme: 'light' });
}

test.describe('on a phone (390 x 844, touch)', () => {
  test.use(PHONE);

  test('one-line header, bottom navigation, rows inside the screen, 44 px targets, Arabic right to left', async ({
    page,
  }) => {
    await webchatVisitorWrites(BASE, ARABIC);
    await page.goto('/');
    await signIn(page, ANA);

    expect(await height(page, '.topbar')).toBeLessThanOrEqual(56);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link')).toHaveText(['Inbox', 'Boards', 'Settings']);
    await expect(nav.getByRole('link', { name: 'Inbox' })).toHaveAttribute('aria-current', 'page');
    expect((await nav.boundingBox())!.y + (await nav.boundingBox())!.height).toBeCloseTo(844, 0);

    const row = page.getByRole('link', { name: new RegExp(ARABIC.name) });
    await expect(row).toBeVisible();
    expect(await direction(page, row.locator('.preview'))).toBe('rtl');
    expect(await direction(page, row.locator('.contact-name'))).toBe('rtl');
    expect(await overflowingRows(page)).toEqual([]);
    expect(await sticksOut(page)).toEqual([]);
    expect(await smallTargets(page)).toEqual([]);
    await axeLightAndDark(page, 'the inbox on a phone');
    // The filters leave the list room: status, team, inbox and sort wait behind one button.
    const firstRow = page.getByTestId('conversation-list').getByRole('link').first();
    expect((await firstRow.boundingBox())!.y).toBeLessThanOrEqual(260);
    const filters = page.getByRole('button', { name: 'Filters' });
    await expect(page.getByRole('combobox', { name: 'Status' })).toBeHidden();
    await filters.click();
    await expect(page.getByRole('combobox', { name: 'Status' })).toBeVisible();
    await page.getByRole('combobox', { name: 'Sort' }).selectOption('oldest');
    await expect(filters).toHaveText('Filters (1)');
    expect(await smallTargets(page)).toEqual([]);
    await axeLightAndDark(page, 'the inbox on a phone, filters open');
    await page.getByRole('combobox', { name: 'Sort' }).selectOption('newest');
    await filters.click();
    await expect(page.getByRole('combobox', { name: 'Status' })).toBeHidden();

    // The conversation has the screen to itself: no list, no bottom navigation, a one-line header.
    await row.click();
    await expect(page.getByRole('heading', { level: 2, name: ARABIC.name })).toBeVisible();
    await expect(page.getByRole('searchbox', { name: 'Search conversations' })).toBeHidden();
    await expect(nav).toBeHidden();
    expect(await height(page, '.conversation-header')).toBeLessThanOrEqual(56);
    const message = page.getByRole('list', { name: 'Messages' }).getByText(ARABIC.text);
    await expect(message).toBeVisible();
    expect(await direction(page, message)).toBe('rtl');
    await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeInViewport();
    expect(await sticksOut(page)).toEqual([]);
    expect(await smallTargets(page)).toEqual([]);
    await axeLightAndDark(page, 'a conversation on a phone');
  });

  test('the contact drawer closes by its button, a tap beside it, Esc (the conversation stays) and back', async ({
    page,
  }) => {
    await page.goto('/');
    await signIn(page, ANA);
    await openConversation(page, 'Tom Baker');
    const toggle = page.getByRole('button', { name: 'Contact details' });
    const drawer = page.getByRole('complementary', { name: 'Contact' });
    await expect(drawer).toBeHidden();

    await toggle.click();
    await expect(drawer).toBeVisible();
    await expect(drawer.getByRole('button', { name: 'Close contact details' })).toBeFocused();
    expect(await sticksOut(page)).toEqual([]);
    expect(await smallTargets(page)).toEqual([]);
    await axeLightAndDark(page, 'the contact drawer on a phone');
    await drawer.getByRole('button', { name: 'Close contact details' }).click();
    await expect(drawer).toBeHidden();
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');

    await toggle.click();
    await expect(drawer).toBeVisible();
    await page.touchscreen.tap(20, 420); // the dimmed strip beside the drawer
    await expect(drawer).toBeHidden();

    await toggle.click();
    await expect(drawer).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(drawer).toBeHidden();
    await expect(page.getByRole('heading', { level: 2, name: 'Tom Baker' })).toBeVisible();
    expect(new URL(page.url()).pathname).toMatch(/^\/c\//);

    // Android's back (the browser's back) closes the drawer first, then leaves the conversation.
    await toggle.click();
    await expect(drawer).toBeVisible();
    await page.goBack();
    await expect(drawer).toBeHidden();
    await expect(page.getByRole('heading', { level: 2, name: 'Tom Baker' })).toBeVisible();
    await page.goBack();
    await listRow(page, 'Tom Baker');
    expect(new URL(page.url()).pathname).toBe('/');
  });

  test('back returns to the list, by the app and by the browser; the board card opens as a sheet', async ({
    page,
  }) => {
    await page.goto('/');
    await signIn(page, ANA);
    await openConversation(page, 'Yuki Tanaka');
    await page.goBack();
    await listRow(page, 'Yuki Tanaka');
    await openConversation(page, 'Yuki Tanaka');
    await page.getByRole('button', { name: 'Back to inbox' }).click();
    await listRow(page, 'Yuki Tanaka');
    // The app's back went back in history: forward reaches the conversation again.
    await page.goForward();
    await expect(page.getByRole('heading', { level: 2, name: 'Yuki Tanaka' })).toBeVisible();
    // The composer's kind and tools sit in one row: the tools as named 44 px icon buttons.
    for (const name of ['Reply', 'Private note', 'Emoji', 'Canned /'])
      await expect(page.getByRole('button', { name, exact: true })).toBeVisible();
    await expect(page.locator('.composer-tools label.button')).toHaveCount(2); // Attach, Camera
    const tops = await page.locator('.composer-tools').evaluate((tools) =>
      Array.from(tools.querySelectorAll('button, label.button'))
        .map((tool) => tool.getBoundingClientRect())
        .filter((box) => box.width > 0)
        .map((box) => box.top),
    );
    expect(tops.length).toBeGreaterThanOrEqual(6);
    const widths = await page
      .locator('.composer')
      .evaluate((composer) => [composer.scrollWidth, composer.clientWidth]);
    expect(widths[0], 'the tools fit the composer without scrolling sideways').toBeLessThanOrEqual(
      widths[1]!,
    );
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThanOrEqual(4);
    expect(await smallTargets(page)).toEqual([]);
    expect(await sticksOut(page)).toEqual([]);
    await axeLightAndDark(page, 'the conversation on a phone');

    await page.goBack();
    await page.getByRole('link', { name: 'Boards' }).click();
    await page.getByRole('link', { name: 'Support' }).click();
    const card = page.locator('[data-card-id]').first();
    await card.click();
    const sheet = page.locator('.board-panel');
    await expect(sheet).toBeInViewport({ ratio: 1 });
    expect(await sticksOut(page)).toEqual([]);
    await axeLightAndDark(page, 'the board card sheet on a phone');
    await page.keyboard.press('Escape');
    await expect(sheet).toBeHidden();
    await card.click();
    await sheet.getByRole('button', { name: 'Close card' }).click();
    await expect(sheet).toBeHidden();
  });

  test('the composer and the search stay above the on-screen keyboard', async ({ page }) => {
    await page.goto('/');
    await signIn(page, ANA);
    // `interactive-widget=resizes-content`: the keyboard makes the page shorter; so does this.
    await page.getByRole('searchbox', { name: 'Search conversations' }).focus();
    await page.setViewportSize({ width: 390, height: 470 });
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
    await expect(page.getByRole('searchbox', { name: 'Search conversations' })).toBeInViewport({ ratio: 1 });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('searchbox', { name: 'Search conversations' }).blur();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();

    await openConversation(page, 'Li Wei');
    await page.getByRole('textbox', { name: 'Reply' }).focus();
    await page.setViewportSize({ width: 390, height: 470 });
    await expect(page.getByRole('textbox', { name: 'Reply' })).toBeInViewport({ ratio: 1 });
    await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeInViewport({ ratio: 1 });
    await expect(page.getByRole('heading', { level: 2, name: 'Li Wei' })).toBeInViewport();
  });

  test('after an admin signs out, an agent who signs in sees their own list and none of the admin’s draft', async ({
    page,
  }) => {
    const draft = `Ada's private draft ${Date.now()}`;
    await page.goto('/');
    await signIn(page, ADA);
    await openConversation(page, 'Maria Lopez');
    await page.getByRole('textbox', { name: 'Reply' }).fill(draft);
    await page.waitForTimeout(600); // the draft is stored 300 ms after typing stops
    await page.getByRole('button', { name: 'Back to inbox' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByRole('heading', { name: 'Inboxes' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The harder case: the admin keeps their copy on the device.
    await page.getByRole('button', { name: 'Sign out, keep on this device' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    expect(new URL(page.url()).pathname).toBe('/');

    await signIn(page, ANA); // waits for her list
    await listRow(page, 'Yuki Tanaka');
    await openConversation(page, 'Maria Lopez');
    await expect(page.getByRole('textbox', { name: 'Reply' })).toHaveValue('');
    await page.getByRole('button', { name: 'Back to inbox' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByText('ana@demo.parley.test')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Inboxes' })).toHaveCount(0);
  });
});

for (const [device, options] of [
  ['desktop', { viewport: { width: 1280, height: 800 } }],
  ['phone', PHONE],
] as const) {
  test.describe(`on a ${device}`, () => {
    test.use(options);

    test(`an agent opening /settings sees their profile, sign out and who sets the rest (${device})`, async ({
      page,
    }) => {
      await page.goto('/');
      await signIn(page, ANA);
      await page.goto('/settings');
      const settings = page.getByRole('region', { name: 'Settings' });
      await expect(settings.getByRole('heading', { name: 'Your profile' })).toBeVisible();
      await expect(settings.getByText('ana@demo.parley.test')).toBeVisible();
      // In the top bar on a desktop, in the profile on a phone: one, either way.
      await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
      await expect(settings.getByText(/set up by your workspace’s admins/)).toBeVisible();
      await expect(page.getByText('Choose a conversation')).toBeHidden();
      await expect(settings.getByRole('heading', { name: 'Inboxes' })).toHaveCount(0);
      expect(await sticksOut(page)).toEqual([]);
      await axeLightAndDark(page, `an agent's settings on a ${device}`);
    });
  });
}

test('during a WhatsApp outage the agent is told why a reply stays Sending; admins see the retry by contact', async ({
  page,
  browser,
}) => {
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  const { conversationId } = await admin.mutate<{ conversationId: string }>(
    'admin.channels.customerMessage',
    {
      channelId: 'whatsapp',
    },
  );
  const hint = page.getByText(
    'WhatsApp is not answering; Parley keeps retrying — your reply will go when it’s back.',
  );
  const text = `held up by the outage ${Date.now()}`;
  await admin.mutate('admin.channels.setFaults', { simulator: 'whatsapp', faults: { outage: true } });
  try {
    await page.goto('/');
    await signIn(page, ANA);
    await page.goto(`/c/${encodeURIComponent(conversationId)}`);
    const contact = (await page.locator('#conversation-heading').textContent()) ?? '';
    await page.getByRole('textbox', { name: 'Reply' }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const reply = page.locator('.message.reply', { hasText: text });
    await expect(reply).toHaveAttribute('data-state', 'sending');
    await expect(hint).toBeVisible();
    await expect(reply).toHaveAttribute('data-state', 'sending');
    await expectNoAxeViolations(page, 'a reply held up by an outage');

    const adminPage = await (await browser.newContext()).newPage();
    await adminPage.goto('/');
    await signIn(adminPage, ADA);
    await adminPage.getByRole('link', { name: 'Settings' }).click();
    const retrying = adminPage.locator('table.outbox-state tbody tr', { hasText: /retrying in/ }).first();
    await expect(retrying).toContainText(contact);
    await expect(retrying).toContainText('WhatsApp +1 555 000 1234');
    await expect(retrying).not.toContainText(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    await adminPage.context().close();
  } finally {
    await admin.mutate('admin.channels.clearFaults', {});
  }
  // Back: the reply goes, and the hint with it.
  await expect(page.locator('.message.reply', { hasText: text })).toHaveAttribute(
    'data-state',
    /sent|delivered|read/,
    { timeout: 45_000 },
  );
  await expect(hint).toBeHidden();
});
