import { expect, test, type Browser, type Page } from '@playwright/test';
import { ADA, axeLightAndDark, signIn } from './support/app';
import { ApiSession } from './support/webhooks';

// #17, decision 0035: an admin invites someone from Settings › People, the invitee opens the link
// in a browser of their own, sets their name and password and is signed in; the admin deactivates
// them and their open app is signed out at once. Desktop and phone.

const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const PASSWORD = 'invitee password 1';
const BASE = `http://127.0.0.1:${process.env.PARLEY_E2E_PORT ?? 3199}`;

async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.PARLEY_PEOPLE_SHOTS;
  await page.screenshot({ path: dir ? `${dir}/${name}.png` : test.info().outputPath(`${name}.png`) });
}

async function adminOnPeople(browser: Browser, options: object): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto('/');
  await signIn(page, ADA);
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 3, name: 'People' })).toBeVisible();
  return page;
}

const people = (page: Page) => page.getByRole('region', { name: 'People' });

/** Invites an email as an agent from the People section and returns the link shown to copy. */
async function invite(page: Page, email: string): Promise<string> {
  const section = people(page);
  await section.getByLabel('Email').fill(email);
  await section.getByRole('combobox', { name: 'Role', exact: true }).selectOption('agent');
  await section.getByRole('button', { name: 'Create invitation link' }).click();
  const link = section.getByLabel(`Invitation link for ${email}`);
  await expect(link).toHaveValue(/\/invite#demo\./);
  return link.inputValue();
}

for (const [device, options] of [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const) {
  test(`${device}: an admin invites, the invitee accepts in a new browser and signs in, and deactivating signs them out at once`, async ({
    browser,
  }) => {
    const stamp = `${device}-${Date.now()}`;
    const email = `invitee-${stamp}@demo.parley.test`;
    const name = `Ivy ${device === 'phone' ? 'Phone' : 'Desk'}`;
    const admin = await adminOnPeople(browser, options);
    const section = people(admin);
    await section.scrollIntoViewIfNeeded();

    // Bad input first: an existing agent's email is refused with the rule's words, and nothing is created.
    await section.getByLabel('Email').fill('ana@demo.parley.test');
    await section.getByRole('button', { name: 'Create invitation link' }).click();
    await expect(section.getByRole('alert')).toContainText('already a member of this workspace');

    const url = await invite(admin, email);
    await expect(section.getByRole('list', { name: 'Invitations waiting' })).toContainText(email);
    await expect(section.getByRole('list', { name: 'Recent changes to people' })).toContainText(
      `Ada Admin invited ${email} as agent`,
    );
    await section.getByText('It works once and expires').scrollIntoViewIfNeeded();
    await shot(admin, `people-invite-${device}`);
    await axeLightAndDark(admin, '.people', `the People section (${device})`);

    // The invitee, in a browser of their own.
    const invitee = await (await browser.newContext(options)).newPage();
    await invitee.goto(url);
    await expect(invitee.getByRole('heading', { name: /^Join .+ on Parley$/ })).toBeVisible();
    await expect(invitee.getByLabel('Email')).toHaveValue(email);
    await invitee.getByLabel('Your name').fill(name);
    await invitee.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await invitee.getByLabel('Password again').fill(PASSWORD);
    await shot(invitee, `people-accept-${device}`);
    await axeLightAndDark(invitee, 'main', `the invitation page (${device})`);
    await invitee.getByRole('button', { name: 'Join and sign in' }).click();
    await expect(invitee).toHaveURL(/\/$/);
    await invitee.goto('/settings');
    await expect(invitee.getByRole('region', { name: 'Your profile' })).toContainText(name);
    await expect(invitee.getByRole('region', { name: 'Your profile' })).toContainText('Agent');

    // The link works once: opened again, it says so.
    const again = await (await browser.newContext(options)).newPage();
    await again.goto(url);
    await expect(again.getByRole('alert')).toContainText('already been used');

    // The admin sees them and deactivates them; their open app is signed out at once.
    await admin.reload();
    const row = people(admin)
      .getByRole('list', { name: 'People of this workspace' })
      .getByRole('listitem')
      .filter({ hasText: email });
    await expect(row).toContainText(name);
    await row.getByRole('button', { name: `Deactivate ${name}` }).click();
    const dialog = admin.getByRole('dialog', { name: `Deactivate ${name}?` });
    await expect(dialog).toBeVisible();
    await shot(admin, `people-deactivate-${device}`);
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await expect(people(admin).getByRole('status')).toContainText(
      `${name} is deactivated and signed out everywhere.`,
    );
    await expect(row).toContainText('Deactivated');
    await expect(people(admin).getByRole('list', { name: 'Recent changes to people' })).toContainText(
      `Ada Admin deactivated ${name}`,
    );

    await expect(invitee.getByRole('heading', { name: /Your session ended/ })).toBeVisible();
    await shot(invitee, `people-signed-out-${device}`);
    // And they cannot sign in again.
    await invitee.getByLabel('Password').fill(PASSWORD);
    await invitee.getByRole('button', { name: 'Sign in' }).click();
    await expect(invitee.getByRole('alert')).toContainText('The workspace, email or password is wrong.');

    // The last admin cannot be deactivated: a clear error, and nothing changes.
    const adaRow = people(admin)
      .getByRole('list', { name: 'People of this workspace' })
      .getByRole('listitem')
      .filter({ hasText: 'ada@demo.parley.test' });
    await adaRow.getByRole('button', { name: 'Deactivate Ada Admin' }).click();
    await admin
      .getByRole('dialog', { name: 'Deactivate Ada Admin?' })
      .getByRole('button', { name: 'Deactivate' })
      .click();
    await expect(people(admin).getByRole('alert')).toContainText('without an active admin');
    await expect(adaRow.getByRole('button', { name: 'Deactivate Ada Admin' })).toBeVisible();
    await people(admin).getByRole('alert').scrollIntoViewIfNeeded();
    await shot(admin, `people-last-admin-${device}`);
  });
}

test('a supervisor sees every inbox and the Reports figures, and neither the audit log nor People', async ({
  browser,
}) => {
  const account = { tenantId: 'demo', email: `sup-${Date.now()}@demo.parley.test`, password: PASSWORD };
  const admin = new ApiSession(BASE);
  await admin.signIn(ADA);
  await admin.mutate('admin.people.createAgent', { ...account, name: 'Sam Supervisor', role: 'supervisor' });

  const page = await (await browser.newContext(DESKTOP)).newPage();
  await page.goto('/');
  await signIn(page, account); // the demo's conversations: a member of no inbox, he sees them all
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Reports' })).toBeVisible();
  await expect(
    page.getByRole('navigation', { name: 'Reports' }).getByRole('link', { name: 'Audit log' }),
  ).toHaveCount(0);
  await nav.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('region', { name: 'Your profile' })).toContainText('Supervisor');
  await expect(page.getByRole('heading', { level: 3, name: 'People' })).toHaveCount(0);
  await page.context().close();
});
